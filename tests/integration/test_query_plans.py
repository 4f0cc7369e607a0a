"""The daily pages reach the region's large tables through indexes (issue 20): every statement each
page runs on the demo regions, EXPLAINed with tables readable only through an index condition
(tests/support/plans.py), reads no large table whole. On a small database the planner would
rightly scan any table; made to take an index whenever one can serve the statement, a scan that
remains is one no index can serve, and at scale 35 it would read every region's rows.

The pages are the bench's scenarios (tests/load/bench.py) and the coordinator's other daily
lists. The checker itself is shown to catch a statement no index serves, on a partitioned table
too, and a page whose index is dropped. How fast the indexes make the pages at scale is the
bench's to measure: tests/support/daily_pages.explain_daily_pages on its database.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest

from backend import db
from backend.demo.service import delete_organisation, load_demo
from backend.workdays import today
from tests.support.daily_pages import PAGES, run_page, signed_in_region
from tests.support.plans import (
    LARGE_TABLES,
    Statement,
    capturing_statements,
    explain_statements,
    find_full_scans,
    full_scans,
    summarise,
)

SCALE = 0.05  # a region of ~4,000 devices, 1,700 orders, 6,000 checklist answers: loaded in about a second
# More than one region: with one, "organisation = $1" selects every row, and an index that leads with
# the organisation looks no better to the planner than one it has to skip through.
REGIONS = 3


@pytest.fixture(scope="module")
async def region(database, app):
    summary = await load_demo(scale=SCALE, seed=1, today=today(), regions=REGIONS)
    try:
        assert len(summary.organisations) == REGIONS
        await db.execute("ANALYZE")  # as autovacuum would have by the time anyone uses the pages
        async with signed_in_region(app, summary.organisation_id) as region:
            yield region
    finally:
        for organisation in summary.organisations:
            await delete_organisation(organisation)


@pytest.mark.parametrize("page", list(PAGES))
async def test_no_daily_page_reads_a_large_table_whole(region, page):
    response, statements, counted = await run_page(region, page)
    assert response.status_code in (200, 303), f"{page}: {response.status_code} {response.text[:500]}"
    assert len(statements) == counted, f"{page}: {len(statements)} statements captured, {counted} queries counted"
    findings, explained = await find_full_scans(statements, page)
    assert any(e.nodes for e in explained), f"{page}: no statement captured"
    errors = [f"{e.error}\n    in: {e.statement.short()}" for e in explained if e.error]
    assert not errors, f"{page}: statements that could not be explained:\n  " + "\n  ".join(errors)
    assert not findings, (f"{page}: {len(findings)} scan(s) of a large table that no index serves:\n  "
                          + "\n  ".join(str(f) for f in findings))


# --- the checker can fail ---------------------------------------------------------------------

async def test_the_checker_reports_a_statement_no_index_serves(region):
    # No index has the lot number: the devices of a lot are found by reading every region's devices.
    bad = Statement("SELECT id FROM device WHERE lot_number = $1", ("L0001",))
    good = Statement("SELECT id FROM device WHERE organisation = $1 AND individnummer = $2",
                     (region.organisation, region.facts["individnummer"]))
    small = Statement("SELECT id FROM device_category WHERE code = $1", ("rullstol",))
    findings, _ = await find_full_scans([good, bad, small], "probe")
    assert [(f.statement, f.node.table, f.reason) for f in findings] == [(bad, "device", "sequential scan")]
    assert "probe: sequential scan of device" in str(findings[0]) and "lot_number" in str(findings[0])


async def test_the_checker_counts_a_month_of_the_access_log_as_the_access_log(region):
    # The access log is partitioned by month: the scan is of a partition, reported as audit_log.
    bad = Statement("SELECT count(*) FROM audit_log WHERE role = $1", ("technician",))
    findings, _ = await find_full_scans([bad])
    assert findings and {f.node.table for f in findings} == {"audit_log"}
    assert all(re.fullmatch(r"audit_log_(\d{4}_\d{2}|default)", f.node.relation) for f in findings)


async def test_a_daily_page_fails_the_check_when_its_index_is_gone(region):
    _, statements, _ = await run_page(region, "sticker page")
    assert not (await find_full_scans(statements, "sticker page"))[0]
    # The sticker's token without its index, in a transaction rolled back: the page must fail.
    async with db.connection() as connection:
        transaction = connection.transaction()
        await transaction.start()
        try:
            await connection.execute("ALTER TABLE device_token DROP CONSTRAINT device_token_token_key")
            findings, _ = await find_full_scans(statements, "sticker page", connection=connection)
        finally:
            await transaction.rollback()
    assert [(f.page, f.node.table, f.reason) for f in findings] == [("sticker page", "device_token", "sequential scan")]
    assert "token" in findings[0].node.filter


async def test_a_full_index_scan_is_a_finding_too(region):
    # Ordered by an indexed column but filtered by none that an index has: the planner reads the whole
    # index in order instead of the table, which is every row all the same.
    bad = Statement("SELECT id FROM work_order WHERE description <> $1 ORDER BY id LIMIT 5", ("x",))
    findings, _ = await find_full_scans([bad])
    assert [(f.node.table, f.reason) for f in findings] == [("work_order", "full index scan (no index condition)")]


async def test_the_bench_s_explain_analyze_names_the_skip_scan_and_leaves_nothing_written(region):
    # The access log's indexes all lead with something other than the time: a search by time alone
    # skips through every value of the first column of whichever the planner takes, or reads it all.
    search = Statement("SELECT count(*) FROM audit_log WHERE at >= $1 AND what = $2",
                       (datetime.now(timezone.utc) - timedelta(days=1), "nothing"))
    write = Statement("UPDATE work_order SET description = 'Planprov' WHERE id = $1", (region.facts["order"],))
    explained = await explain_statements([search, Statement("BEGIN"), write], analyze=True)
    assert [e["statement"] for e in explained] == [search, write] and not any(e["error"] for e in explained)
    findings = full_scans(search, explained[0]["nodes"], skip_scans=True)
    assert findings and all(f.node.table == "audit_log" for f in findings), [str(f) for f in findings]
    assert {f.reason.split(" of ")[0].split(" (")[0] for f in findings} <= {"skip scan", "sequential scan"}
    assert explained[1]["execution_ms"] is not None and explained[1]["nodes"][0].node_type == "ModifyTable"
    assert await db.fetchval("SELECT description FROM work_order WHERE id = $1", region.facts["order"]) != "Planprov"
    lines: list[str] = []
    summarise(explained, page="probe", out=lines.append, min_rows=0)
    assert lines[0].startswith("== probe: 2 statements") and any("WHOLE TABLE" in line for line in lines)
    assert any("slowest:" in line and "buffers hit" in line for line in lines)


async def test_the_capture_records_each_statement_with_its_arguments(region):
    async with capturing_statements() as statements:
        await db.fetchval("SELECT count(*) FROM device WHERE organisation = $1", region.organisation)
        async with db.transaction():
            await db.execute("SELECT 1")
    assert statements[0] == Statement("SELECT count(*) FROM device WHERE organisation = $1", (region.organisation,))
    assert [s.kind for s in statements] == ["select", "begin", "select", "commit"]
    assert "device" in LARGE_TABLES and "device_category" not in LARGE_TABLES
