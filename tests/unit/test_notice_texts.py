"""What a notice says: the letter, the SMS and the e-mail, made from one description of the visit."""

from __future__ import annotations

import io
from datetime import date, time

import pypdf
import pytest

from backend.notices import letters

VISIT = letters.Visit(
    centre_name="Hjälpmedelscentralen Västmanland", centre_phone="021-17 30 00", given_name="Åsa",
    family_name="Öberg", category_name="Elrullstol", article_name="Permobil M3 Corpus", individnummer="R000123",
    day=date(2026, 3, 10), window_start=time(8), window_end=time(10), technician_name="Mikael Lindqvist",
    address=("Björkvägen 12", "722 10 Västerås"))
PROTECTED = letters.Visit(**{**VISIT.__dict__, "address": (), "cost_bearer_name": "Västerås stad"})


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(content)).pages)


def test_dates_and_windows_are_written_in_swedish():
    assert letters.swedish_date(date(2026, 3, 10)) == "tisdag 10 mars 2026"
    assert letters.swedish_date(date(2026, 12, 27)) == "söndag 27 december 2026"
    assert letters.window_words(time(8), time(10)) == "kl. 08.00–10.00"
    assert letters.window_words(None, None) == ""


def test_the_device_is_named_in_plain_words():
    assert letters.device_words("Elrullstol", "Permobil M3 Corpus", "R000123") == \
        "Elrullstol, Permobil M3 Corpus (individnummer R000123)"
    assert letters.device_words(None, "Sele", "R9") == "Sele (individnummer R9)"


def test_the_letter_tells_the_patient_the_device_the_time_the_technician_and_how_to_change_it():
    one = letters.letter(VISIT)
    assert one.addressee == ("Åsa Öberg", "Björkvägen 12", "722 10 Västerås")
    text = one.text
    assert "Hej Åsa!" in text
    assert "Elrullstol, Permobil M3 Corpus (individnummer R000123)" in text
    assert "tisdag 10 mars 2026 kl. 08.00–10.00" in text
    assert "Tekniker: Mikael" in text and "Lindqvist" not in text
    assert "Ring oss på 021-17 30 00" in text
    assert "Hjälpmedelscentralen Västmanland" in text


def test_a_letter_for_a_protected_identity_goes_to_the_cost_bearer_without_any_address():
    one = letters.letter(PROTECTED)
    assert one.addressee == ("Västerås stad",)
    assert "skyddade personuppgifter" in one.text
    assert "lämna beskedet vidare" in one.text
    assert "Björkvägen" not in one.text and "722 10" not in one.text


def test_the_letter_pdf_reads_back_as_the_letter_with_swedish_letters_intact():
    content = letters.render([(letters.letter(VISIT), VISIT.centre_name, VISIT.centre_phone, date(2026, 2, 20)),
                              (letters.letter(PROTECTED), VISIT.centre_name, VISIT.centre_phone, date(2026, 2, 20))])
    reader = pypdf.PdfReader(io.BytesIO(content))
    assert len(reader.pages) == 2
    first, second = (page.extract_text() for page in reader.pages)
    for expected in ("Åsa Öberg", "Björkvägen 12", "Permobil M3 Corpus", "R000123", "tisdag 10 mars 2026",
                     "08.00-10.00", "021-17 30 00", "Hjälpmedelscentralen Västmanland"):
        assert expected in first
    assert "Västerås stad" in second and "Åsa Öberg" in second
    assert "Björkvägen" not in second and "722 10" not in second


def test_characters_the_pdf_font_lacks_are_written_as_their_nearest_form():
    odd = letters.Visit(**{**VISIT.__dict__, "given_name": "Łukasz", "family_name": "Nowak 😀"})
    text = pdf_text(letters.render([(letters.letter(odd), "HMC", "1", date(2026, 1, 1))]))
    assert "Lukasz Nowak ?" in text


def test_the_sms_fits_one_message_and_names_no_one():
    text = letters.sms_text(VISIT)
    assert len(text) <= letters.SMS_LIMIT
    assert "R000123" in text and "2026-03-10" in text and "08.00-10.00" in text and "021-17 30 00" in text
    assert "Åsa" not in text and "Öberg" not in text and "–" not in text


@pytest.mark.parametrize("centre, category", [("Hjälpmedelscentrum Region Västra Götaland, Sjukhuset i Borås, Teknik", "Elektrisk rullstol för inomhus- och utomhusbruk"),
                                              ("H" * 300, "K" * 300)])
def test_a_long_centre_or_category_name_still_fits_one_sms_with_the_device_and_the_number_to_call(centre, category):
    visit = letters.Visit(**{**VISIT.__dict__, "centre_name": centre, "category_name": category})
    text = letters.sms_text(visit)
    assert len(text) <= letters.SMS_LIMIT
    assert "R000123" in text and "021-17 30 00" in text and "2026-03-10" in text


def test_the_email_has_a_subject_with_the_day_and_a_plain_text_body():
    subject, body = letters.email_text(VISIT)
    assert subject == "Service av ditt hjälpmedel 2026-03-10"
    assert "Hej Åsa!" in body and "R000123" in body and "tisdag 10 mars 2026" in body and "021-17 30 00" in body
    assert "Björkvägen" not in body


def test_long_text_is_wrapped_within_the_page_and_a_word_wider_than_a_line_is_cut():
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    text = "Hjälpmedel " * 40 + "X" * 300
    lines = letters._wrapped(pdf, text, 100)
    assert len(lines) > 5
    assert all(pdf.get_string_width(line) <= 100 for line in lines)
    assert "".join(lines).replace(" ", "") == text.replace(" ", "")
