"""The example files shipped in examples/import/ (written from the demo region with
`runda export-import-files examples/import --limit 12`) import cleanly into an organisation set up
like the demo region, in the order the README gives."""

from __future__ import annotations

import secrets
from datetime import date
from pathlib import Path

import pytest

from backend import db
from backend.demo.common import Draw
from backend.demo.devices import build_assortment
from backend.demo.organisations import build_organisations
from backend.demo.service import delete_organisation
from backend.imports.files import ORDER
from backend.imports.kinds import KINDS
from backend.organisations import service as organisations
from tests.integration.imports.support import imported

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "import"


@pytest.fixture
async def demo_like(database):
    """An organisation with the demo region's codes (cost bearers, care units, categories and their
    FU schedules, from the demo builder) and nothing else."""
    draw = Draw.start(0.01, 1, date(2026, 3, 2), lambda _: None)
    found = build_organisations(draw)
    organisation = await organisations.create_organisation("Exempelregionen", f"exempel-{secrets.token_hex(4)}", "")
    try:
        bearers = [await db.fetchval("INSERT INTO cost_bearer (organisation, name, kind, code) VALUES ($1, $2, $3, $4) "
                                     "RETURNING id", organisation, b["name"], b["kind"], b["code"])
                   for b in found.cost_bearers]
        for unit in found.care_units:
            await db.execute("INSERT INTO care_unit (organisation, cost_bearer, name, phone) VALUES ($1, $2, $3, $4)",
                             organisation, bearers[unit["cost_bearer"]], unit["name"], unit["phone"])
        for category in build_assortment(draw).categories:
            category_id = await db.fetchval(
                "INSERT INTO device_category (organisation, code, name, iso_code, expected_life_years) "
                "VALUES ($1, $2, $3, $4, $5) RETURNING id", organisation, category["code"], category["name"],
                category["iso_code"], category["expected_life_years"])
            if category["fu_interval_days"]:
                await db.execute("INSERT INTO fu_schedule (organisation, category, name, interval_days) "
                                 "VALUES ($1, $2, 'Förebyggande underhåll', $3)", organisation, category_id,
                                 category["fu_interval_days"])
        yield organisation
    finally:
        await delete_organisation(organisation)


async def test_the_example_files_import_without_a_refused_line(demo_like):
    for kind in ORDER:
        name = KINDS[kind].file_name
        run = await imported(demo_like, kind, (EXAMPLES / name).read_bytes(), name)
        assert (run["state"], run["refused_rows"]) == ("applied", 0), (name, run)
        assert run["new_rows"] == run["rows_read"] > 0
    assert await db.fetchval("SELECT count(*) FROM device_loan WHERE organisation = $1", demo_like) == 12
