"""Technician areas: the municipalities a technician covers, as FU production reads them (active
technicians only), the due list's filter expression, and the admin setting them with a history."""

from __future__ import annotations

import pytest

from backend import db
from backend.accounts import areas
from backend.accounts.service import AccountError, Actor, StaffNotFound
from backend.accounts.tables import Role
from backend.changes import service as changes
from backend.db import Sql, raw
from tests.support.factories import add_staff, delete_world, make_world


@pytest.fixture
async def world(database):
    world = await make_world()
    world.arboga = await _cost_bearer(world, "Arboga", "municipality")
    world.koping = await _cost_bearer(world, "Köping", "municipality")
    world.primary_care = await _cost_bearer(world, "Region – Primärvård", "region")
    yield world
    await delete_world(world)


async def _cost_bearer(world, name: str, kind: str) -> int:
    return await db.fetchval(
        "INSERT INTO cost_bearer (organisation, name, kind, code) VALUES ($1, $2, $3, $4) RETURNING id",
        world.organisation, name, kind, f"{name[:3]}{world.organisation}")


def admin(world) -> Actor:
    return Actor(id=world.staff["admin"], organisation=world.organisation, name="Anna Admin", role=Role.admin,
                 care_unit=None)


async def test_technicians_by_cost_bearer_lists_the_active_technicians_covering_each_municipality(world):
    tech, other = world.staff["technician"], world.staff["other_technician"]
    await areas.set_areas(admin(world), tech, [world.arboga, world.koping])
    await areas.set_areas(admin(world), other, [world.koping])
    assert await areas.technicians_by_cost_bearer(world.organisation) == {
        world.arboga: [tech], world.koping: sorted([tech, other])}
    # A deactivated technician, or one who is no longer a technician, is nobody's to assign to.
    await db.execute("UPDATE staff_user SET active = false WHERE id = $1", other)
    await db.execute("UPDATE staff_user SET role = 'coordinator' WHERE id = $1", tech)
    assert await areas.technicians_by_cost_bearer(world.organisation) == {}


async def test_setting_areas_replaces_them_and_is_in_the_persons_history(world):
    tech = world.staff["technician"]
    await areas.set_areas(admin(world), tech, [world.koping, world.arboga])
    await areas.set_areas(admin(world), tech, [world.koping, world.koping])
    assert [a["name"] for a in await areas.areas_of(world.organisation, tech)] == ["Köping"]
    await areas.set_areas(admin(world), tech, [world.koping])  # unchanged: nothing recorded
    await areas.set_areas(admin(world), tech, [])
    assert await areas.areas_of(world.organisation, tech) == []
    history = await changes.history(world.organisation, "staff", tech)
    assert [(c.action, c.actor_name, c.fields) for c in history] == [
        ("changed", "Anna Admin", {"areas": ("Köping", "")}),
        ("changed", "Anna Admin", {"areas": ("Arboga, Köping", "Köping")}),
        ("changed", "Anna Admin", {"areas": ("", "Arboga, Köping")}),
    ]


async def test_only_the_organisations_active_municipalities_may_be_chosen_and_nothing_is_written_otherwise(world):
    tech = world.staff["technician"]
    elsewhere = await make_world("Grannregionen")
    try:
        for refused in ([world.primary_care], [world.arboga, elsewhere.cost_bearer], [2_000_000_000]):
            with pytest.raises(AccountError) as error:
                await areas.set_areas(admin(world), tech, refused)
            assert error.value.field == "areas" and error.value.message == areas.UNKNOWN_MUNICIPALITY
    finally:
        await delete_world(elsewhere)
    await db.execute("UPDATE cost_bearer SET active = false WHERE id = $1", world.koping)
    with pytest.raises(AccountError):
        await areas.set_areas(admin(world), tech, [world.koping])
    assert await areas.areas_of(world.organisation, tech) == []
    assert await changes.history(world.organisation, "staff", tech) == []
    assert [m["name"] for m in await areas.municipalities(world.organisation)] == ["Arboga", "Testkommun"]


async def test_a_municipality_deactivated_since_stays_in_the_area_it_was_in(world):
    tech = world.staff["technician"]
    await areas.set_areas(admin(world), tech, [world.arboga, world.koping])
    await db.execute("UPDATE cost_bearer SET active = false WHERE id = $1", world.koping)
    await areas.set_areas(admin(world), tech, [world.koping])
    assert [a["id"] for a in await areas.areas_of(world.organisation, tech)] == [world.koping]


async def test_only_a_technician_of_the_organisation_has_an_area(world):
    with pytest.raises(AccountError) as error:
        await areas.set_areas(admin(world), world.staff["coordinator"], [world.arboga])
    assert error.value.message == areas.NOT_A_TECHNICIAN
    elsewhere = await make_world("Grannregionen")
    try:
        with pytest.raises(StaffNotFound):
            await areas.set_areas(admin(world), elsewhere.staff["technician"], [world.arboga])
    finally:
        await delete_world(elsewhere)
    assert await db.fetchval("SELECT count(*) FROM staff_area a JOIN staff_user u ON u.id = a.staff_user "
                             "WHERE u.organisation = $1", world.organisation) == 0


async def test_the_area_filter_tells_whether_a_technician_covers_a_cost_bearer(world):
    tech = world.staff["technician"]
    extra = await add_staff(world, "technician", name="Utan Område")
    await areas.set_areas(admin(world), tech, [world.arboga])
    covering = await db.fetch(Sql(
        "SELECT u.id, c.id AS bearer FROM staff_user u CROSS JOIN unnest(:bearers::int[]) c(id) "
        "WHERE u.id = ANY(:people::int[]) AND :covers ORDER BY 1, 2",
        bearers=[world.arboga, world.koping], people=[tech, extra],
        covers=areas.area_filter_sql(raw("u.id"), raw("c.id"))))
    assert [tuple(r) for r in covering] == [(tech, world.arboga)]
