"""The protected-identity helper (tests/support/protected.py) itself: it finds the patient's street,
phone and door code in a page, a CSV or a PDF, written as stored or with other spaces and dashes,
and passes a text without them (a date's digits are not a door code)."""

from __future__ import annotations

import pytest
from fpdf import FPDF

from tests.support.factories import add_patient
from tests.support.protected import assert_no_protected_details


def pdf_with(text: str) -> bytes:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    pdf.cell(0, 10, text)
    return bytes(pdf.output())


@pytest.mark.parametrize("shown", [
    "<td>Hemligvägen 7</td>", "hemligvägen 7, Västerås", "Ring 0709998877", "tel. 070 999 88 77", "Portkod: 9876",
])
async def test_it_finds_an_address_phone_or_door_code_however_spaced(world, shown):
    patient = await add_patient(world, street="Hemligvägen 7", phone="070-999 88 77", door_code="9876", protected=True)
    with pytest.raises(AssertionError):
        await assert_no_protected_details(f"<p>{shown}</p>", patient)
    with pytest.raises(AssertionError):
        await assert_no_protected_details(("\ufeffNamn;Adress\r\nSigrid;" + shown).encode("utf-8"), patient)
    with pytest.raises(AssertionError):
        await assert_no_protected_details(pdf_with(shown), patient)


async def test_it_passes_a_text_without_them_and_refuses_a_patient_without_protection(world):
    patient = await add_patient(world, street="Hemligvägen 7", phone="070-999 88 77", door_code="9876", protected=True)
    await assert_no_protected_details("Sigrid Skyddad, Västerås, 2026-09-87 98:76, T009876, Hemligvägen 71", patient)
    await assert_no_protected_details(pdf_with("Sigrid Skyddad - Testkommun"), patient)
    with pytest.raises(AssertionError, match="no protected identity"):
        await assert_no_protected_details("anything", await add_patient(world))
