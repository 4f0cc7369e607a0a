"""The public fault report over HTTP: the QR link, the form, the receipt and status page, and
what they must never do (say anything about the patient, take a report twice, take unlimited
reports). Then the coordinator's triage and label sheets, and the prescriber's order."""

from __future__ import annotations

import io
import re
import secrets
from contextlib import asynccontextmanager

import pytest
from PIL import Image

from backend import db
from backend.faults import service as faults
from tests.support.factories import (
    add_device,
    add_fault_report,
    add_patient,
    delete_world,
    device_token,
    make_world,
)
from tests.support.http import csrf, new_client, post_form, signed_in_client
from tests.support.qr import decode_svg

# A patient whose every detail is distinctive, so any leak is found by a plain search.
PATIENT = dict(given="Gunborg", family="Tjäderström", street="Vinkelgränd 77", door_code="4711#",
               phone="073-555 01 99")
ANSWERS = {"problems": ["no_drive", "charging"], "description": "Den piper och står still",
           "where_on_device": "Styrboxen till höger", "usable": "no", "can_bring_in": "no",
           "needs_replacement": "yes", "location": "usual", "contact_name": "Kim Anhörigsson",
           "contact_phone": "070-123 45 67", "call_times": "Vardagar efter 10"}
NO_FILE = ("", b"", "application/octet-stream")  # what a browser sends for an empty file input


@pytest.fixture(scope="module")
async def world(database):
    world = await make_world()
    world.patient = await add_patient(world, **PATIENT)
    world.device = await add_device(world, holder=world.patient, individnummer=f"F{secrets.randbelow(10**6):06d}")
    world.individnummer = await db.fetchval("SELECT individnummer FROM device WHERE id = $1", world.device)
    world.token = await device_token(world, world.device)
    world.personal_number = await db.fetchval("SELECT personal_number FROM patient WHERE id = $1", world.patient)
    yield world
    await delete_world(world)


@asynccontextmanager
async def signed_in(app, world, role: str):
    client = await signed_in_client(app, world.organisation, world.staff[role])
    try:
        yield client
    finally:
        await client.aclose()


def secrets_of(world) -> list[str]:
    return [PATIENT["given"], PATIENT["family"], PATIENT["street"], PATIENT["door_code"], PATIENT["phone"],
            world.personal_number, world.individnummer]


async def submit(client, token: str, answers: dict | None = None, *, submission: str | None = None,
                 photo: tuple = NO_FILE, **extra):
    # Each call a new report: the same answers again within the half hour are the first report.
    unique = {"call_times": f"{ANSWERS['call_times']} ({secrets.token_hex(4)})"}
    data = {**ANSWERS, **unique, **(answers or {}), **extra, "submission": submission or faults.new_token(),
            "_csrf_token": await csrf(client)}
    return await client.post(f"/f/{token}/anmal", data=data, files={"photo": photo})


def jpeg(size=(64, 48)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, format="JPEG")
    return out.getvalue()


async def test_the_qr_link_shows_the_category_self_checks_and_phone_only(app, world):
    async with new_client(app) as client:
        page = await client.get(f"/f/{world.token}")
    assert page.status_code == 200
    assert "Felanmälan: Elrullstol" in page.text
    assert "frikopplingsspaken" in page.text  # the powered wheelchair's self-checks
    assert "021-10 00 00" in page.text and 'href="tel:+4621100000"' in page.text
    assert f'href="/f/{world.token}/anmal"' in page.text
    for secret in secrets_of(world):
        assert secret not in page.text


async def test_unknown_malformed_and_replaced_tokens_get_the_same_404_page(app, world):
    other = await add_device(world, holder=None)
    old = await device_token(world, other)
    await faults.replace_device_token(world.organisation, await db.fetchval(
        "SELECT individnummer FROM device WHERE id = $1", other))
    async with new_client(app) as client:
        unknown = await client.get(f"/f/{faults.new_token()}")
        malformed = await client.get("/f/inte-en-kod")
        too_long = await client.get("/f/" + "A" * 200)
        replaced = await client.get(f"/f/{old}")
        status_unknown = await client.get(f"/arende/{faults.new_token()}")
        status_malformed = await client.get("/arende/x")
    for response in (unknown, malformed, too_long, replaced, status_unknown, status_malformed):
        assert response.status_code == 404
        assert response.text == unknown.text
    assert "Sidan finns inte" in unknown.text


async def test_staff_scanning_the_sticker_land_on_the_device_card(app, world):
    for role in ("technician", "consultant", "coordinator"):
        async with signed_in(app, world, role) as client:
            response = await client.get(f"/f/{world.token}")
            assert response.status_code == 302
            assert response.headers["location"] == f"/enheter/{world.individnummer}"


async def test_a_report_gives_a_receipt_with_a_case_number_and_a_private_status_link(app, world):
    async with new_client(app) as client:
        form = await client.get(f"/f/{world.token}/anmal")
        assert form.status_code == 200
        nonce = re.search(r'name="submission" value="([^"]+)"', form.text).group(1)
        assert faults.looks_like_token(nonce)
        sent = await submit(client, world.token, submission=nonce)
        assert sent.status_code == 303
        receipt_path = sent.headers["location"]
        status_token = re.fullmatch(r"/arende/([A-Za-z0-9_-]{22})/kvitto", receipt_path).group(1)
        assert status_token != world.token and status_token != nonce
        receipt = await client.get(receipt_path)
        status = await client.get(f"/arende/{status_token}")
    assert receipt.status_code == 200
    number = re.search(r"FA-\d{4}-\d{6}", receipt.text).group(0)
    assert f"http://localhost:8000/arende/{status_token}" in receipt.text
    assert status.status_code == 200 and number in status.text and "Status: Mottagen" in status.text
    assert status.headers["cache-control"] == "private, no-store"
    row = await db.fetchrow("SELECT * FROM fault_report WHERE status_token = $1", status_token)
    assert row["problems"] == ["no_drive", "charging"] and row["usable"] == "no" and row["at_usual_place"]
    assert row["contact_phone"] == "070-123 45 67" and row["number"] == number and row["status"] == "new"


async def test_a_phone_without_cookies_can_send_the_form_it_opened_long_ago(app, world):
    # No CSRF cookie, no session: the public form acts for nobody, and has no time limit.
    async with new_client(app) as phone:
        form = await phone.get(f"/f/{world.token}/anmal")
        nonce = re.search(r'name="submission" value="([^"]+)"', form.text).group(1)
        phone.cookies.clear()
        sent = await phone.post(f"/f/{world.token}/anmal", data={**ANSWERS, "submission": nonce},
                                files={"photo": NO_FILE})
    assert sent.status_code == 303


async def test_a_double_tap_or_resend_makes_one_case(app, world):
    nonce = faults.new_token()
    async with new_client(app) as client:
        first = await submit(client, world.token, submission=nonce)
        second = await submit(client, world.token, submission=nonce)
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"]
    assert await db.fetchval("SELECT count(*) FROM fault_report WHERE submission_key = $1", nonce) == 1


async def test_invalid_answers_come_back_with_swedish_messages_and_what_was_typed(app, world):
    before = await db.fetchval("SELECT count(*) FROM fault_report WHERE device = $1", world.device)
    async with new_client(app) as client:
        response = await submit(client, world.token, {"problems": [], "description": "", "usable": "",
                                                      "location": "other", "address": "",
                                                      "contact_phone": "ring mig"},
                                where_on_device="Vänster armstöd", contact_name="Kim Anhörigsson")
    assert response.status_code == 400
    page = response.text
    assert "Något behöver rättas" in page
    for field, message in [("problems", "Välj vad som är fel"), ("usable", "Svara på om hjälpmedlet går att använda"),
                           ("address", "Skriv adressen där hjälpmedlet står nu"),
                           ("contact_phone", "Skriv ett telefonnummer")]:
        assert re.search(rf'<a href="#{field}">{message}', page), field
        assert f'id="{field}-error"' in page
    assert 'value="Vänster armstöd"' in page and 'value="Kim Anhörigsson"' in page and 'value="ring mig"' in page
    assert re.search(r'value="other" id="location-other" checked', page)
    assert await db.fetchval("SELECT count(*) FROM fault_report WHERE device = $1", world.device) == before


async def test_a_photo_is_cleaned_and_a_non_image_is_refused_next_to_the_field(app, world):
    async with new_client(app) as client:
        refused = await submit(client, world.token, photo=("bild.jpg", b"not an image at all", "image/jpeg"))
        sent = await submit(client, world.token, photo=("bild.jpg", jpeg(), "image/jpeg"))
    assert refused.status_code == 400 and 'id="photo-error"' in refused.text
    assert sent.status_code == 303
    token = sent.headers["location"].split("/")[2]
    row = await db.fetchrow("SELECT photo, photo_content_type, photo_width FROM fault_report WHERE status_token = $1",
                            token)
    assert row["photo_content_type"] == "image/jpeg" and row["photo_width"] == 64
    assert Image.open(io.BytesIO(row["photo"])).format == "JPEG"


async def test_the_honeypot_field_stops_a_robot_and_nothing_is_saved(app, world):
    nonce = faults.new_token()
    async with new_client(app) as client:
        response = await submit(client, world.token, submission=nonce, webbplats="http://spam.example")
    assert response.status_code == 400
    assert await db.fetchval("SELECT count(*) FROM fault_report WHERE submission_key = $1", nonce) == 0


async def test_too_large_a_report_is_refused_before_it_is_read(app, world):
    async with new_client(app) as client:
        response = await submit(client, world.token, photo=("stor.jpg", b"\xff" * (9 * 1024 * 1024), "image/jpeg"))
    assert response.status_code == 413
    assert "För stor fil" in response.text


async def test_one_address_is_limited_with_a_swedish_429(app, world):
    async with new_client(app, client_host="127.77.0.1") as client:
        statuses = [(await client.get(f"/f/{world.token}")).status_code for _ in range(31)]
        limited = await client.get(f"/f/{world.token}")
    assert statuses[:30] == [200] * 30 and statuses[30] == 429
    assert limited.status_code == 429
    assert "För många försök" in limited.text and "Vänta en stund" in limited.text


async def test_one_sticker_is_limited_whatever_the_address(app, world, monkeypatch):
    monkeypatch.setattr(faults, "REPORTS_PER_TOKEN_PER_HOUR", 3)
    device = await add_device(world, holder=world.patient)
    token = await device_token(world, device)
    statuses = []
    for _ in range(4):
        async with new_client(app) as client:  # each from an address of its own
            statuses.append((await submit(client, token)).status_code)
    assert statuses == [303, 303, 303, 429]
    async with new_client(app) as client:
        refused = await submit(client, token)
    assert refused.status_code == 429
    assert "Många felanmälningar har kommit för det här hjälpmedlet" in refused.text
    assert await db.fetchval("SELECT count(*) FROM fault_report WHERE device = $1", device) == 3


async def test_no_public_response_says_anything_about_the_patient(app, world):
    """Every public page, at every stage, for a patient with a known name, address, door code and phone."""
    protected = await add_patient(world, given="Sigvard", family="Hemligsson", street="Dolda stigen 3",
                                  door_code="9090", phone="076-404 04 04", protected=True)
    device = await add_device(world, holder=protected)
    tokens = [world.token, await device_token(world, device)]
    known = secrets_of(world) + ["Sigvard", "Hemligsson", "Dolda stigen 3", "9090", "076-404 04 04",
                                 await db.fetchval("SELECT personal_number FROM patient WHERE id = $1", protected),
                                 await db.fetchval("SELECT individnummer FROM device WHERE id = $1", device)]
    responses = []
    async with new_client(app) as client, signed_in(app, world, "coordinator") as coordinator:
        for token in tokens:
            responses += [await client.get(f"/f/{token}"), await client.get(f"/f/{token}/anmal"),
                          await submit(client, token, {"usable": ""})]
            sent = await submit(client, token)
            responses.append(sent)
            status_token = sent.headers["location"].split("/")[2]
            responses += [await client.get(sent.headers["location"]), await client.get(f"/arende/{status_token}")]
            report = await db.fetchval("SELECT id FROM fault_report WHERE status_token = $1", status_token)
            if token == world.token:
                await post_form(coordinator, f"/felanmalningar/{report}/arbetsorder", {"type": "repair_on_site"})
                order = await db.fetchval("SELECT work_order FROM fault_report WHERE id = $1", report)
                await db.execute("UPDATE work_order SET status = 'planned', planned_date = current_date + 2 "
                                 "WHERE id = $1", order)
                responses.append(await client.get(f"/arende/{status_token}"))
                await db.execute("UPDATE work_order SET status = 'cancelled', cancelled_at = now(), "
                                 "cancel_reason = 'Gunborg Tjäderström avliden' WHERE id = $1", order)
            else:
                await post_form(coordinator, f"/felanmalningar/{report}/avsluta",
                                {"answer": "Felet åtgärdas vid nästa FU-besök."})
            responses.append(await client.get(f"/arende/{status_token}"))
        responses += [await client.get(f"/f/{faults.new_token()}"), await client.get("/arende/x")]
    assert len(responses) == 17
    for response in responses:
        visible = response.text + " ".join(f"{k}: {v}" for k, v in response.headers.items())
        for secret in known:
            assert secret not in visible, f"{secret!r} in {response.request.url.path}"
    assert "Status: Planerad" in responses[6].text and faults.CANCELLED_ANSWER in responses[7].text
    assert "Felet åtgärdas vid nästa FU-besök." in responses[14].text


# --- triage -----------------------------------------------------------------------------------


async def test_triage_reads_are_audit_logged_and_the_order_follows_to_the_status_page(app, world):
    report, status_token = await add_fault_report(world, world.device)
    async with signed_in(app, world, "coordinator") as coordinator, new_client(app) as public:
        queue = await coordinator.get("/felanmalningar")
        assert queue.status_code == 200 and f"/felanmalningar/{report}" in queue.text
        assert "Gunborg Tjäderström" in queue.text
        page = await coordinator.get(f"/felanmalningar/{report}")
        assert page.status_code == 200 and "Kim Anhörigsson" in page.text and "Gunborg Tjäderström" in page.text
        audited = await db.fetch("SELECT what FROM audit_log WHERE staff_user = $1 AND patient = $2",
                                 world.staff["coordinator"], world.patient)
        assert {"fault_queue", "fault_triage"} <= {r["what"] for r in audited}

        refused = await post_form(coordinator, f"/felanmalningar/{report}/arbetsorder", {"type": "maintenance"})
        assert refused.status_code == 400 and "Välj typ av arbetsorder" in refused.text
        made = await post_form(coordinator, f"/felanmalningar/{report}/arbetsorder",
                               {"type": "repair_on_site", "urgency": "urgent", "note": "Ring först"})
        assert made.status_code == 303
        number = made.headers["location"].split("=")[1]
        assert number in (await coordinator.get(made.headers["location"])).text
        again = await post_form(coordinator, f"/felanmalningar/{report}/avsluta", {"answer": "Dubblett av annan"})
        assert again.status_code == 409 and "redan hanterad" in again.text

        order = await db.fetchrow("SELECT * FROM work_order WHERE number = $1", number)
        assert order["type"] == "urgent_repair" and order["channel"] == "web" and order["patient"] == world.patient
        assert order["description"].startswith("AKUT: Felanmälan FA-") and "Ring först" in order["description"]
        assert "Kim Anhörigsson, 070-123 45 67" in order["site_contact"]
        assert "Kim" not in order["description"]  # the description shows in every device history

        assert "Status: Mottagen" in (await public.get(f"/arende/{status_token}")).text
        await db.execute("UPDATE work_order SET status = 'planned', planned_date = '2031-05-06' WHERE id = $1",
                         order["id"])
        assert "Status: Planerad 2031-05-06" in (await public.get(f"/arende/{status_token}")).text
        await db.execute("UPDATE work_order SET status = 'completed', completed_at = '2031-05-06 10:00+02', "
                         "outcome = 'fixed' WHERE id = $1", order["id"])
        assert "Status: Åtgärdad 2031-05-06" in (await public.get(f"/arende/{status_token}")).text


async def test_closing_with_an_answer_shows_the_answer_to_the_reporter(app, world):
    report, status_token = await add_fault_report(world, world.device)
    async with signed_in(app, world, "admin") as admin:
        empty = await post_form(admin, f"/felanmalningar/{report}/avsluta", {"answer": ""})
        assert empty.status_code == 400 and "Skriv ett svar" in empty.text
        closed = await post_form(admin, f"/felanmalningar/{report}/avsluta",
                                 {"answer": "Vi har ringt och hjälpt er att ladda batteriet."})
        assert closed.status_code == 303
    async with new_client(app) as public:
        page = (await public.get(f"/arende/{status_token}")).text
    assert "Status: Avslutad" in page and "Vi har ringt och hjälpt er att ladda batteriet." in page


async def test_the_reporters_photo_goes_with_the_work_order(app, world):
    async with new_client(app) as client:
        sent = await submit(client, world.token, photo=("bild.png", jpeg((30, 20)), "image/jpeg"))
    report = await db.fetchval("SELECT id FROM fault_report WHERE status_token = $1", sent.headers["location"].split("/")[2])
    async with signed_in(app, world, "coordinator") as coordinator:
        photo = await coordinator.get(f"/felanmalningar/{report}/bild")
        assert photo.status_code == 200 and photo.headers["content-type"] == "image/jpeg"
        await post_form(coordinator, f"/felanmalningar/{report}/arbetsorder", {"type": "repair_hmc"})
    order = await db.fetchval("SELECT work_order FROM fault_report WHERE id = $1", report)
    assert await db.fetchval("SELECT count(*) FROM work_photo WHERE work_order = $1", order) == 1


# --- prescribers -----------------------------------------------------------------------------


async def test_a_prescriber_orders_a_repair_from_the_device_card_and_follows_it(app, world):
    async with signed_in(app, world, "prescriber") as prescriber:
        card = await prescriber.get(f"/enheter/{world.individnummer}")
        assert f'href="/enheter/{world.individnummer}/bestall-reparation"' in card.text
        form = await prescriber.get(f"/enheter/{world.individnummer}/bestall-reparation")
        assert form.status_code == 200 and "Gunborg Tjäderström" in form.text
        nonce = faults.new_token()
        data = {**ANSWERS, "type": "repair_hmc", "submission": nonce, "_csrf_token": await csrf(prescriber)}
        first = await prescriber.post(f"/enheter/{world.individnummer}/bestall-reparation", data=data,
                                      files={"photo": NO_FILE})
        second = await prescriber.post(f"/enheter/{world.individnummer}/bestall-reparation", data=data,
                                       files={"photo": NO_FILE})
        assert first.status_code == second.status_code == 303
        assert first.headers["location"] == second.headers["location"]
        number = first.headers["location"].split("=")[1]
        listing = await prescriber.get(first.headers["location"])
    assert listing.status_code == 200 and number in listing.text and "Ny" in listing.text
    order = await db.fetchrow("SELECT * FROM work_order WHERE number = $1", number)
    assert (order["channel"], order["type"], order["orderer"], order["care_unit"]) == (
        "prescriber", "repair_hmc", world.staff["prescriber"], world.care_unit)
    assert await db.fetchval("SELECT count(*) FROM fault_report WHERE submission_key = $1", nonce) == 1


async def test_a_prescriber_cannot_order_for_another_units_patient(app, world):
    async with signed_in(app, world, "other_prescriber") as other:
        card = await other.get(f"/enheter/{world.individnummer}")
        assert "bestall-reparation" not in card.text
        assert (await other.get(f"/enheter/{world.individnummer}/bestall-reparation")).status_code == 404
        data = {**ANSWERS, "type": "repair_hmc", "submission": faults.new_token(), "_csrf_token": await csrf(other)}
        refused = await other.post(f"/enheter/{world.individnummer}/bestall-reparation", data=data,
                                   files={"photo": NO_FILE})
    assert refused.status_code == 404


# --- labels ----------------------------------------------------------------------------------


async def test_a_replaced_sticker_stops_working_and_the_device_keeps_its_identity(app, world):
    device = await add_device(world, holder=world.patient)
    number = await db.fetchval("SELECT individnummer FROM device WHERE id = $1", device)
    old = await device_token(world, device)
    async with signed_in(app, world, "coordinator") as coordinator:
        response = await post_form(coordinator, "/etiketter/ny-kod", {"individnummer": number.lower()})
        assert response.status_code == 303
        sheet = await coordinator.get(response.headers["location"])
        unknown = await post_form(coordinator, "/etiketter/ny-kod", {"individnummer": "X0"})
    new = await device_token(world, device)
    [svg] = re.findall(r"<svg.*?</svg>", sheet.text, re.S)
    assert new != old and decode_svg(svg) == f"http://localhost:8000/f/{new}"
    assert "Den gamla etiketten fungerar inte längre" in sheet.text
    assert unknown.status_code == 400 and "Det finns inget hjälpmedel" in unknown.text
    async with new_client(app) as public:
        assert (await public.get(f"/f/{old}")).status_code == 404
        assert (await public.get(f"/f/{new}")).status_code == 200
    assert (await faults.public_device(new)).device_id == device


async def test_label_sheet_refuses_unknown_individnummer_by_name(app, world):
    async with signed_in(app, world, "coordinator") as coordinator:
        response = await coordinator.get("/etiketter/ark", params={"enheter": f"{world.individnummer}\nQ999999"})
    assert response.status_code == 400 and "Finns inte: Q999999" in response.text


@pytest.mark.parametrize("format, per_sheet", [("70x37", 24), ("105x57", 10)])
async def test_label_sheets_print_a_qr_code_that_decodes_to_each_devices_link(app, world, format, per_sheet):
    devices = [await add_device(world, holder=world.patient) for _ in range(per_sheet + 1)]
    numbers = [await db.fetchval("SELECT individnummer FROM device WHERE id = $1", d) for d in devices]
    async with signed_in(app, world, "coordinator") as coordinator:
        response = await coordinator.get("/etiketter/ark", params={"enheter": "\n".join(numbers), "format": format})
    assert response.status_code == 200
    page = response.text
    assert page.count(f'class="sheet f-{format}"') == 2  # a full sheet and one label on the next
    labels = re.findall(r'<div class="label">(.*?)</div>\s*</div>', page, re.S)
    assert len(labels) == len(devices)
    for number, device, label in zip(numbers, devices, labels):
        svg = re.search(r"<svg.*?</svg>", label, re.S).group(0)
        assert decode_svg(svg) == f"http://localhost:8000/f/{await device_token(world, device)}"
        assert number in label and "Felanmäl: skanna koden" in label and "Tel 021-10 00 00" in label
    assert "style=" not in page and "<script>" not in page  # the strict CSP allows neither


async def test_request_logs_name_the_route_never_the_token_or_what_was_typed(app, world, caplog):
    caplog.set_level("INFO", logger="runda")
    async with new_client(app) as client:
        await client.get(f"/f/{world.token}")
        sent = await submit(client, world.token)
        await client.get(sent.headers["location"])
    status_token = sent.headers["location"].split("/")[2]
    logged = [" ".join(str(v) for v in record.__dict__.values()) for record in caplog.records
              if record.name.startswith("runda")]
    assert any("/f/{token:str}/anmal" in line or "/f/{token}/anmal" in line for line in logged)
    for line in logged:
        for secret in (world.token, status_token, ANSWERS["contact_name"], ANSWERS["contact_phone"],
                       *secrets_of(world)):
            assert secret not in line
