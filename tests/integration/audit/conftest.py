"""A world of its own for each access-log test: the organisation, its people and patients, and
hand-built log rows (`read`) at the times a test names."""

from __future__ import annotations

from datetime import datetime

import pytest

from backend import db
from backend.accounts.service import Actor
from backend.accounts.tables import Role
from tests.support.factories import delete_world, make_world


@pytest.fixture
async def world(database):
    world = await make_world()
    yield world
    await delete_world(world)


def actor(world, role: str = "admin") -> Actor:
    return Actor(id=world.staff[role], organisation=world.organisation, name=f"Test {role}", role=Role(role),
                 care_unit=world.care_unit if role == "prescriber" else None)


async def read(world, staff: int, patient: int, at: datetime, *, what: str = "patient_record",
               role: str = "technician", care_unit: int | None = None) -> int:
    """One access-log row, as record_patient_reads writes it, at `at`."""
    return await db.fetchval(
        "INSERT INTO audit_log (organisation, staff_user, role, care_unit, patient, what, at) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        world.organisation, staff, role, care_unit, patient, what, at)
