"""Reading files as business systems write them: the encoding and separator found, columns by their
Swedish names (and other exports' names), line numbers as an editor shows them. No database."""

from __future__ import annotations

import codecs

import pytest

from backend.imports.csvfile import FileRefused, read
from backend.imports.kinds import DEVICES, LOANS, PATIENTS, Lookups, parse


def sheet(content: bytes, kind=DEVICES):
    return read(content, kind.aliases, kind.required, kind.titles, kind.what)


ROWS = "Individnummer;Artikelnummer;I bruk sedan\r\nA1;100;2024-01-02\r\nA2;100;2024-01-03\r\n"


@pytest.mark.parametrize("content, encoding", [
    (ROWS.encode("utf-8"), "UTF-8"),
    (codecs.BOM_UTF8 + ROWS.encode("utf-8"), "UTF-8 med BOM"),
    ("Individnummer;Artikelnummer;I bruk sedan;Benämning\nA1;100;2024-01-02;Säng\n".encode("cp1252"), "Windows-1252"),
    (ROWS.replace(";", "\t").encode("utf-16"), "UTF-16"),
])
def test_the_encoding_is_found_from_the_bytes(content, encoding):
    found = sheet(content)
    assert found.encoding == encoding
    assert found.records[0] == (2, ["A1", "100", "2024-01-02", *(["Säng"] if "Benämning" in found.unknown else [])])


@pytest.mark.parametrize("separator", [";", "\t", ","])
def test_the_separator_is_the_one_that_names_the_columns(separator):
    found = sheet(ROWS.replace(";", separator).encode())
    assert found.separator == separator
    assert found.columns == {"individnummer": 0, "article_number": 1, "in_service_date": 2}


def test_columns_are_found_by_other_names_in_any_case_and_the_rest_is_listed_unread():
    found = sheet(" INDIVIDNR ;Art.nr;Driftsatt:;Kostnadsställe;Benämning\nA1;100;2024-01-02;4711;Säng\n".encode())
    assert found.columns == {"individnummer": 0, "article_number": 1, "in_service_date": 2}
    assert found.unknown == ["Kostnadsställe", "Benämning"]


def test_a_columns_own_name_wins_over_another_exports_name_for_it():
    found = sheet("Kommun;Personnummer;Förnamn;Efternamn;Kommunkod;Vårdenhet\n".encode(), PATIENTS)
    assert found.columns["cost_bearer"] == 4 and found.unknown == ["Kommun"]


def test_line_numbers_count_the_header_blank_lines_and_quoted_line_breaks():
    content = ('\n"Individnummer";Artikelnummer;I bruk sedan;Anteckning\n'
               'A1;100;2024-01-02;"två\nrader"\n\nA2;100;2024-01-03;x\r\nA3;100;2024-01-04;\n').encode()
    assert [line for line, _ in sheet(content).records] == [3, 6, 7]


def test_a_column_named_twice_or_a_file_with_no_known_column_is_refused_whole():
    with pytest.raises(FileRefused, match="Kolumnen Individnummer finns två gånger"):
        sheet(b"Individnummer;Artikelnummer;individnummer ;I bruk sedan\n")
    with pytest.raises(FileRefused, match="Filen ser inte ut som en fil med lån"):
        sheet("Namn;Adress\nAnna;Gatan 1\n".encode(), LOANS)


def test_a_personnummer_is_read_in_any_of_its_forms_and_stored_in_one():
    content = ("Personnummer;Förnamn;Efternamn;Kommunkod;Vårdenhet\n"
               "194501019824;Åsa;Ek;1980;Enheten\n"
               "19500615-9916;Bo;Ek;1980;Enheten\n"
               "450101-9824;Åsa;Ek;1980;Enheten\n"
               "121212+1212;Ur;Gammal;1980;Enheten\n"
               "19450161-9824;Fel;Datum;1980;Enheten\n").encode()
    parsed = parse(PATIENTS, sheet(content, PATIENTS), Lookups({"1980": 1}, {"enheten": 2}))
    assert [(r.line, r.personal_number, r.birth_year, r.sex) for r in parsed.rows] == [
        (2, "19450101-9824", 1945, "F"), (3, "19500615-9916", 1950, "M"), (5, "19121212-1212", 1912, "M")]
    assert parsed.refused == [(4, "Samma personnummer finns redan på rad 2 i filen."),
                              (6, "Personnummer är inte ett giltigt personnummer (fel längd, datum eller "
                                  "kontrollsiffra).")]


def test_a_line_with_more_fields_than_the_header_is_refused():
    content = b"Individnummer;Artikelnummer;I bruk sedan\nA1;100;2024-01-02;extra\nA2;100;2024-01-02;\n"
    parsed = parse(DEVICES, sheet(content), Lookups())
    assert [r.individnummer for r in parsed.rows] == ["A2"]
    assert parsed.refused == [(2, "Raden har fler fält (4) än rubrikraden (3). Kontrollera avgränsare och "
                                  "citattecken.")]
