"""An order answers the version of its category's checklist that was published when it was made:
never a draft, never a later version; one made before any version answers the oldest; answers
already given keep their own version. Reading it is one query, on the visit page too."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta, timezone

import pytest

from backend import db
from backend.accounts.service import Actor
from backend.accounts.tables import Role
from backend.maintenance import service as maintenance
from backend.maintenance.service import Answer, ItemFields
from backend.visits import service as visits
from backend.workorders import service as workorders
from tests.support.factories import add_device, add_patient, add_work_order, delete_world, make_world


def item(key: str, text: str) -> dict:
    return {"key": key, "text": text, "safety_critical": False, "measurement": None}


def staff(world, role: str) -> Actor:
    return Actor(id=world.staff[role], organisation=world.organisation, name=f"Test {role}", role=Role(role),
                 care_unit=None)


@pytest.fixture
async def world(database):
    world = await make_world()
    world.patient = await add_patient(world)
    world.device = await add_device(world, holder=world.patient)
    yield world
    await delete_world(world)


async def fu_order(world) -> int:
    return await add_work_order(world, world.device, assignee=world.staff["technician"], planned=date.today(),
                                type="maintenance", patient=world.patient, description="Årlig FU")


async def version_of(order: int) -> int | None:
    checklist = await maintenance.checklist_for_order(order)
    return checklist.version if checklist else None


async def test_an_order_answers_the_version_published_when_it_was_made_never_a_later_one(world):
    await maintenance.publish_checklist(world.category, [item("frame", "Ram hel")])
    first = await fu_order(world)
    await maintenance.publish_checklist(world.category, [item("frame", "Ram och sits hela")])
    second = await fu_order(world)
    assert await version_of(first) == 1
    assert await version_of(second) == 2
    assert (await maintenance.checklist_for_order(first)).item("frame").text == "Ram hel"


async def test_a_draft_is_never_what_an_order_answers(world):
    published = await maintenance.publish_checklist(world.category, [item("frame", "Ram hel")])
    draft = await maintenance.start_draft(staff(world, "admin"), published.id)
    page = await maintenance.version_page(world.organisation, draft)
    await maintenance.add_item(staff(world, "admin"), draft, page.revision, ItemFields(text="Nytt", kind="check"))
    after_draft = await fu_order(world)
    assert await version_of(after_draft) == 1
    assert await maintenance.current_checklist(world.category) == published


async def test_an_order_made_before_any_version_was_published_answers_the_oldest(world):
    received = datetime.now(timezone.utc) - timedelta(days=3)
    order = (await workorders.create_work_order(organisation_id=world.organisation, type="maintenance",
                                                device_id=world.device, description="Årlig FU", channel="generated",
                                                received_at=received))["id"]
    assert await version_of(order) is None  # no checklist yet
    await maintenance.publish_checklist(world.category, [item("frame", "Ram hel")])
    await maintenance.publish_checklist(world.category, [item("frame", "Ram och sits hela")])
    assert await version_of(order) == 1


async def test_answers_keep_the_version_they_were_given_against(world):
    await maintenance.publish_checklist(world.category, [item("frame", "Ram hel")])
    order = await fu_order(world)
    tech = staff(world, "technician")
    await visits.start_visit(tech, order, await db.fetchval("SELECT version FROM work_order WHERE id = $1", order))
    await visits.save_checklist(tech, order, [Answer("frame", "pass")])
    # Even an order that would answer the newer version by its date keeps the version it answered.
    await db.execute("UPDATE work_order SET received_at = now() + interval '1 day' WHERE id = $1", order)
    await maintenance.publish_checklist(world.category, [item("frame2", "Annat")])
    assert await version_of(order) == 1


async def test_another_lists_versions_are_not_the_orders(world):
    await maintenance.publish_checklist(world.category, [item("frame", "Ram hel")])
    await maintenance.publish_checklist(world.category, [item("fabric", "Tyget helt")], code="sele", name="Selkontroll")
    order = await fu_order(world)
    checklist = await maintenance.checklist_for_order(order)
    assert (checklist.code, checklist.version, checklist.item("frame") is not None) == ("fu", 1, True)


async def test_the_checklist_of_an_order_is_one_query_and_the_visit_page_shows_the_same_version(world):
    await maintenance.publish_checklist(world.category, [item("frame", "Ram hel")])
    order = await fu_order(world)
    await maintenance.publish_checklist(world.category, [item("frame", "Ram och sits hela")])
    await maintenance.checklist_for_order(order)
    with db.counting_queries() as counted:
        await maintenance.checklist_for_order(order)
        await asyncio.sleep(0)
    assert counted[0] == 1
    page = await visits.visit(staff(world, "technician"), order)
    assert page["checklist"].version == 1 and page["checklist"].item("frame").text == "Ram hel"
