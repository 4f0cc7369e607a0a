"""A world to export: a patient in the world's care unit and one in another unit, an FU done
with one item failed, a repair done with parts, time and a report, an open FU order and a
device in the depot; and another organisation with an order and a device of its own."""

from __future__ import annotations

from datetime import date, timedelta
from types import SimpleNamespace

import pytest

from backend import db
from backend.accounts.service import Actor
from backend.accounts.tables import Role
from backend.maintenance import service as maintenance
from backend.maintenance.service import Answer
from backend.visits import service as visits
from tests.support.factories import add_device, add_patient, add_work_order, delete_world, make_world

CHECKLIST = [
    {"key": "frame", "text": "Ram och sits hela", "safety_critical": False, "measurement": None},
    {"key": "brakes", "text": "Motorbromsar håller", "safety_critical": True, "measurement": None},
    {"key": "wheels", "text": "Däck och hjul utan skador", "safety_critical": False, "measurement": None},
]


def actor(world, role: str) -> Actor:
    return Actor(id=world.staff[role], organisation=world.organisation, name=f"Test {role}", role=Role(role),
                 care_unit=world.care_unit if role == "prescriber" else None)


async def version_of(order_id: int) -> int:
    return await db.fetchval("SELECT version FROM work_order WHERE id = $1", order_id)


@pytest.fixture(scope="module")
async def world(database):
    world = await make_world()
    await maintenance.publish_checklist(world.category, CHECKLIST)
    tech = actor(world, "technician")
    world.patient = await add_patient(world, given="Greta", family="Exportsson")
    world.other_unit_patient = await add_patient(world, given="Olof", family="Annanenhet",
                                                 care_unit=world.other_care_unit)
    world.fu_device = await add_device(world, holder=world.patient, individnummer="E000001")
    world.repair_device = await add_device(world, holder=world.other_unit_patient, individnummer="E000002")
    world.depot_device = await add_device(world, holder=None, individnummer="E000003")
    await db.execute("UPDATE device SET owner = NULL, udi = '(01)07350012345678(21)AB1', next_fu_date = $2 "
                     "WHERE id = $1", world.depot_device, date.today() - timedelta(days=10))
    await db.execute("INSERT INTO article (organisation, article_number, name, manufacturer) "
                     "VALUES ($1, 'RD-77', 'Batteri 12 V', 'Exide')", world.organisation)

    world.fu = await add_work_order(world, world.fu_device, assignee=tech.id, planned=date.today(),
                                    type="maintenance", patient=world.patient, description="Årlig FU")
    version = await visits.start_visit(tech, world.fu, await version_of(world.fu))
    await visits.save_checklist(tech, world.fu, [Answer("frame", "fail", comment="Spricka"),
                                                 Answer("brakes", "pass"), Answer("wheels", "pass")])
    await visits.complete_visit(tech, world.fu, await version_of(world.fu), None)

    world.repair = await add_work_order(world, world.repair_device, assignee=tech.id, planned=date.today(),
                                        patient=world.other_unit_patient, position=2)
    await visits.start_visit(tech, world.repair, await version_of(world.repair))
    await visits.add_part(tech, world.repair, "RD-77", 2)
    await visits.add_time(tech, world.repair, 30)
    await visits.add_time(tech, world.repair, 15)
    await visits.add_report(tech, world.repair, visits.RepairReport("=Glapp i kontakten", "Bytt kontakt"))
    await visits.complete_visit(tech, world.repair, await version_of(world.repair), "fixed")

    world.open_fu = await add_work_order(world, world.depot_device, assignee=world.staff["other_technician"],
                                         planned=date.today() + timedelta(days=3), type="maintenance")

    other = await make_world("Andra regionen")
    other_device = await add_device(other, holder=await add_patient(other, given="Främling"), individnummer="X000009")
    await add_work_order(other, other_device, assignee=other.staff["technician"], planned=date.today(),
                         patient=other.patients[0])
    world.other = other
    yield world
    await delete_world(other)
    await delete_world(world)


@pytest.fixture
async def numbers(world):
    rows = await db.fetch("SELECT id, number FROM work_order WHERE organisation = $1", world.organisation)
    return SimpleNamespace(**{name: next(r["number"] for r in rows if r["id"] == getattr(world, name))
                              for name in ("fu", "repair", "open_fu")})
