"""The demo at national scale: N regions of Västmanland's shape in one installation, each an
organisation of its own, loaded two at a time, in order, and nothing left behind on failure."""

from __future__ import annotations

from datetime import date

import pytest

from backend import db
from backend.demo import service
from backend.demo.regions import CENTRES
from backend.demo.service import build_region, delete_organisation, load_demo

TODAY = date(2026, 3, 2)  # a Monday
SCALE = 0.02


@pytest.fixture
async def regions(database):
    summary = await load_demo(scale=SCALE, seed=1, today=TODAY, regions=3)
    try:
        yield summary
    finally:
        for org in summary.organisations:
            await delete_organisation(org)


async def test_each_region_is_an_organisation_of_its_own_in_order(regions):
    rows = await db.fetch("SELECT id, slug, name, phone FROM organisation WHERE id = ANY($1::int[]) ORDER BY id",
                          regions.organisations)
    assert [r["slug"] for r in rows] == [c.slug for c in CENTRES[:3]]
    assert [r["id"] for r in rows] == regions.organisations
    assert regions.organisation_id == rows[0]["id"]
    assert len({r["name"] for r in rows}) == len({r["phone"] for r in rows}) == 3
    # The first region's people come first, as at scale 1: its technician is the first technician.
    first_technician = await db.fetchrow(
        "SELECT organisation FROM staff_user WHERE role = 'technician' AND organisation = ANY($1::int[]) "
        "ORDER BY id LIMIT 1", regions.organisations)
    assert first_technician["organisation"] == rows[0]["id"]
    for table in ("staff_user", "patient", "device"):
        ranges = await db.fetch(f"SELECT organisation, min(id) AS lo, max(id) AS hi FROM {table} "
                                "WHERE organisation = ANY($1::int[]) GROUP BY organisation ORDER BY min(id)",
                                regions.organisations)
        assert [r["organisation"] for r in ranges] == regions.organisations, table
        assert all(a["hi"] < b["lo"] for a, b in zip(ranges, ranges[1:])), table


async def test_the_first_region_is_the_same_data_as_at_scale_1(regions):
    alone = build_region(SCALE, seed=1, today=TODAY)
    numbers = [r["individnummer"] for r in await db.fetch(
        "SELECT individnummer FROM device WHERE organisation = $1 ORDER BY id", regions.organisation_id)]
    assert numbers == [d["individnummer"] for d in alone.devices]
    other = [r["individnummer"] for r in await db.fetch(
        "SELECT individnummer FROM device WHERE organisation = $1 ORDER BY id", regions.organisations[1])]
    assert other != numbers  # its own seed: other devices, other people


async def test_each_region_has_its_own_municipalities_and_lies_around_its_own_town(regions):
    for org, centre in zip(regions.organisations, CENTRES):
        names = {r["name"] for r in await db.fetch(
            "SELECT name FROM cost_bearer WHERE organisation = $1 AND kind = 'municipality'", org)}
        assert names == set(centre.municipalities)
        towns = {r["city"] for r in await db.fetch("SELECT DISTINCT city FROM patient WHERE organisation = $1", org)}
        assert towns <= set(centre.municipalities) | ({"Skultuna", "Tillberga", "Dingtuna", "Irsta", "Kolsva",
                                                       "Ransta", "Möklinta", "Västerfärnebo", "Ängelsberg",
                                                       "Kolbäck", "Valskog", "Kärrgruvan", "Riddarhyttan", "Virsbo"}
                                                      if centre.slug == "vastmanland" else set())
        centre_of_homes = await db.fetchrow(
            "SELECT avg(latitude) AS lat, avg(longitude) AS lon FROM patient WHERE organisation = $1", org)
        assert abs(centre_of_homes["lat"] - centre.latitude) < 0.3
        assert abs(centre_of_homes["lon"] - centre.longitude) < 0.5
        units = [r["name"] for r in await db.fetch("SELECT name FROM care_unit WHERE organisation = $1", org)]
        if centre.slug != "vastmanland":
            assert not any("Västerås" in u or "Västmanland" in u for u in units), units


async def test_rows_point_only_into_their_own_region(regions):
    crossing = await db.fetchval(
        """
        SELECT count(*) FROM device d JOIN patient p ON p.id = d.holder
        WHERE d.organisation = ANY($1::int[]) AND p.organisation <> d.organisation
        """, regions.organisations)
    assert crossing == 0
    crossing = await db.fetchval(
        """
        SELECT count(*) FROM work_order w JOIN device d ON d.id = w.device
        WHERE w.organisation = ANY($1::int[]) AND d.organisation <> w.organisation
        """, regions.organisations)
    assert crossing == 0
    for org in regions.organisations:  # each region ran its own FU production
        assert await db.fetchval("SELECT count(*) FROM kpi_fact WHERE organisation = $1", org) > 0


async def test_a_region_failing_takes_the_regions_loaded_before_with_it(database, monkeypatch):
    real = service.month_of_fu
    calls = []

    async def failing(organisation_id, today, progress):
        calls.append(organisation_id)
        if len(calls) == 3:
            raise RuntimeError("disk full")
        return await real(organisation_id, today, progress)

    monkeypatch.setattr(service, "month_of_fu", failing)
    before = await db.fetchval("SELECT count(*) FROM organisation")
    with pytest.raises(RuntimeError, match="disk full"):
        await load_demo(scale=SCALE, seed=1, today=TODAY, regions=3)
    assert await db.fetchval("SELECT count(*) FROM organisation") == before
    assert not await db.fetchval("SELECT count(*) FROM organisation WHERE slug = ANY($1::text[])",
                                 [c.slug for c in CENTRES[:3]])


@pytest.mark.parametrize("scale", [1.5, 36])
async def test_a_scale_above_1_is_a_whole_number_of_regions(database, scale):
    with pytest.raises(ValueError, match="scale"):
        await load_demo(scale=scale, today=TODAY)
