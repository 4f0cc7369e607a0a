"""The demo region written as import files and imported into an empty organisation is the same
region again; importing the same files a second time changes nothing."""

from __future__ import annotations

from datetime import date

import pytest

from backend import db
from backend.demo.service import delete_organisation, load_demo
from backend.imports.files import ORDER, export_files
from backend.imports.kinds import KINDS
from tests.integration.imports.support import empty_copy, imported

TODAY = date(2026, 3, 2)
SCALE = 0.03


@pytest.fixture(scope="module")
async def region(database):
    demo = await load_demo(scale=SCALE, seed=1, today=TODAY)
    copy = await empty_copy(demo.organisation_id)
    try:
        yield demo.organisation_id, copy
    finally:
        await delete_organisation(copy)
        await delete_organisation(demo.organisation_id)


# Each register as the import sees it: natural keys and the other organisation's codes, no ids.
ARTICLES = """
    SELECT a.article_number, a.name, a.manufacturer, k.code AS category
    FROM article a LEFT JOIN device_category k ON k.id = a.category WHERE a.organisation = $1
"""
PATIENTS = """
    SELECT p.personal_number, p.given_name, p.family_name, p.birth_year, p.sex, p.street, p.postal_code, p.city,
           p.latitude, p.longitude, p.phone, p.door_code, p.access_notes, p.protected_identity,
           u.name AS care_unit, b.code AS cost_bearer
    FROM patient p JOIN care_unit u ON u.id = p.care_unit JOIN cost_bearer b ON b.id = p.cost_bearer
    WHERE p.organisation = $1
"""
DEVICES = """
    SELECT d.individnummer, a.article_number, d.serial_number, d.udi, b.code AS owner, d.status, d.in_service_date,
           d.expected_end_of_life, d.last_fu_date, d.next_fu_date, h.personal_number AS holder
    FROM device d JOIN article a ON a.id = d.article LEFT JOIN cost_bearer b ON b.id = d.owner
    LEFT JOIN patient h ON h.id = d.holder WHERE d.organisation = $1
"""
LOANS = """
    SELECT d.individnummer, p.personal_number, l.from_date
    FROM device_loan l JOIN device d ON d.id = l.device JOIN patient p ON p.id = l.patient
    WHERE l.organisation = $1 AND l.to_date IS NULL
"""


async def register(sql: str, organisation_id: int) -> set[tuple]:
    return {tuple(r) for r in await db.fetch(sql, organisation_id)}


async def test_the_demo_region_exported_and_imported_into_an_empty_organisation_is_the_same(region):
    demo, copy = region
    files = await export_files(demo)
    runs = {}
    for kind in ORDER:
        runs[kind] = await imported(copy, kind, files[KINDS[kind].file_name], KINDS[kind].file_name)
        assert runs[kind]["state"] == "applied", kind
        assert runs[kind]["refused_rows"] == 0, (kind, runs[kind])
    for sql, kind in ((ARTICLES, "articles"), (PATIENTS, "patients"), (DEVICES, "devices"), (LOANS, "loans")):
        theirs, ours = await register(sql, demo), await register(sql, copy)
        assert len(ours) == len(theirs) == runs[kind]["new_rows"], kind
        assert ours == theirs, f"{kind}: {sorted(theirs - ours)[:3]} became {sorted(ours - theirs)[:3]}"
    assert 0.9 * 80_000 * SCALE < runs["devices"]["new_rows"] < 1.1 * 80_000 * SCALE
    # Every import is one entry in the change history, not one per row.
    entries = await db.fetch("SELECT register, action, changes FROM register_change WHERE organisation = $1", copy)
    assert [(e["register"], e["action"]) for e in entries] == [("import", "imported")] * 4


async def test_a_second_import_of_the_same_files_changes_nothing(region):
    demo, copy = region
    files = await export_files(demo)
    before = {sql: await register(sql, copy) for sql in (ARTICLES, PATIENTS, DEVICES, LOANS)}
    loans_before = await db.fetchval("SELECT count(*) FROM device_loan WHERE organisation = $1", copy)
    schedules_before = await db.fetchval("SELECT count(*) FROM fu_schedule WHERE organisation = $1", copy)
    for kind in ORDER:
        run = await imported(copy, kind, files[KINDS[kind].file_name])
        assert (run["state"], run["new_rows"], run["changed_rows"], run["refused_rows"]) == ("dry_run", 0, 0, 0), kind
        assert run["unchanged_rows"] == run["rows_read"] > 0
    for sql, rows in before.items():
        assert await register(sql, copy) == rows
    assert await db.fetchval("SELECT count(*) FROM device_loan WHERE organisation = $1", copy) == loans_before
    assert await db.fetchval("SELECT count(*) FROM fu_schedule WHERE organisation = $1", copy) == schedules_before
