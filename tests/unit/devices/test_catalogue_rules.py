"""The catalogue's rules that need no database: the ISO 9999 code's shape, a category's key,
searches taken literally, and which self-checks the public fault page shows."""

import pytest

from backend.devices.catalogue import CatalogueError, _code_from, like_pattern, normalise_iso_code
from backend.faults.categories import checks_for, guide_for


@pytest.mark.parametrize("typed, kept", [
    ("12", "12"), ("1223", "12 23"), ("12 23", "12 23"), ("122306", "12 23 06"), (" 12 23 06 ", "12 23 06"),
    ("12 2306", "12 23 06"),
])
def test_an_iso_code_is_two_four_or_six_digits_kept_in_pairs(typed, kept):
    assert normalise_iso_code(typed) == kept


@pytest.mark.parametrize("typed", ["", "1", "123", "12345", "1234567", "12-23-06", "12  23", "12 23 06 01", "ab",
                                   "１２", "12\u00a023"])
def test_anything_else_is_refused_on_the_iso_field(typed):
    with pytest.raises(CatalogueError) as refused:
        normalise_iso_code(typed)
    assert refused.value.field == "iso_code"


def test_a_categorys_key_comes_from_its_swedish_name():
    assert _code_from("Säng/ryggstöd – Ö") == "sang_ryggstod_o"
    assert _code_from("???") == "kategori"
    assert len(_code_from("a" * 100)) <= 40


def test_a_search_takes_wildcards_literally():
    assert like_pattern("  ") is None
    assert like_pattern(" 50%_off\\ ") == "%50\\%\\_off\\\\%"
    assert like_pattern("Liko   Viking") == "%Liko Viking%"


def test_the_public_page_shows_a_categorys_own_checks_instead_of_the_built_in_ones():
    assert checks_for("care_bed") == guide_for("care_bed").checks
    assert checks_for("care_bed", ["Sitter sladden i?"]) == ("Sitter sladden i?",)
    assert checks_for(None, []) == guide_for(None).checks
