"""The rules of a fault report that need no database: answers, tokens, stages, the work order's text."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timezone

import pytest

from backend.faults import service, triage
from backend.faults.categories import GUIDES, guide_for, problem_labels
from backend.faults.labels import LABEL_FORMATS, parse_individnummer_list, qr_svg
from backend.faults.service import ReportInput, check_report, stage_of

GOOD = ReportInput(problems=("no_drive",), usable="no", can_bring_in="no", needs_replacement="unsure",
                   location="usual", contact_name="Kim Anhörigsson", contact_phone="070-123 45 67")


def fields(errors) -> list:
    return [field for field, _ in errors]


def test_a_complete_report_has_no_errors():
    assert check_report(GOOD, "powered_wheelchair") == []


def test_every_missing_answer_is_named_in_the_order_of_the_form():
    errors = check_report(ReportInput(location="other"), "powered_wheelchair")
    assert fields(errors) == ["problems", "usable", "can_bring_in", "needs_replacement", "address",
                              "contact_name", "contact_phone"]
    assert all(message and message[0].isupper() for _, message in errors)


def test_own_words_are_enough_without_a_choice_but_other_needs_words():
    assert check_report(replace(GOOD, problems=(), description="Det luktar bränt"), "care_bed") == []
    assert fields(check_report(replace(GOOD, problems=("other",)), "care_bed")) == ["description"]


def test_a_fault_from_another_category_is_refused():
    assert fields(check_report(replace(GOOD, problems=("side_rail",)), "powered_wheelchair")) == ["problems"]


@pytest.mark.parametrize("phone, ok", [("070-123 45 67", True), ("+46 70 123 45 67", True), ("021173000", True),
                                       ("(021) 17 30 00", True), ("ring mig", False), ("123", False),
                                       ("070+1234567", False), ("0701234567890123", False)])
def test_phone_numbers(phone, ok):
    assert service.phone_is_valid(phone) is ok


def test_another_place_needs_an_address_and_keeps_the_door_code():
    errors = check_report(replace(GOOD, location="other", door_code="1234"), "powered_wheelchair")
    assert fields(errors) == ["address"]
    assert check_report(replace(GOOD, location="other", address="Storgatan 1, Sala"), "powered_wheelchair") == []


def test_a_filled_honeypot_is_refused_without_saying_why():
    errors = check_report(replace(GOOD, honeypot="http://x"), "care_bed")
    assert errors == [(None, errors[0][1])] and "robot" not in errors[0][1].lower()


def test_tokens_are_128_random_bits_in_22_url_safe_characters():
    tokens = {service.new_token() for _ in range(200)}
    assert len(tokens) == 200
    assert all(service.looks_like_token(t) and len(t) == 22 for t in tokens)
    for bad in ("", "x", "A" * 21, "A" * 23, "A" * 21 + "/", "A" * 21 + "=", "../" + "A" * 19):
        assert not service.looks_like_token(bad)


def test_links_are_built_on_the_public_origin():
    assert service.device_link("https://runda.example.se/", "T" * 22) == "https://runda.example.se/f/" + "T" * 22
    assert service.case_link("https://runda.example.se", "S" * 22) == "https://runda.example.se/arende/" + "S" * 22
    assert service.tel_href("021-17 30 00") == "tel:+4621173000"
    assert service.tel_href("+46 21 17 30 00") == "tel:+4621173000"


def at(day: str) -> datetime:
    return datetime.fromisoformat(day + "T09:00:00+00:00")


@pytest.mark.parametrize("status, planned, expected", [
    ("new", None, ("received", None)),
    ("planned", date(2026, 3, 4), ("planned", date(2026, 3, 4))),
    ("in_progress", date(2026, 3, 4), ("planned", date(2026, 3, 4))),
    ("paused", date(2026, 3, 4), ("planned", date(2026, 3, 4))),
    ("not_completed", date(2026, 3, 4), ("received", None)),  # back with the coordinator
    ("completed", date(2026, 3, 4), ("fixed", date(2026, 3, 5))),
])
def test_the_reporter_sees_the_stage_of_the_work_order(status, planned, expected):
    order = {"status": status, "planned_date": planned, "completed_at": at("2026-03-05"), "cancelled_at": None}
    stage = stage_of({"status": "ordered", "answer": None}, order)
    assert (stage.key, stage.day) == expected
    assert stage.label == {"received": "Mottagen", "planned": "Planerad", "fixed": "Åtgärdad"}[expected[0]]


def test_a_cancelled_order_is_closed_without_the_staffs_reason():
    order = {"status": "cancelled", "planned_date": None, "completed_at": None, "cancelled_at": at("2026-03-05")}
    stage = stage_of({"status": "ordered", "answer": None}, order)
    assert (stage.key, stage.label, stage.answer) == ("closed", "Avslutad", service.CANCELLED_ANSWER)


def test_a_report_waiting_or_answered_without_an_order():
    assert stage_of({"status": "new", "answer": None}, None).key == "received"
    closed = stage_of({"status": "closed", "answer": "Vi ringer er.",
                       "handled_at": datetime(2026, 3, 1, 23, 30, tzinfo=timezone.utc)}, None)
    assert (closed.key, closed.answer, closed.day) == ("closed", "Vi ringer er.", date(2026, 3, 2))  # Stockholm


def test_the_work_order_text_holds_what_the_technician_needs():
    report = {"number": "FA-2026-000012", "channel": "web", "problems": ["no_drive", "charging"],
              "description": "Piper", "where_on_device": "Styrboxen", "usable": "no", "can_bring_in": "no",
              "needs_replacement": "yes", "at_usual_place": False, "address": "Storgatan 1, Sala",
              "door_code": "1234", "contact_name": "Kim", "contact_phone": "070-123 45 67", "call_times": "Fm"}
    text = service.describe_for_work_order(report, "powered_wheelchair", urgent=True, note="Ta med batteri")
    assert text.splitlines() == [
        "AKUT: Felanmälan FA-2026-000012 (webb/QR-kod): Stolen går inte att köra; "
        "Batteriet laddar inte eller räcker kort; Piper",
        "Var på hjälpmedlet: Styrboxen",
        "Går att använda: Nej, inte alls. Kan lämnas in på HMC: Nej. Ersättningshjälpmedel behövs: Ja.",
        "Står inte där det brukar stå: se kontakt och plats på arbetsordern.",
        "Samordnarens anteckning: Ta med batteri",
    ]
    # Personal data stays out of the description, which every device history shows.
    assert "Kim" not in text and "070" not in text and "1234" not in text and "Storgatan" not in text
    assert service.site_contact_for(report).splitlines() == [
        "Står nu på: Storgatan 1, Sala, portkod 1234",
        "Kontakt: Kim, 070-123 45 67 (bäst: Fm)",
    ]


def test_a_device_that_can_be_brought_in_is_repaired_at_the_hmc_by_default():
    assert triage.default_type({"can_bring_in": "yes"}) == "repair_hmc"
    assert triage.default_type({"can_bring_in": "no"}) == "repair_on_site"


def test_every_category_offers_checks_and_ends_with_something_else():
    for code, guide in [*GUIDES.items(), ("unknown", guide_for("unknown"))]:
        assert guide.checks, code
        codes = [c for c, _ in guide.problems]
        assert codes[-1] == "other" and len(set(codes)) == len(codes), code
    assert problem_labels("care_bed", ["handset", "other", "nonsense"]) == ["Handkontrollen fungerar inte", "Annat"]


def test_individnummer_lists_are_read_as_people_paste_them():
    assert parse_individnummer_list(" a100123\nA100124, a100125;A100123 \n\n") == ["A100123", "A100124", "A100125"]


def test_label_formats_fill_an_a4_sheet():
    for fmt in LABEL_FORMATS.values():
        assert fmt.columns * fmt.width_mm == 210 and fmt.rows * fmt.height_mm <= 297


def test_the_qr_svg_is_inline_and_needs_no_style_attribute():
    svg = qr_svg("https://runda.example.se/f/" + "T" * 22, "QR-kod för felanmälan av A100123")
    assert svg.startswith("<svg") and "<title>QR-kod för felanmälan av A100123</title>" in svg
    assert "style" not in svg and "<script" not in svg
