"""A world with a technician's visits: an FU on a powered wheelchair with a short checklist,
and a repair, both assigned to the technician for today."""

from __future__ import annotations

from datetime import date

import pytest

from backend.accounts.service import Actor
from backend.accounts.tables import Role
from backend.maintenance import service as maintenance
from tests.support.factories import add_device, add_patient, add_work_order, delete_world, make_world

CHECKLIST = [
    {"key": "frame", "text": "Ram och sits hela", "safety_critical": False, "measurement": None},
    {"key": "brakes", "text": "Motorbromsar håller", "safety_critical": True, "measurement": None},
    {"key": "battery", "text": "Batterispänning i vila", "safety_critical": False,
     "measurement": {"unit": "V", "min": 23.0, "max": 26.5, "lowest": 0.0, "highest": 60.0}},
]


def actor(world, role: str = "technician") -> Actor:
    staff = world.staff[role]
    return Actor(id=staff, organisation=world.organisation, name=f"Test {role}", role=Role(role.split("_")[-1]),
                 care_unit=world.care_unit if role == "prescriber" else None)


@pytest.fixture
async def world(database):
    world = await make_world()
    world.checklist = await maintenance.publish_checklist(world.category, CHECKLIST)
    world.patient = await add_patient(world)
    world.device = await add_device(world, holder=world.patient)
    world.fu = await add_work_order(world, world.device, assignee=world.staff["technician"], planned=date.today(),
                                    type="maintenance", patient=world.patient, description="Årlig FU")
    world.repair_device = await add_device(world, holder=world.patient)
    world.repair = await add_work_order(world, world.repair_device, assignee=world.staff["technician"],
                                        planned=date.today(), patient=world.patient, position=2)
    yield world
    await delete_world(world)
