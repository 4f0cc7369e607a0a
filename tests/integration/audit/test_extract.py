"""The patient's log extract: every access to the patient's data with the staff member's name,
care unit, time (Swedish local) and what was read, as a PDF read back; producing it is recorded as
a use of the log and a read of the patient; a protected patient's address is not in it."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from backend import db
from backend.audit import extract
from backend.audit.routes import review_sources
from tests.integration.audit.conftest import actor, read
from tests.support.factories import add_patient, make_world, delete_world
from tests.support.protected import assert_no_protected_details, document_text

UTC = timezone.utc


async def test_the_extract_lists_every_access_with_name_unit_time_and_what_and_is_itself_logged(world):
    shielded = await add_patient(world, given="Sigrid", family="Skyddad", street="Hemligvägen 7",
                                 phone="070-999 88 77", door_code="9876", protected=True)
    other = await add_patient(world, given="Bo", family="Annan")
    await read(world, world.staff["prescriber"], shielded, datetime(2026, 1, 15, 8, 5, tzinfo=UTC),
               role="prescriber", care_unit=world.care_unit, what="device_card")
    await read(world, world.staff["technician"], shielded, datetime(2026, 7, 1, 12, 0, tzinfo=UTC), what="visit")
    await read(world, world.staff["technician"], other, datetime(2026, 7, 1, 12, 0, tzinfo=UTC), what="visit")
    coordinator = actor(world, "coordinator")

    content = await extract.patient_extract(coordinator, shielded, review_sources(), date(2026, 12, 1))
    text = document_text(content)
    for expected in ("Loggutdrag - Testregionen", "Sigrid Skyddad", "Test prescriber", "Hemsjukvården Test",
                     "2026-01-15 09:05", "Hjälpmedelskort", "Test technician", "2026-07-01 14:00", "Besök",
                     "Antal åtkomster: 2", "Test coordinator"):
        assert expected in text, expected
    assert "Bo Annan" not in text
    await assert_no_protected_details(content, shielded)
    assert await db.fetchval("SELECT count(*) FROM audit_log_use WHERE staff_user = $1 AND kind = 'extract' "
                             "AND patient = $2", world.staff["coordinator"], shielded) == 1
    assert await db.fetchval("SELECT count(*) FROM audit_log WHERE staff_user = $1 AND patient = $2 "
                             "AND what = 'log_extract'", world.staff["coordinator"], shielded) == 1
    # The next extract shows the first one as an access.
    again = document_text(await extract.patient_extract(coordinator, shielded, review_sources(), date(2026, 12, 1)))
    assert "Loggutdrag" in again.split("Vad som lästes", 1)[1] and "Antal åtkomster: 3" in again


async def test_no_extract_of_another_organisations_patient(world):
    elsewhere = await make_world("Annan region")
    try:
        patient = await add_patient(elsewhere)
        with pytest.raises(extract.PatientNotFound):
            await extract.patient_extract(actor(world, "coordinator"), patient, review_sources(), date(2026, 12, 1))
    finally:
        await delete_world(elsewhere)
