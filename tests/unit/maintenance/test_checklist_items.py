"""The rules for a checklist item in the editor: stable keys from the text, and Swedish
messages next to the field for what cannot be right."""

from __future__ import annotations

from decimal import Decimal

import pytest

from backend.maintenance.items import (
    ChecklistRefused,
    ItemFields,
    Measurement,
    checked_item,
    form_values,
    new_key,
    parse_item,
)


def refused(fields: ItemFields) -> dict[str, str]:
    with pytest.raises(ChecklistRefused) as caught:
        checked_item(fields, "k")
    return dict(caught.value.errors)


def test_a_key_is_made_from_the_text_without_swedish_letters():
    assert new_key("Motorbromsar håller, frikoppling fungerar", set()) == "motorbromsar_haller_frikoppling_fungerar"
    assert new_key("Ändstopp & öglor", set()) == "andstopp_oglor"


def test_a_key_is_unique_among_every_key_the_list_has_used():
    assert new_key("Bromsar", {"bromsar"}) == "bromsar_2"
    assert new_key("Bromsar", {"bromsar", "bromsar_2"}) == "bromsar_3"


def test_a_key_is_short_and_never_empty():
    assert len(new_key("Mycket " * 30, set())) <= 40
    assert new_key("!!!", set()) == "punkt"
    long = new_key("a" * 60, {"a" * 40})
    assert len(long) <= 40 and long.endswith("_2")


def test_a_pass_fail_item_keeps_no_measurement_even_if_one_was_typed():
    item = checked_item(ItemFields(text="  Ram   och sits hela ", kind="check", unit="V", lower=Decimal(1)), "frame")
    assert item == {"key": "frame", "text": "Ram och sits hela", "kind": "check", "safety_critical": False,
                    "measurement": None}


def test_a_measurement_keeps_its_unit_limits_standard_and_what_can_be_read():
    item = checked_item(ItemFields(text="Läckström", kind="measurement", safety_critical=True, unit="mA",
                                   lower=Decimal("0"), upper=Decimal("0.5"), standard="SS-EN 62353"), "leak")
    assert item["measurement"] == {"unit": "mA", "min": 0, "max": 0.5, "lowest": 0, "highest": 1000,
                                   "standard": "SS-EN 62353"}
    parsed = parse_item(item)
    assert parsed.kind == "measurement" and parsed.safety_critical
    assert parsed.measurement.limits_text == "0–0,5 mA (SS-EN 62353)"
    assert form_values(parsed) == {"text": "Läckström", "kind": "measurement", "safety_critical": "1", "unit": "mA",
                                   "lower": "0", "upper": "0,5", "standard": "SS-EN 62353"}


@pytest.mark.parametrize("fields, field, message", [
    (ItemFields(text=" ", kind="check"), "text", "Skriv vad teknikern ska kontrollera."),
    (ItemFields(text="x" * 201, kind="check"), "text", "högst 200 tecken"),
    (ItemFields(text="Ram", kind="photo"), "kind", "Välj typ av punkt."),
    (ItemFields(text="Spänning", kind="measurement", unit="volt", upper=Decimal(3)), "unit",
     "Enheten ”volt” finns inte i listan."),
    (ItemFields(text="Spänning", kind="measurement", upper=Decimal(3)), "unit", "Välj en enhet i listan."),
    (ItemFields(text="Spänning", kind="measurement", unit="V"), "lower", "Ange lägsta eller högsta godkända värde"),
    (ItemFields(text="Spänning", kind="measurement", unit="V", lower=Decimal(27), upper=Decimal(23)), "lower",
     "Lägsta godkända värde är större än det högsta."),
    (ItemFields(text="Vinkel", kind="measurement", unit="°", upper=Decimal(400)), "upper",
     "Ett värde i ° ligger mellan 0 och 360."),
    (ItemFields(text="Spänning", kind="measurement", unit="V", upper=Decimal(3), standard="S" * 61), "standard",
     "högst 60 tecken"),
])
def test_an_item_that_cannot_be_right_is_refused_next_to_its_field(fields, field, message):
    assert message in refused(fields)[field]


def test_every_wrong_field_is_named_at_once():
    errors = refused(ItemFields(text="", kind="measurement", unit="", standard="S" * 61))
    assert set(errors) == {"text", "unit", "standard"}


def test_limits_read_as_people_say_them():
    assert Measurement("MΩ", Decimal(2), None, Decimal(0), Decimal(10)).limits_text == "minst 2 MΩ"
    assert Measurement("mA", None, Decimal("0.5"), Decimal(0), Decimal(10)).limits_text == "högst 0,5 mA"
    assert Measurement("V", Decimal(23), Decimal("26.5"), Decimal(0), Decimal(60)).limits_text == "23–26,5 V"


def test_items_written_before_kinds_existed_get_their_kind_from_the_measurement():
    assert parse_item({"key": "a", "text": "A", "measurement": None}).kind == "check"
    assert parse_item({"key": "b", "text": "B", "measurement": {"unit": "V", "min": 1, "max": 2}}).kind == "measurement"


def test_a_free_text_item_is_answered_by_the_technicians_comment():
    from backend.maintenance.service import Answer, ChecklistError, check_answer

    item = parse_item({"key": "skick", "text": "Beskriv dynans skick", "kind": "text", "measurement": None})
    with pytest.raises(ChecklistError) as caught:
        check_answer(item, Answer("skick", "pass"), "item-")
    assert caught.value.field == "item-skick-comment" and "Skriv en kommentar" in caught.value.message
    check_answer(item, Answer("skick", "pass", comment="Lite sliten men hel"), "item-")
    check_answer(item, Answer("skick", "na"), "item-")  # not applicable needs no words
