"""A region of its own for the device-register tests: a depot device, a lent one, a second
category and article, and actors of each role; removed again afterwards."""

from __future__ import annotations

import pytest

from backend import db
from backend.accounts.service import Actor
from backend.accounts.tables import Role
from tests.support.factories import add_device, add_patient, delete_world, make_world


def actor(world, role: str = "admin") -> Actor:
    return Actor(id=world.staff[role], organisation=world.organisation, name=f"Test {role}",
                 role=Role(role.split("_")[-1]),
                 care_unit=(world.other_care_unit if role == "other_prescriber" else world.care_unit)
                 if role.endswith("prescriber") else None)


@pytest.fixture
async def world(database):
    world = await make_world()
    world.patient = await add_patient(world)
    world.other_patient = await add_patient(world, care_unit=world.other_care_unit, given="Bertil", family="Ek")
    world.lent = await add_device(world, holder=world.patient, individnummer="L000001")
    world.depot = await add_device(world, holder=None, individnummer="D000001")
    world.lift_category = await db.fetchval(
        "INSERT INTO device_category (organisation, code, name, iso_code, expected_life_years) "
        "VALUES ($1, 'mobile_lift', 'Mobil lyft', '12 36 03', 8) RETURNING id", world.organisation)
    world.lift = await db.fetchval(
        "INSERT INTO article (organisation, article_number, name, manufacturer, category) "
        "VALUES ($1, '185671', 'Liko Viking M', 'Liko', $2) RETURNING id", world.organisation, world.lift_category)
    world.spare_part = await db.fetchval(
        "INSERT INTO article (organisation, article_number, name, manufacturer) "
        "VALUES ($1, '900001', 'Batteri 12 V', 'Permobil') RETURNING id", world.organisation)
    yield world
    await delete_world(world)
