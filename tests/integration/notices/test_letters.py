"""The letters of a send, as the coordinator prints them: read back from the PDF. A patient with a
protected identity never has an address on a letter: theirs goes to the cost bearer."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pypdf
import pytest

from backend import db
from backend.notices import service
from backend.notices.errors import NoticeError, NoticeNotFound
from tests.integration.notices.support import add_fu_visit, coordinator, send_and_make
from tests.support.factories import add_device, add_patient
from tests.support.protected import assert_no_protected_details

TODAY = date.today()


def pages(content: bytes) -> list[str]:
    return [page.extract_text() for page in pypdf.PdfReader(io.BytesIO(content)).pages]


async def test_the_sends_letters_read_back_with_name_device_and_date_and_no_address_for_a_protected_patient(world):
    open_order = await add_fu_visit(world, world.devices[0], world.patients[0], days_ahead=20)
    shielded = await add_patient(world, given="Sigrid", family="Skyddadsson", street="Hemligvägen 7",
                                 phone="070-999 88 77", door_code="4711", protected=True)
    shielded_device = await add_device(world, holder=shielded, individnummer=f"S{shielded:06d}")
    shielded_order = await add_fu_visit(world, shielded_device, shielded, days_ahead=21)
    _, batch, _ = await send_and_make(world, [open_order, shielded_order])

    first, second = pages(await service.batch_letters(coordinator(world), batch))
    day = TODAY + timedelta(days=20)
    for expected in ("Astrid Lindqvist", "Björkvägen 12", "722 10 Västerås", "Elrullstol, Permobil M3 Corpus",
                     "Testregionen", "021-10 00 00", f"{day.day} ", "kl. 08.00-10.00", "Tekniker: Test"):
        assert expected in first, expected
    assert "Sigrid Skyddadsson" in second and f"S{shielded:06d}" in second and "Testkommun" in second
    assert "Hemligvägen" not in second and "722 10" not in second and "Västerås" not in second
    await assert_no_protected_details(second, shielded)
    reads = await db.fetch("SELECT patient FROM audit_log WHERE what = 'notice_letters' AND patient = ANY($1::int[])",
                           [world.patients[0], shielded])
    assert sorted(r["patient"] for r in reads) == sorted([world.patients[0], shielded])


async def test_a_send_without_letters_has_no_pdf(world):
    await db.execute("UPDATE patient SET notice_channel = 'sms' WHERE id = $1", world.patients[0])
    _, batch, _ = await send_and_make(world, [await add_fu_visit(world, world.devices[0], world.patients[0])])
    with pytest.raises(NoticeNotFound):
        await service.batch_letters(coordinator(world), batch)


async def test_printed_letters_are_marked_once_for_the_count_the_page_showed(world):
    _, batch, _ = await send_and_make(world, [await add_fu_visit(world, world.devices[0], world.patients[0])])
    with pytest.raises(NoticeError):
        await service.mark_printed(coordinator(world), batch, 2)
    assert await service.mark_printed(coordinator(world), batch, 1) == 1
    assert await db.fetchval("SELECT state FROM notice WHERE batch = $1", batch) == "printed"
    with pytest.raises(NoticeError):
        await service.mark_printed(coordinator(world), batch, 1)
