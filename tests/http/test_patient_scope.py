"""Who sees which patient, that nobody sees another organisation, and that every read
of a patient's data leaves an audit row."""

from datetime import datetime

import pytest

from backend import db
from backend.web import STOCKHOLM
from tests.support.factories import add_device, add_patient, add_work_order, delete_world, make_world
from tests.support.http import post_form, signed_in_client
from tests.support.protected import assert_no_protected_details


@pytest.fixture(scope="module")
async def worlds(database):
    home, away = await make_world("Region Hem"), await make_world("Region Borta")
    today = datetime.now(STOCKHOLM).date()
    home.own = await add_patient(home, given="Greta", family="Egenenhet")
    home.foreign = await add_patient(home, care_unit=home.other_care_unit, given="Harald", family="Annanenhet")
    home.hidden = await add_patient(home, given="Ingrid", family="Skyddad", street="Hemliga gatan 7",
                                    door_code="9999", phone="070-777 66 55", protected=True)
    own_device = await add_device(home, home.own, "S000001")
    await add_device(home, home.foreign, "S000002")
    hidden_device = await add_device(home, home.hidden, "S000003")
    await add_work_order(home, own_device, assignee=home.staff["technician"], patient=home.own, planned=today)
    await add_work_order(home, hidden_device, assignee=home.staff["technician"], patient=home.hidden,
                         planned=today, position=2)
    away.patient = await add_patient(away, given="Johan", family="Bortaregion")
    await add_device(away, away.patient, "S000009")
    yield home, away
    await delete_world(home)
    await delete_world(away)


async def audit_rows(staff_id):
    return await db.fetch("SELECT patient, what, role, care_unit FROM audit_log WHERE staff_user = $1", staff_id)


async def test_prescriber_sees_only_their_own_units_patients(app, worlds):
    home, away = worlds
    client = await signed_in_client(app, home.organisation, home.staff["prescriber"])
    assert (await client.get(f"/patienter/{home.own}")).status_code == 200
    assert (await client.get(f"/patienter/{home.foreign}")).status_code == 404
    assert (await client.get(f"/patienter/{away.patient}")).status_code == 404
    found = await post_form(client, "/patienter/sok", {"q": "enhet"})
    assert "Egenenhet" in found.text and "Annanenhet" not in found.text
    rows = await audit_rows(home.staff["prescriber"])
    assert {(r["patient"], r["what"]) for r in rows} == {(home.own, "patient_record"), (home.own, "patient_search")}
    assert all(r["role"] == "prescriber" and r["care_unit"] == home.care_unit for r in rows)
    await client.aclose()


async def test_technician_sees_patients_on_their_assigned_work_only(app, worlds):
    home, _ = worlds
    client = await signed_in_client(app, home.organisation, home.staff["technician"])
    assert (await client.get(f"/patienter/{home.own}")).status_code == 200
    assert (await client.get(f"/patienter/{home.foreign}")).status_code == 404
    other = await signed_in_client(app, home.organisation, home.staff["other_technician"])
    assert (await other.get(f"/patienter/{home.own}")).status_code == 404
    # the device card names the holder only for those who may see the patient
    assert "Greta Egenenhet" in (await client.get("/enheter/S000001")).text
    card = await other.get("/enheter/S000001")
    assert card.status_code == 200 and "Greta" not in card.text and "Utlånad till en brukare" in card.text
    assert await audit_rows(home.staff["other_technician"]) == []
    await client.aclose()
    await other.aclose()


async def test_day_list_hides_a_protected_address_and_is_audited(app, worlds):
    home, _ = worlds
    client = await signed_in_client(app, home.organisation, home.staff["technician"])
    day = await client.get("/min-dag")
    assert day.status_code == 200
    assert "Björkvägen 12" in day.text  # an ordinary patient's address is there
    assert "Hemliga gatan" not in day.text and "9999" not in day.text
    await assert_no_protected_details(day.text, home.hidden)
    assert "Skyddade personuppgifter: adressen visas först" in day.text
    whats = {(r["patient"], r["what"]) for r in await audit_rows(home.staff["technician"])}
    assert {(home.own, "day_list"), (home.hidden, "day_list")} <= whats
    await client.aclose()


async def test_nobody_sees_another_organisations_devices_or_patients(app, worlds):
    home, away = worlds
    coordinator = await signed_in_client(app, home.organisation, home.staff["coordinator"])
    assert (await coordinator.get("/enheter/S000009")).status_code == 404
    assert (await coordinator.get(f"/patienter/{away.patient}")).status_code == 404
    found = await post_form(coordinator, "/patienter/sok", {"q": "Bortaregion"})
    assert "Johan" not in found.text
    board = await coordinator.get("/arbetsordrar")
    assert board.status_code == 200 and "S000009" not in board.text
    await coordinator.aclose()


async def test_bad_day_is_a_swedish_400(app, worlds):
    home, _ = worlds
    client = await signed_in_client(app, home.organisation, home.staff["technician"])
    response = await client.get("/min-dag?dag=igår")
    assert response.status_code == 400 and "2026-03-01" in response.text
    await client.aclose()


async def test_an_empty_day_points_to_the_next_day_with_visits(app, worlds):
    home, _ = worlds
    client = await signed_in_client(app, home.organisation, home.staff["technician"])
    today = datetime.now(STOCKHOLM).date()
    from datetime import timedelta

    earlier = (today - timedelta(days=3)).isoformat()
    page = await client.get(f"/min-dag?dag={earlier}")
    assert "Inga besök planerade" in page.text
    assert f"Nästa dag med besök: {today.isoformat()}" in page.text
    await client.aclose()


async def test_the_record_names_each_orders_type_and_status_in_words(app, worlds):
    home, _ = worlds
    client = await signed_in_client(app, home.organisation, home.staff["prescriber"])
    page = await client.get(f"/patienter/{home.own}")
    row = page.text.split("<tbody>", 1)[1].split("</tr>", 1)[0]
    assert "<td>Planerad</td>" in row and "AU hos brukare" in row
    assert "planned" not in row and "repair_on_site" not in row
    await client.aclose()
