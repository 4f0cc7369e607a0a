"""A region of its own for the recall tests: units of one article with serial numbers, lots and
manufacturing dates set, at patients (one of them protected) and in the depot, and a second article
whose units no notice of the first names; removed again afterwards."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from backend import db
from backend.accounts.service import Actor
from backend.accounts.tables import Role
from backend.recalls.service import NoticeFields
from tests.support.factories import add_device, add_patient, delete_world, make_world


def actor(world, role: str = "coordinator") -> Actor:
    return Actor(id=world.staff[role], organisation=world.organisation, name=f"Test {role}", role=Role(role),
                 care_unit=None)


def notice(world, **overrides) -> NoticeFields:
    values = dict(title="Risk för brott i bromsvajer", manufacturer="Permobil", articles=(world.article,),
                  action="check", deadline=date.today() + timedelta(days=30), reference="FSN-2026-01",
                  serial_from="RX-000100", serial_to="RX-000199")
    return NoticeFields(**{**values, **overrides})


async def set_identity(device: int, serial: str, lot: str = "", made: date | None = None) -> None:
    await db.execute("UPDATE device SET serial_number = $2, lot_number = $3, manufacturing_date = $4 WHERE id = $1",
                     device, serial, lot, made)


@pytest.fixture
async def world(database):
    world = await make_world()
    world.patient = await add_patient(world)
    world.protected = await add_patient(world, given="Skyddad", family="Person", street="Hemliga gatan 9",
                                        phone="070-999 88 77", door_code="4321", protected=True)
    world.other_article = await db.fetchval(
        "INSERT INTO article (organisation, article_number, name, manufacturer, category) "
        "VALUES ($1, '100300', 'Permobil F5', 'Permobil', $2) RETURNING id", world.organisation, world.category)
    world.units = {}
    for number, holder, serial, lot, made in [
        ("R000001", world.patient, "RX-000100", "L1", date(2013, 1, 10)),   # first of the range, at a patient
        ("R000002", world.protected, "rx-000150", "L2", date(2013, 6, 1)),  # lower case, a protected patient
        ("R000003", None, "RX-000199", "L1", date(2014, 12, 31)),           # last of the range, in the depot
        ("R000004", None, "RX-000200", "L3", date(2015, 1, 1)),             # just after the range
        ("R000005", None, "RX-0000150", "L2", date(2013, 6, 1)),            # one digit too many
        ("R000006", None, "RY-000150", "L2", date(2013, 6, 1)),             # another prefix
        ("R000007", None, "", "", None),                                    # nothing known
    ]:
        unit = await add_device(world, holder=holder, individnummer=number)
        await set_identity(unit, serial, lot, made)
        world.units[number] = unit
    world.other_unit = await add_device(world, holder=None, individnummer="R000008")
    await db.execute("UPDATE device SET article = $2 WHERE id = $1", world.other_unit, world.other_article)
    await set_identity(world.other_unit, "RX-000150", "L1", date(2013, 6, 1))
    yield world
    await delete_world(world)
