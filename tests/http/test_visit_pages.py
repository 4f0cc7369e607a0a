"""The technician's day and visit over HTTP: fixed query counts, messages next to the field
with the input kept, photos, refusals per role, and conflicts."""

from __future__ import annotations

import asyncio
import io
import re
import uuid
from datetime import date

import pytest
from PIL import Image

from backend import db
from backend.maintenance import service as maintenance
from tests.support.factories import (
    add_device,
    add_patient,
    add_photo,
    add_work_order,
    delete_world,
    jpeg_bytes,
    make_world,
)
from tests.support.http import csrf, post_form, signed_in_client

CHECKLIST = [
    {"key": "brakes", "text": "Motorbromsar håller", "safety_critical": True, "measurement": None},
    {"key": "battery", "text": "Batterispänning i vila", "safety_critical": False,
     "measurement": {"unit": "V", "min": 23.0, "max": 26.5, "lowest": 0.0, "highest": 60.0}},
]


@pytest.fixture(scope="module")
async def world(database):
    world = await make_world()
    await maintenance.publish_checklist(world.category, CHECKLIST)
    world.patient = await add_patient(world)
    world.hidden = await add_patient(world, given="Hemlig", family="Person", street="Hemliga gatan 1",
                                     door_code="9999", protected=True)
    world.device = await add_device(world, holder=world.patient, individnummer="V000001")
    world.fu = await add_work_order(world, world.device, assignee=world.staff["technician"], planned=date.today(),
                                    type="maintenance", patient=world.patient)
    world.repair = await add_work_order(world, await add_device(world, holder=world.hidden), patient=world.hidden,
                                        assignee=world.staff["technician"], planned=date.today(), position=2)
    await db.execute("INSERT INTO article (organisation, article_number, name, manufacturer) "
                     "VALUES ($1, '900001', 'Batteri 12 V 50 Ah AGM', 'Permobil')", world.organisation)
    yield world
    await delete_world(world)


async def queries_for(client, url: str) -> int:
    await client.get(url)  # the session's first use after sign-in does its own book-keeping once
    with db.counting_queries() as counted:
        response = await client.get(url)
        await asyncio.sleep(0)
    assert response.status_code == 200, response.text
    return counted[0]


async def version_of(order: int) -> str:
    return str(await db.fetchval("SELECT version FROM work_order WHERE id = $1", order))


async def test_the_day_page_runs_the_same_number_of_queries_for_two_visits_as_for_ten(app, world, technician):
    day = date(2031, 3, 4)
    for n in range(2):
        await add_work_order(world, world.device, assignee=world.staff["technician"], planned=day, patient=world.patient,
                             position=n)
    few = await queries_for(technician, f"/min-dag?dag={day}")
    for n in range(8):
        await add_work_order(world, world.device, assignee=world.staff["technician"], planned=day,
                             patient=world.hidden if n % 2 else world.patient, position=n + 2)
    many = await queries_for(technician, f"/min-dag?dag={day}")
    # 6 for the list itself; the route's arrival times (routing.days: the technician's resources,
    # calendar and absences, the orders, the learned durations) add a fixed 7, however many visits.
    assert few == many <= 13


async def test_the_visit_page_runs_the_same_number_of_queries_whatever_its_size(app, world, technician):
    small = await add_work_order(world, await add_device(world, holder=world.patient), type="maintenance",
                                 assignee=world.staff["technician"], planned=date.today(), patient=world.patient)
    few = await queries_for(technician, f"/besok/{small}")
    # A long checklist, a full record and a long device history.
    big_items = [{"key": f"k{n}", "text": f"Punkt {n}", "safety_critical": n % 3 == 0, "measurement": None}
                 for n in range(25)]
    await maintenance.publish_checklist(world.category, big_items)
    device = await add_device(world, holder=world.patient)
    for _ in range(6):
        await add_work_order(world, device, status="completed", patient=world.patient)
    big = await add_work_order(world, device, type="maintenance", assignee=world.staff["technician"],
                               planned=date.today(), patient=world.patient)
    for n in range(25):
        await post_form(technician, f"/besok/{big}/checklista", {f"item-k{n}": "fail", f"item-k{n}-comment": "Sliten"})
    for _ in range(5):
        await post_form(technician, f"/besok/{big}/delar", {"article": "900001", "quantity": "1"})
        await post_form(technician, f"/besok/{big}/tid", {"minutes": "10"})
        await add_photo(world, big)
    many = await queries_for(technician, f"/besok/{big}")
    await maintenance.publish_checklist(world.category, CHECKLIST)  # back to the short list for other tests
    assert few == many <= 10


async def test_the_visit_shows_the_protected_address_that_the_day_list_hides(app, world, technician):
    day = await technician.get("/min-dag")
    assert "Hemliga gatan" not in day.text and "9999" not in day.text
    visit = await technician.get(f"/besok/{world.repair}")
    assert visit.status_code == 200
    assert "Hemliga gatan 1" in visit.text and "9999" in visit.text
    assert 'href="tel:' in visit.text and 'href="geo:' in visit.text
    audited = await db.fetchval("SELECT count(*) FROM audit_log WHERE staff_user = $1 AND patient = $2 AND what = 'visit'",
                                world.staff["technician"], world.hidden)
    assert audited >= 1


def field_error(html: str, field: str) -> str:
    """The message shown next to `field` (the element right after its label)."""
    match = re.search(rf'<span class="field-error" id="{re.escape(field)}-error">([^<]+)</span>', html)
    return match.group(1) if match else ""


@pytest.mark.parametrize("path, data, field, message", [
    ("delar", {"article": "123 · Finns inte", "quantity": "2"}, "article", "finns inte i reservdelslistan"),
    ("delar", {"article": "900001", "quantity": "-3"}, "quantity", "heltal från 1 till 999"),
    ("delar", {"article": "900001", "quantity": "två"}, "quantity", "heltal från 1 till 999"),
    ("tid", {"minutes": "0"}, "minutes", "mellan 1 och 1440"),
])
async def test_bad_input_is_shown_next_to_its_field_and_what_was_typed_stays(app, world, technician, path, data,
                                                                           field, message):
    before = await db.fetchval("SELECT count(*) FROM part_used WHERE work_order = $1", world.repair)
    response = await post_form(technician, f"/besok/{world.repair}/{path}", data)
    assert response.status_code == 400
    assert message in field_error(response.text, field)
    assert f'href="#{field}"' in response.text  # the error summary links to the field
    for value in data.values():
        assert f'value="{value}"' in response.text
    assert await db.fetchval("SELECT count(*) FROM part_used WHERE work_order = $1", world.repair) == before


async def test_an_impossible_measurement_is_refused_with_the_answers_kept(app, world, technician):
    response = await post_form(technician, f"/besok/{world.fu}/checklista", {
        "item-brakes": "fail", "item-brakes-comment": "Släpper", "item-battery": "pass", "item-battery-value": "240"})
    assert response.status_code == 400
    assert "inte möjligt" in field_error(response.text, "item-battery-value")
    assert 'value="240"' in response.text and 'value="Släpper"' in response.text
    assert await db.fetchval("SELECT count(*) FROM checklist_answer WHERE work_order = $1", world.fu) == 0


async def upload(client, order: int, content: bytes, name: str = "foto.jpg", kind: str = "image/jpeg"):
    return await client.post(f"/besok/{order}/foton", files={"photo": (name, content, kind)},
                             data={"caption": "Trasig broms", "_csrf_token": await csrf(client)})


async def test_a_photo_is_stored_and_shown_only_to_authorised_staff(app, world, technician):
    out = io.BytesIO()
    Image.new("RGB", (3000, 2000), (10, 120, 40)).save(out, format="JPEG")
    response = await upload(technician, world.repair, out.getvalue())
    assert response.status_code == 303, response.text
    photo = await db.fetchrow("SELECT id, width, height, caption FROM work_photo WHERE work_order = $1 "
                              "ORDER BY id DESC LIMIT 1", world.repair)
    assert (photo["width"], photo["height"], photo["caption"]) == (2048, 1365, "Trasig broms")
    shown = await technician.get(f"/foton/{photo['id']}")
    assert shown.status_code == 200 and shown.headers["content-type"] == "image/jpeg"
    assert "private" in shown.headers["cache-control"]
    for role, status in (("other_technician", 404), ("prescriber", 403), ("coordinator", 200)):
        client = await signed_in_client(app, world.organisation, world.staff[role])
        assert (await client.get(f"/foton/{photo['id']}")).status_code == status, role
        await client.aclose()


@pytest.mark.parametrize("content, name, kind, message", [
    (b"%PDF-1.4 a document", "rapport.pdf", "application/pdf", "ingen bild"),
    (b"GIF89a" + b"\x00" * 40, "bild.gif", "image/gif", "ingen bild"),
    (jpeg_bytes()[:200], "trasig.jpg", "image/jpeg", "ingen bild"),
    (b"\xff\xd8" + b"\x00" * (8 * 1024 * 1024 + 10), "stor.jpg", "image/jpeg", "för stor"),
])
async def test_a_wrong_or_oversize_photo_is_refused_next_to_the_field(app, world, technician, content, name, kind,
                                                                     message):
    before = await db.fetchval("SELECT count(*) FROM work_photo WHERE work_order = $1", world.repair)
    response = await upload(technician, world.repair, content, name, kind)
    assert response.status_code == 400
    assert message in field_error(response.text, "photo")
    assert 'value="Trasig broms"' in response.text
    assert await db.fetchval("SELECT count(*) FROM work_photo WHERE work_order = $1", world.repair) == before


async def test_a_photo_too_large_to_read_leads_back_to_the_visit_with_the_message_at_the_field(world, technician):
    before = await db.fetchval("SELECT count(*) FROM work_photo WHERE work_order = $1", world.repair)
    huge = b"\xff\xd8" + b"\x00" * (12 * 1024 * 1024)  # beyond what the server reads at all

    response = await upload(technician, world.repair, huge)

    assert response.status_code == 303
    page = await technician.get(response.headers["location"])
    assert "större än 8 MB och kunde inte tas emot" in field_error(page.text, "photo")
    assert await db.fetchval("SELECT count(*) FROM work_photo WHERE work_order = $1", world.repair) == before
    # From the outbox (a keyed write) it stays a refusal, never mistaken for a saved photo.
    keyed = await technician.post(f"/besok/{world.repair}/foton", files={"photo": ("stor.jpg", huge, "image/jpeg")},
                                  headers={"idempotency-key": str(uuid.uuid4()), "x-csrftoken": await csrf(technician),
                                           "accept": "application/json"})
    assert keyed.status_code == 413


async def test_a_technician_cannot_complete_someone_elses_visit(app, world):
    other = await signed_in_client(app, world.organisation, world.staff["other_technician"])
    assert (await other.get(f"/besok/{world.repair}")).status_code == 404
    response = await post_form(other, f"/besok/{world.repair}/slutfor",
                               {"version": await version_of(world.repair), "outcome": "fixed"})
    assert response.status_code == 403
    assert "inte tilldelat dig" in response.text
    assert "<dt>Resultat</dt><dd>Åtgärdat</dd>" in response.text  # what they sent is shown back, in words
    assert await db.fetchval("SELECT status FROM work_order WHERE id = $1", world.repair) != "completed"
    await other.aclose()


async def test_a_change_someone_else_made_first_is_a_clear_409_that_keeps_the_input(app, world, technician):
    coordinator = await signed_in_client(app, world.organisation, world.staff["coordinator"])
    seen = await version_of(world.repair)
    planned = await post_form(coordinator, f"/arbetsordrar/{world.repair}/planera", {
        "version": seen, "technician": str(world.staff["technician"]), "day": date.today().isoformat(),
        "window_start": "13:00", "window_end": "15:00"})
    assert planned.status_code == 303
    response = await post_form(technician, f"/besok/{world.repair}/ej-utford", {
        "version": seen, "reason": "not_home", "message_to_orderer": "Ingen öppnade"})
    assert response.status_code == 409
    assert "har ändrats av Test coordinator" in response.text
    assert "Ingen öppnade" in response.text
    assert await db.fetchval("SELECT status FROM work_order WHERE id = $1", world.repair) == "planned"
    stale = await post_form(coordinator, f"/arbetsordrar/{world.repair}/makulera", {"version": seen, "reason": "Dubblett"})
    assert stale.status_code == 409 and 'value="Dubblett"' in stale.text
    await coordinator.aclose()


async def test_the_coordinator_sees_the_order_the_technician_returned(app, world, technician):
    order = await add_work_order(world, world.device, assignee=world.staff["technician"], planned=date.today(),
                                 patient=world.patient, position=9)
    response = await post_form(technician, f"/besok/{order}/ej-utford", {
        "version": await version_of(order), "reason": "unreachable", "detail": "Ringde 3 gånger",
        "message_to_orderer": "Vi når inte brukaren på telefon."})
    assert response.status_code == 303
    coordinator = await signed_in_client(app, world.organisation, world.staff["coordinator"])
    board = await coordinator.get("/arbetsordrar?status=not_completed")
    assert f'href="/arbetsordrar/{order}"' in board.text
    page = await coordinator.get(f"/arbetsordrar/{order}")
    assert "Gick inte att nå brukaren" in page.text and "Vi når inte brukaren på telefon." in page.text
    cancelled = await post_form(coordinator, f"/arbetsordrar/{order}/makulera",
                                {"version": await version_of(order), "reason": "Brukaren ej anträffbar"})
    assert cancelled.status_code == 303
    assert await db.fetchval("SELECT status FROM work_order WHERE id = $1", order) == "cancelled"
    await coordinator.aclose()
