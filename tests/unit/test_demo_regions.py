"""The national demo's centres and how one is made from Västmanland's shape (backend/demo/regions.py)."""

from __future__ import annotations

from datetime import date

import pytest

from backend.demo import names as N
from backend.demo.regions import CENTRES, MAX_REGIONS, SHAPE, Move
from backend.demo.service import regions_of

TODAY = date(2026, 3, 2)


def test_there_are_35_centres_each_with_its_own_slug_name_phone_and_ten_municipalities():
    assert MAX_REGIONS == len(CENTRES) == 35
    assert len({c.slug for c in CENTRES}) == len({c.name for c in CENTRES}) == len({c.phone for c in CENTRES}) == 35
    assert CENTRES[0].slug == "vastmanland" and CENTRES[0].municipalities == tuple(SHAPE)
    for c in CENTRES:
        assert len(set(c.municipalities)) == 10, c.slug
        assert 55 < c.latitude < 69 and 10 < c.longitude < 25, c.slug  # in Sweden


def test_västmanland_is_the_shape_largest_first():
    population = {name: pop for name, _, pop, _ in N.MUNICIPALITIES}
    assert SHAPE[0] == "Västerås"
    assert [population[m] for m in SHAPE] == sorted(population.values(), reverse=True)


def test_a_move_renames_municipalities_and_the_region_whole_words_first():
    uppsala = Move.to(next(c for c in CENTRES if c.slug == "uppsala"))
    assert uppsala.text("Hemsjukvården Västerås Norr") == "Hemsjukvården Uppsala Norr"
    assert uppsala.text("Habiliteringen Köping–Fagersta") == "Habiliteringen Enköping–Knivsta"
    assert uppsala.text("Region Västmanland – Primärvård") == "Region Uppsala – Primärvård"
    assert uppsala.text("Neurorehab, Västmanlands sjukhus Västerås") == "Neurorehab, Uppsalas sjukhus Uppsala"
    assert uppsala.text("") == "" and uppsala.text(None) is None


def test_a_move_gives_care_units_the_region_area_code_and_leaves_fiction_mobiles_alone():
    skane = Move.to(next(c for c in CENTRES if c.slug == "skane-malmo"))
    assert skane.phone("021-17 45 67") == "040-17 45 67"
    assert skane.phone("0221-12 345") == "040-12 345"
    assert skane.phone(f"{N.FICTION_MOBILE_PREFIX} 55") == f"{N.FICTION_MOBILE_PREFIX} 55"


def test_västmanland_moves_nowhere():
    home = Move.to(CENTRES[0])
    assert home.d_latitude == home.d_longitude == 0
    assert home.text("Hemsjukvården Västerås Norr") == "Hemsjukvården Västerås Norr"


@pytest.mark.parametrize("scale, regions", [(0.05, 1), (1, 1), (2, 2), (35, 35)])
def test_a_scale_above_1_is_that_many_regions(scale, regions):
    assert regions_of(scale) == regions
