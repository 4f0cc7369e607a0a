"""The organisation register over HTTP, as the admin uses it: the HMC's phone number reaches the
public pages, refused fields are shown next to the field with nothing written, and care units,
cost bearers and the calendar are kept with their history."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta

import pytest

from backend import db
from backend.workdays import add_working_days, today
from backend.workorders.service import DEFAULT_CLOCKS
from tests.support.factories import add_device, delete_world, device_token, make_world
from tests.support.http import new_client, post_form, signed_in_client

BASE = "/admin/organisation"


@pytest.fixture
async def world(database):
    world = await make_world()
    yield world
    await delete_world(world)


@pytest.fixture
async def admin(app, world):
    client = await signed_in_client(app, world.organisation, world.staff["admin"])
    yield client
    await client.aclose()


def all_clock_fields(**typed: str) -> dict:
    """The clock form as a browser sends it: every field, empty unless typed."""
    return {f"{t.value}_{key}": typed.get(f"{t.value}_{key}", "") for t in DEFAULT_CLOCKS for key in ("start", "finish")}


async def test_the_hmcs_new_phone_number_is_shown_on_the_public_fault_page(admin, app, world):
    token = await device_token(world, await add_device(world, holder=None))
    response = await post_form(admin, BASE, {"name": "Hjälpmedelscentrum Test", "phone": "021-17 30 00"})
    assert response.status_code == 303 and response.headers["location"] == f"{BASE}?klart=sparad"
    async with new_client(app) as anyone:  # a patient or relative who scanned the sticker
        public = await anyone.get(f"/f/{token}")
    assert public.status_code == 200
    assert "021-17 30 00" in public.text and "Hjälpmedelscentrum Test" in public.text
    page = await admin.get(f"{BASE}?klart=sparad")
    assert "Ändringen är sparad." in page.text
    assert re.search(r"<dt>Telefonnummer</dt>\s*<dd><del>021-10 00 00</del> → <ins>021-17 30 00</ins></dd>", page.text)


async def test_a_wrong_clock_is_shown_next_to_its_field_and_nothing_is_saved(admin, world):
    response = await post_form(admin, f"{BASE}/tidsgranser",
                               all_clock_fields(repair_hmc_start="2,5", repair_on_site_finish="2"))
    assert response.status_code == 400
    assert 'id="repair_hmc_start-error">Ange ett helt antal arbetsdagar, till exempel 3.' in response.text
    assert 'href="#repair_on_site_finish">Klar inom kan inte vara färre dagar än påbörjad inom (3 arbetsdagar).' in response.text
    assert re.search(r'id="repair_hmc_start"[^>]*value="2,5"', response.text)  # what was typed stays
    assert await db.fetchval("SELECT clocks FROM organisation WHERE id = $1", world.organisation) in ("{}", {})
    # A form without its fields (not from the page) is refused too.
    assert (await post_form(admin, f"{BASE}/tidsgranser", {"repair_hmc_start": "2"})).status_code == 400

    saved = await post_form(admin, f"{BASE}/tidsgranser", all_clock_fields(repair_hmc_start="2", repair_hmc_finish="6"))
    assert saved.status_code == 303
    page = await admin.get(f"{BASE}/tidsgranser")
    assert re.search(r'id="repair_hmc_finish"[^>]*value="6"', page.text)
    assert "Standard: 10 arbetsdagar" in page.text and "Eget värde" in page.text
    assert "AU på HMC: klar inom (arbetsdagar)" in page.text  # the history names the field


async def test_a_closed_day_is_added_listed_with_history_and_removed(admin, world):
    day = add_working_days(today(), 5)
    response = await post_form(admin, f"{BASE}/arbetstider/dagar",
                               {"day": day.isoformat(), "kind": "closed", "note": "Personaldag"})
    assert response.status_code == 303
    page = await admin.get(f"{BASE}/arbetstider")
    assert f"<td>{day.isoformat()}</td><td>Stängt</td><td>Personaldag</td>" in page.text
    assert f"<dt>{day.isoformat()}</dt>" in page.text  # the history
    again = await post_form(admin, f"{BASE}/arbetstider/dagar", {"day": day.isoformat(), "kind": "closed", "note": "x"})
    assert again.status_code == 400 and 'id="day-error"' in again.text
    day_id = await db.fetchval("SELECT id FROM calendar_day WHERE organisation = $1", world.organisation)
    assert (await post_form(admin, f"{BASE}/arbetstider/dagar/{day_id}/ta-bort")).status_code == 303
    assert "Inga avvikande dagar framåt." in (await admin.get(f"{BASE}/arbetstider")).text


async def test_opening_hours_refused_and_saved(admin, world):
    week = {f"hours_{d}_{w}": ("08:00" if w == "opens" else "16:30") if d <= 5 else ""
            for d in range(1, 8) for w in ("opens", "closes")}
    refused = await post_form(admin, f"{BASE}/arbetstider", {**week, "hours_3_closes": "07:00"})
    assert refused.status_code == 400 and 'id="hours_3_closes-error"' in refused.text
    assert await db.fetchval("SELECT count(*) FROM opening_hours WHERE organisation = $1", world.organisation) == 0
    saved = await post_form(admin, f"{BASE}/arbetstider", {**week, "hours_6_opens": "10:00", "hours_6_closes": "14:00"})
    assert saved.status_code == 303
    page = await admin.get(f"{BASE}/arbetstider")
    assert re.search(r'id="hours_6_opens"[^>]*value="10:00"', page.text)
    assert "<dt>Lördag</dt>" in page.text


async def test_a_care_unit_is_added_found_deactivated_and_no_longer_offered_for_invitations(admin, world):
    bad = await post_form(admin, f"{BASE}/vardenheter", {"name": "", "phone": "", "cost_bearer": ""})
    assert bad.status_code == 400
    assert 'id="name-error"' in bad.text and 'id="cost_bearer-error"' in bad.text
    response = await post_form(admin, f"{BASE}/vardenheter",
                               {"name": "Hemrehab Köping", "phone": "0221-250 00", "cost_bearer": str(world.cost_bearer)})
    assert response.status_code == 303
    unit = int(re.search(r"/vardenheter/(\d+)", response.headers["location"]).group(1))
    listed = await admin.get(f"{BASE}/vardenheter?sok=köping")
    assert f'href="{BASE}/vardenheter/{unit}">Hemrehab Köping</a>' in listed.text
    assert "Hemsjukvården Test" not in listed.text
    assert "Hemrehab Köping" in (await admin.get("/admin/inbjudningar")).text

    assert (await post_form(admin, f"{BASE}/vardenheter/{unit}/inaktivera")).status_code == 303
    page = await admin.get(f"{BASE}/vardenheter/{unit}")
    assert "Aktivera igen" in page.text and "Inaktiverad" in page.text
    assert "Hemrehab Köping" not in (await admin.get("/admin/inbjudningar")).text
    assert "Hemrehab Köping" not in (await admin.get(f"{BASE}/vardenheter")).text
    assert "Hemrehab Köping" in (await admin.get(f"{BASE}/vardenheter?status=inactive")).text


async def test_deleting_a_care_unit_with_history_is_refused_with_a_message(admin, world):
    response = await post_form(admin, f"{BASE}/vardenheter/{world.care_unit}/ta-bort")
    assert response.status_code == 400
    assert "Inaktivera den i stället." in response.text
    assert await db.fetchval("SELECT count(*) FROM care_unit WHERE id = $1", world.care_unit) == 1


async def test_a_cost_bearer_is_added_and_its_refusals_are_shown_by_field(admin, world):
    bad = await post_form(admin, f"{BASE}/kostnadsbarare", {"name": "Köpings kommun", "kind": "", "code": "19 83"})
    assert bad.status_code == 400 and 'id="kind-error"' in bad.text and 'id="code-error"' in bad.text
    assert 'value="Köpings kommun"' in bad.text
    response = await post_form(admin, f"{BASE}/kostnadsbarare",
                               {"name": "Köpings kommun", "kind": "municipality", "code": "1983"})
    assert response.status_code == 303
    listed = await admin.get(f"{BASE}/kostnadsbarare?sok=1983")
    assert "Köpings kommun" in listed.text and "Kommun" in listed.text and "Testkommun" not in listed.text


async def queries_for(client, url: str) -> int:
    await client.get(url)
    with db.counting_queries() as counted:
        response = await client.get(url)
        await asyncio.sleep(0)
    assert response.status_code == 200, response.text
    return counted[0]


async def test_the_care_unit_list_pages_with_a_fixed_number_of_queries(admin, world):
    few = await queries_for(admin, f"{BASE}/vardenheter")
    async with db.transaction():
        for n in range(60):
            await db.execute("INSERT INTO care_unit (organisation, cost_bearer, name) VALUES ($1, $2, $3)",
                             world.organisation, world.cost_bearer, f"Enhet {n:02d}")
    many = await queries_for(admin, f"{BASE}/vardenheter")
    assert few == many
    first = await admin.get(f"{BASE}/vardenheter?sok=enhet")
    assert "Enhet 49" in first.text and "Enhet 50" not in first.text and "sida=2" in first.text
    second = await admin.get(f"{BASE}/vardenheter?sok=enhet&sida=2")
    assert "Enhet 50" in second.text and "Enhet 59" in second.text and "Nästa" not in second.text
