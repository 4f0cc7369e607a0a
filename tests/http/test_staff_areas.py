"""A technician's area on the staff register's page: the municipalities as checkboxes, saved into
the history; a refusal stands next to the field with nothing written; other roles have no area."""

from __future__ import annotations

import pytest

from backend import db
from tests.support.factories import delete_world, make_world
from tests.support.http import post_form, signed_in_client


@pytest.fixture(scope="module")
async def world(database):
    world = await make_world()
    world.arboga = await db.fetchval(
        "INSERT INTO cost_bearer (organisation, name, kind, code) VALUES ($1, 'Arboga', 'municipality', $2) "
        "RETURNING id", world.organisation, f"A{world.organisation}")
    world.region = await db.fetchval(
        "INSERT INTO cost_bearer (organisation, name, kind, code) VALUES ($1, 'Region – Habilitering', 'region', $2) "
        "RETURNING id", world.organisation, f"R{world.organisation}")
    yield world
    await delete_world(world)


@pytest.fixture(scope="module")
async def admin(app, world):
    client = await signed_in_client(app, world.organisation, world.staff["admin"])
    yield client
    await client.aclose()


async def _areas(staff_id: int) -> list[int]:
    return [r["cost_bearer"] for r in await db.fetch(
        "SELECT cost_bearer FROM staff_area WHERE staff_user = $1 ORDER BY cost_bearer", staff_id)]


async def test_an_admin_sets_a_technicians_municipalities_and_sees_them_in_the_history(admin, world):
    tech = world.staff["technician"]
    page = await admin.get(f"/admin/personal/{tech}")
    assert page.status_code == 200
    assert f'name="areas" value="{world.arboga}"' in page.text and f'value="{world.cost_bearer}"' in page.text
    assert f'value="{world.region}"' not in page.text  # a region's unit is no municipality
    done = await post_form(admin, f"/admin/personal/{tech}/omraden",
                           {"areas": [str(world.arboga), str(world.cost_bearer)]})
    assert done.status_code == 303 and done.headers["location"] == f"/admin/personal/{tech}?klart=omraden"
    assert await _areas(tech) == sorted([world.arboga, world.cost_bearer])
    page = await admin.get(done.headers["location"])
    assert "Områdena är sparade." in page.text
    assert f'name="areas" value="{world.arboga}" checked' in page.text
    assert "Kommuner (område)" in page.text and "<ins>Arboga, Testkommun</ins>" in page.text


async def test_a_refused_choice_is_shown_at_the_field_and_changes_nothing(admin, world):
    tech = world.staff["other_technician"]
    for bad in ([str(world.region)], ["99999999999"], ["x"]):
        refused = await post_form(admin, f"/admin/personal/{tech}/omraden", {"areas": [str(world.arboga), *bad]})
        assert refused.status_code == 400
        assert 'id="areas-error">Välj bland kommunerna i listan.' in refused.text
        assert '<a href="#areas">' in refused.text
    assert await _areas(tech) == []


async def test_only_a_technician_has_an_area_section(admin, world):
    page = await admin.get(f"/admin/personal/{world.staff['coordinator']}")
    assert page.status_code == 200 and 'name="areas"' not in page.text
    refused = await post_form(admin, f"/admin/personal/{world.staff['coordinator']}/omraden",
                              {"areas": str(world.arboga)})
    assert refused.status_code == 400 and "Bara tekniker har områden" in refused.text
    assert await _areas(world.staff["coordinator"]) == []
