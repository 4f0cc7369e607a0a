"""An FU order made by a schedule answers that schedule's checklist: a half-yearly sling check
shows the sling checklist, not the yearly service's, and its visit does not count as the yearly
service on the device (last_fu_date stays)."""

from __future__ import annotations

from datetime import date

import pytest

from backend import db
from backend.maintenance import service as maintenance
from backend.workorders import service as workorders
from tests.integration.maintenance.test_fu_due_list import add_fu_order, add_schedule, fu_schedule_of
from tests.support.factories import WHEELCHAIR_FU, add_device, add_patient, delete_world, make_world

SLING = [{"key": "seams", "text": "Sömmar hela", "kind": "pass_fail", "safety": True}]


@pytest.fixture
async def world(database):
    world = await make_world()
    await maintenance.publish_checklist(world.category, WHEELCHAIR_FU)
    await maintenance.publish_checklist(world.category, SLING, code="sling", name="Selkontroll")
    world.patient = await add_patient(world)
    world.device = await add_device(world, holder=world.patient)
    world.yearly = await fu_schedule_of(world)
    world.sling = await add_schedule(world, code="sling", interval=182)
    yield world
    await delete_world(world)


async def test_each_order_answers_its_own_schedules_checklist(world):
    yearly = await add_fu_order(world, world.device, schedule=world.yearly, status="new", due_on=date(2027, 1, 5))
    sling = await add_fu_order(world, world.device, schedule=world.sling, status="new", due_on=date(2027, 1, 5))
    without = await add_fu_order(world, world.device, schedule=None, status="new", due_on=date(2027, 2, 5))
    assert (await maintenance.checklist_for_order(sling)).code == "sling"
    assert [i.key for i in (await maintenance.checklist_for_order(sling)).items] == ["seams"]
    assert (await maintenance.checklist_for_order(yearly)).code == "fu"
    assert (await maintenance.checklist_for_order(without)).code == "fu"  # made before schedules: the yearly


async def test_the_lock_on_an_order_says_which_checklist_it_answers(world):
    from backend.accounts.service import Actor
    from backend.accounts.tables import Role

    sling = await add_fu_order(world, world.device, schedule=world.sling, status="new", due_on=date(2027, 1, 5))
    yearly = await add_fu_order(world, world.device, schedule=world.yearly, status="new", due_on=date(2027, 1, 5))
    actor = Actor(id=world.staff["coordinator"], organisation=world.organisation, name="K", role=Role.coordinator,
                  care_unit=None)
    async with db.transaction():
        assert (await workorders.lock_order(actor, sling, assigned=False))["checklist_code"] == "sling"
        assert (await workorders.lock_order(actor, yearly, assigned=False))["checklist_code"] == "fu"
