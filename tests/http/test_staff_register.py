"""The staff register over HTTP: an admin sees their own organisation's people only, a change
goes through the page and into its history, a refusal stands next to its field, and
deactivating someone ends their session on their very next request."""

from __future__ import annotations

import asyncio
import re

import pytest

from backend import db
from tests.support.factories import add_staff, delete_world, make_world
from tests.support.http import post_form, signed_in_client


@pytest.fixture(scope="module")
async def world(database):
    world = await make_world()
    yield world
    await delete_world(world)


@pytest.fixture(scope="module")
async def other_world(database):
    world = await make_world("Grannregionen")
    world.stranger = await add_staff(world, "technician", name="Greta Grannregion")
    yield world
    await delete_world(world)


@pytest.fixture(scope="module")
async def admin(app, world):
    client = await signed_in_client(app, world.organisation, world.staff["admin"])
    yield client
    await client.aclose()


async def test_an_admins_register_shows_only_their_own_organisations_staff(admin, world, other_world):
    page = await admin.get("/admin/personal?status=all")
    assert page.status_code == 200
    for staff_id in world.staff.values():
        assert f'href="/admin/personal/{staff_id}"' in page.text
    assert "Greta Grannregion" not in page.text and "Grannregionen" not in page.text
    assert not any(f'href="/admin/personal/{i}"' in page.text for i in other_world.staff.values())
    # Nor can they open or change anyone of another organisation.
    assert (await admin.get(f"/admin/personal/{other_world.stranger}")).status_code == 404
    assert (await post_form(admin, f"/admin/personal/{other_world.stranger}/inaktivera")).status_code == 404
    assert (await post_form(admin, f"/admin/personal/{other_world.stranger}",
                            {"name": "Kapad", "role": "admin"})).status_code == 404
    assert await db.fetchrow("SELECT name, role, active FROM staff_user WHERE id = $1", other_world.stranger) == \
        ("Greta Grannregion", "technician", True)


async def test_the_list_shows_each_persons_role_in_swedish_and_filters_by_role_and_search(admin, world):
    page = await admin.get("/admin/personal?roll=prescriber")
    assert "Förskrivare" in page.text and "Hemsjukvården Test" in page.text and "Vårdcentralen Annan" in page.text
    assert f'href="/admin/personal/{world.staff["technician"]}"' not in page.text
    page = await admin.get("/admin/personal?sok=Olle")
    assert f'href="/admin/personal/{world.staff["other_prescriber"]}"' in page.text
    assert f'href="/admin/personal/{world.staff["prescriber"]}"' not in page.text


async def test_the_list_runs_as_many_queries_for_many_people_as_for_few(admin, world):
    async def queries() -> int:
        await admin.get("/admin/personal")
        with db.counting_queries() as counted:
            response = await admin.get("/admin/personal")
            await asyncio.sleep(0)
        assert response.status_code == 200
        return counted[0]

    few = await queries()
    for n in range(20):
        await add_staff(world, "prescriber", name=f"Många {n}")
    assert await queries() == few


async def test_a_change_of_role_is_saved_and_shown_in_the_persons_history(admin, world):
    person = await add_staff(world, "technician", name="Rolf Rollbyte")
    answer = await post_form(admin, f"/admin/personal/{person}",
                             {"name": "Rolf Rollbyte", "role": "consultant", "care_unit": "", "hsa_id": "se2321000016-42"})
    assert answer.status_code == 303 and answer.headers["location"] == f"/admin/personal/{person}?klart=sparad"
    page = await admin.get(answer.headers["location"])
    assert "Ändringarna är sparade." in page.text
    history = page.text.split('id="history-title"', 1)[1]
    assert "Ändrad" in history and "<del>Tekniker</del> → <ins>Konsulent</ins>" in history
    assert "<ins>SE2321000016-42</ins>" in history
    assert await db.fetchval("SELECT role FROM staff_user WHERE id = $1", person) == "consultant"


async def test_a_bad_hsa_id_is_refused_next_to_its_field_with_the_input_kept_and_nothing_written(admin, world):
    person = await add_staff(world, "technician", name="Hanna Hsa")
    answer = await post_form(admin, f"/admin/personal/{person}",
                             {"name": "Hanna Hsa", "role": "technician", "care_unit": "", "hsa_id": "SE12-3"})
    assert answer.status_code == 400
    assert re.search(r'<span class="field-error" id="hsa_id-error">Skriv HSA-id som SE2321000016-1234', answer.text)
    assert re.search(r'id="hsa_id" name="hsa_id" type="text" value="SE12-3"[^>]*aria-invalid="true"', answer.text)
    assert '<a href="#hsa_id">' in answer.text  # the error summary links to the field
    assert await db.fetchval("SELECT hsa_id FROM staff_user WHERE id = $1", person) is None
    assert await db.fetchval("SELECT count(*) FROM register_change WHERE register = 'staff' AND entity = $1",
                             person) == 0


async def test_an_admin_cannot_deactivate_themself_or_drop_their_own_admin_role(admin, world):
    me = world.staff["admin"]
    answer = await post_form(admin, f"/admin/personal/{me}/inaktivera")
    assert answer.status_code == 400 and "Du kan inte inaktivera dig själv." in answer.text
    answer = await post_form(admin, f"/admin/personal/{me}", {"name": "Test admin", "role": "coordinator"})
    assert answer.status_code == 400
    assert re.search(r'id="role-error">Du kan inte ta bort din egen administratörsroll', answer.text)
    assert await db.fetchrow("SELECT role, active FROM staff_user WHERE id = $1", me) == ("admin", True)


async def test_deactivating_ends_the_persons_session_on_their_next_request_and_reactivating_keeps_it_ended(
        app, admin, world):
    person = await add_staff(world, "technician", name="Dana Deaktiverad")
    technician = await signed_in_client(app, world.organisation, person)
    try:
        assert (await technician.get("/min-dag")).status_code == 200
        answer = await post_form(admin, f"/admin/personal/{person}/inaktivera")
        assert answer.status_code == 303
        assert "Alla personens inloggningar är avslutade." in (await admin.get(answer.headers["location"])).text
        gone = await technician.get("/min-dag")
        assert gone.status_code == 303 and gone.headers["location"].startswith("/logga-in")
        assert (await post_form(technician, "/konto/ny-enhet")).status_code == 401
        # No link for a new passkey while inactive.
        refused = await post_form(admin, f"/admin/personal/{person}/ny-passkey")
        assert refused.status_code == 400 and "Personen är inaktiverad" in refused.text
        assert (await post_form(admin, f"/admin/personal/{person}/aktivera")).status_code == 303
        assert (await technician.get("/min-dag")).status_code == 303  # signs in anew
        link = await post_form(admin, f"/admin/personal/{person}/ny-passkey")
        assert link.status_code == 200 and "/inbjudan/" in link.text
    finally:
        await technician.aclose()


async def test_a_person_page_lists_their_passkeys(app, admin, world):
    person = await add_staff(world, "consultant", name="Pia Passkey")
    client = await signed_in_client(app, world.organisation, person)  # registers a passkey
    await client.aclose()
    page = await admin.get(f"/admin/personal/{person}")
    passkeys = page.text.split('id="passkeys-title"', 1)[1].split("</table>", 1)[0]
    assert passkeys.count("<tr>") == 2 and "Passkey 1" in passkeys  # the header and the one passkey
    listing = await admin.get("/admin/personal?sok=Pia")
    assert re.search(r'<td class="num">1</td>', listing.text)
