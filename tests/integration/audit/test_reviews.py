"""A review documented from start to end: created from a selection (each flagged access copied),
every access judged "utan anmärkning" or "med anmärkning" with a comment, closed with a conclusion,
listed and exported (PDF read back, CSV); the monthly reminder prepares the routine's sample once.
Opening a review and exporting it are recorded as uses of the log."""

from __future__ import annotations

import csv
import io
import random
from datetime import date, datetime, timedelta, timezone

import pytest

from backend import db
from backend.audit import documents, review
from backend.audit.routes import review_sources
from tests.integration.audit.conftest import actor, read
from tests.support.factories import add_patient
from tests.support.protected import assert_no_protected_details, document_text

UTC = timezone.utc


async def uses(world, kind: str) -> int:
    return await db.fetchval("SELECT count(*) FROM audit_log_use WHERE organisation = $1 AND kind = $2",
                             world.organisation, kind)


async def test_a_review_is_recorded_judged_closed_listed_and_exported(world):
    tech = world.staff["technician"]
    shielded = await add_patient(world, given="Sigrid", family="Skyddad", street="Hemligvägen 7",
                                 phone="070-999 88 77", door_code="9876", protected=True)
    plain = await add_patient(world, given="Öjvind", family="Åberg")
    at = datetime(2026, 2, 3, 21, 15, tzinfo=UTC)  # 22:15 in Stockholm, a Tuesday
    late = await read(world, tech, shielded, at)
    other = await read(world, tech, plain, at + timedelta(minutes=5))
    await read(world, tech, plain, datetime(2026, 2, 3, 9, 0, tzinfo=UTC))  # working hours: not flagged
    admin = actor(world)
    search = review.Search(date(2026, 2, 1), date(2026, 2, 28))
    selection = review.Selection(signals=("off_hours",))

    review_id = await review.create_review(admin, world.organisation, "suspicion", search, selection, review_sources())
    opened = await review.review(admin, review_id, review_sources())
    assert [i["audit_id"] for i in opened["accesses"]] == [late, other]
    assert opened["accesses"][0]["flag_labels"] == ["Utanför arbetstid"]
    assert opened["reviewer_name"] == "Test admin" and opened["status"] == "open"
    assert await uses(world, "review") == 2  # created, then opened

    first, second = (i["id"] for i in opened["accesses"])
    with pytest.raises(review.ReviewError) as refused:
        await review.judge(admin, review_id, first, "remark", "  ")
    assert refused.value.field == "kommentar"
    await review.judge(admin, review_id, first, "remark", "Läste utan uppdrag; samtal med chefen bokat.")
    with pytest.raises(review.ReviewError) as refused:
        await review.close(admin, review_id, "Klart.")
    assert "1 åtkomster är inte bedömda" in refused.value.message
    await review.judge(admin, review_id, second, "ok", "")
    await review.close(admin, review_id, "En åtkomst utan uppdrag, hanterad med chefen.")
    with pytest.raises(review.ReviewError):
        await review.judge(admin, review_id, second, "remark", "Ändrat i efterhand")

    listed = await review.reviews(world.organisation)
    assert [(r["id"], r["status"], r["item_count"], r["judged"], r["remarks"]) for r in listed] == [
        (review_id, "closed", 2, 2, 1)]

    exported = await review.review(admin, review_id, review_sources(), record="review_export")
    assert await uses(world, "review_export") == 1
    text = document_text(documents.review_pdf(exported, date(2026, 3, 1)))
    for expected in (f"Loggkontroll {review_id}", "Vid misstanke", "2026-02-01", "Utanför arbetstid",
                     "Sigrid Skyddad", "Med anmärkning", "Läste utan uppdrag", "Utan anmärkning",
                     "En åtkomst utan uppdrag", "Avslutad", "Test admin", "2026-02-03 22:15"):
        assert expected in text, expected
    await assert_no_protected_details(documents.review_pdf(exported, date(2026, 3, 1)), shielded)

    content = documents.review_csv(exported)
    assert content.startswith("\ufeff".encode())
    lines = list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))
    assert lines[0][:3] == ["Granskning", "Skäl", "Period från"]
    assert [line[15] for line in lines[1:]] == ["Med anmärkning", "Utan anmärkning"]
    assert lines[2][12] == "Öjvind Åberg"
    await assert_no_protected_details(content, shielded)


async def test_a_review_needs_a_selection_and_keeps_to_its_limit(world):
    with pytest.raises(review.ReviewError) as refused:
        await review.create_review(actor(world), world.organisation, "routine",
                                   review.Search(date(2026, 2, 1), date(2026, 2, 28)), review.Selection(),
                                   review_sources())
    assert refused.value.field == "urval"
    with pytest.raises(review.ReviewError) as refused:
        await review.create_review(actor(world), world.organisation, "weekly",
                                   review.Search(date(2026, 2, 1), date(2026, 2, 28)),
                                   review.Selection(signals=("protected",)), review_sources())
    assert refused.value.field == "skal"
    patient = await add_patient(world)
    at = datetime(2026, 2, 10, 12, 0, tzinfo=UTC)
    await db.execute("INSERT INTO audit_log (organisation, staff_user, role, patient, what, at) "
                     "SELECT $1, $2, 'technician', $3, 'patient', $4::timestamptz + g * interval '1 second' "
                     "FROM generate_series(1, $5) g", world.organisation, world.staff["technician"], patient, at,
                     review.MAX_REVIEW_ITEMS + 1)
    with pytest.raises(review.ReviewError) as refused:
        await review.create_review(actor(world), world.organisation, "routine",
                                   review.Search(date(2026, 2, 1), date(2026, 2, 28)),
                                   review.Selection(sample_percent=100), review_sources())
    assert "fler än 500" in refused.value.message
    assert await db.fetchval("SELECT count(*) FROM audit_review WHERE organisation = $1", world.organisation) == 0


async def test_the_monthly_reminder_prepares_the_routine_sample_once_for_a_reviewer_to_take_up(world):
    patient = await add_patient(world)
    for day in range(1, 29):
        await read(world, world.staff["technician"], patient, datetime(2026, 2, day, 10, 0, tzinfo=UTC))
    made = await review.prepare_monthly_sample(world.organisation, date(2026, 2, 1), review.SAMPLE_ONLY,
                                               rng=random.Random(3), staff_percent=100)
    assert made is not None
    assert await review.prepare_monthly_sample(world.organisation, date(2026, 2, 1), review.SAMPLE_ONLY,
                                               rng=random.Random(4)) is None
    reminders = await review.open_reminders(world.organisation)
    assert [(r["id"], r["reason"], r["period_from"], r["reviewer"]) for r in reminders] == [
        (made, "routine", date(2026, 2, 1), None)]
    opened = await review.review(actor(world), made, review_sources())
    assert len(opened["accesses"]) == 1 and opened["accesses"][0]["flag_labels"] == ["Stickprov"]
    assert opened["accesses"][0]["patient_name"] == "Astrid Lindqvist"  # the page reads names from the register
    await review.judge(actor(world), made, opened["accesses"][0]["id"], "ok", "")
    assert await review.open_reminders(world.organisation) == []  # taken up by the admin
