"""Loading the demo region into PostgreSQL: COPY, one transaction, determinism, clean-up."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from backend import db
from backend.demo import service
from backend.demo.common import personnummer_is_valid
from backend.demo.service import (
    DemoAlreadyLoaded,
    database_is_empty,
    delete_organisation,
    load_demo,
)

TODAY = date(2026, 3, 2)  # a Monday
SCALE = 0.02

OWNED_TABLES = ["cost_bearer", "care_unit", "staff_user", "patient", "device_category", "article",
                "device", "work_order", "audit_log"]


async def _org_rows(org_id: int) -> dict[str, int]:
    counts = {t: await db.fetchval(f"SELECT count(*) FROM {t} WHERE organisation = $1", org_id)
              for t in OWNED_TABLES}
    counts["checklist_template"] = await db.fetchval(
        "SELECT count(*) FROM checklist_template t JOIN device_category c ON c.id = t.category "
        "WHERE c.organisation = $1", org_id)
    return counts


async def _demo_exists() -> bool:
    return bool(await db.fetchval("SELECT count(*) FROM organisation WHERE slug = 'vastmanland'"))


@pytest.fixture
async def demo(database):
    summary = await load_demo(scale=SCALE, seed=1, today=TODAY)
    try:
        yield summary
    finally:
        await delete_organisation(summary.organisation_id)


async def test_load_counts_match_the_database_and_scale(demo):
    counts = await _org_rows(demo.organisation_id)
    for table, n in counts.items():
        if table != "audit_log":
            assert n == demo.counts[table], table
    # The only reads of patients' data: the demo coordinator sending next month's notices.
    assert counts["audit_log"] == await db.fetchval(
        "SELECT count(*) FROM audit_log WHERE organisation = $1 AND what = 'notice_send'", demo.organisation_id)
    assert counts["patient"] == round(23_000 * SCALE)
    assert counts["cost_bearer"] == 13  # the municipality list does not scale
    assert 0.9 * 80_000 * SCALE < counts["device"] < 1.1 * 80_000 * SCALE
    assert 0.8 * 30_000 * SCALE < counts["work_order"] < 1.3 * 30_000 * SCALE
    assert not await database_is_empty()
    org = await db.fetchrow("SELECT name, slug, phone FROM organisation WHERE id = $1", demo.organisation_id)
    assert tuple(org) == ("Hjälpmedelscentrum Västmanland", "vastmanland", "021-17 30 00")


async def test_sequences_continue_after_the_copied_ids(demo):
    for table in ("patient", "device", "work_order", "staff_user"):
        top = await db.fetchval(f"SELECT max(id) FROM {table}")
        nxt = await db.fetchval(f"SELECT nextval(pg_get_serial_sequence('{table}', 'id'))")
        assert nxt > top, table


async def test_personnummer_are_valid_and_unique(demo):
    rows = await db.fetch("SELECT personal_number, sex FROM patient WHERE organisation = $1",
                          demo.organisation_id)
    assert len({r["personal_number"] for r in rows}) == len(rows)
    for r in rows:
        assert personnummer_is_valid(r["personal_number"])
        assert int(r["personal_number"][11]) % 2 == (1 if r["sex"] == "M" else 0)
    share = await db.fetchval("SELECT avg(protected_identity::int) FROM patient WHERE organisation = $1",
                              demo.organisation_id)
    assert 0 < share < 0.02


async def test_first_technician_has_visits_today(demo):
    tech = await db.fetchval("SELECT min(id) FROM staff_user WHERE organisation = $1 AND role = 'technician'",
                             demo.organisation_id)
    visits = await db.fetch(
        "SELECT w.type, w.route_position, w.window_start, w.window_end, p.care_unit "
        "FROM work_order w JOIN patient p ON p.id = w.patient "
        "WHERE w.assignee = $1 AND w.planned_date = $2 AND w.status = 'planned' ORDER BY w.route_position",
        tech, TODAY)
    assert 6 <= len(visits) <= 10
    assert [v["route_position"] for v in visits] == list(range(1, len(visits) + 1))
    assert {v["type"] == "maintenance" for v in visits} == {True, False}
    prescriber_unit_patients = await db.fetchval(
        "SELECT count(*) FROM patient WHERE care_unit = (SELECT care_unit FROM staff_user "
        "WHERE organisation = $1 AND role = 'prescriber' ORDER BY id LIMIT 1)", demo.organisation_id)
    assert prescriber_unit_patients > 0


async def test_every_fu_device_has_a_next_fu_date(demo):
    missing = await db.fetchval(
        "SELECT count(*) FROM device d JOIN article a ON a.id = d.article "
        "JOIN device_category c ON c.id = a.category "
        "WHERE d.organisation = $1 AND d.status <> 'condemned' AND d.next_fu_date IS NULL "
        "AND EXISTS (SELECT 1 FROM fu_schedule s WHERE s.category = c.id AND s.checklist_code = 'fu' AND s.active)",
        demo.organisation_id)
    assert missing == 0
    checklists = await db.fetch(
        "SELECT jsonb_array_length(t.items) AS n FROM checklist_template t "
        "JOIN device_category c ON c.id = t.category WHERE c.organisation = $1", demo.organisation_id)
    assert len(checklists) == 10 and all(8 <= r["n"] <= 15 for r in checklists)


async def test_every_device_was_made_in_a_lot_a_little_before_it_went_into_service(demo):
    # So that a demo recall by manufacturing period or lot finds devices (backend/recalls).
    row = await db.fetchrow(
        "SELECT count(*) AS devices, count(*) FILTER (WHERE manufacturing_date BETWEEN in_service_date - 180 "
        "AND in_service_date - 30 AND lot_number ~ '^L[0-9]{4}$') AS made FROM device WHERE organisation = $1",
        demo.organisation_id)
    assert row["devices"] > 0 and row["made"] == row["devices"]


async def test_loading_twice_is_refused(demo):
    with pytest.raises(DemoAlreadyLoaded):
        await load_demo(scale=SCALE, seed=1, today=TODAY)


async def test_same_seed_gives_the_same_data(database):
    async def load_and_read() -> tuple[list[str], list[str], list[str]]:
        summary = await load_demo(scale=SCALE, seed=3, today=TODAY)
        try:
            org = summary.organisation_id
            pnr = [r[0] for r in await db.fetch(
                "SELECT personal_number FROM patient WHERE organisation = $1 ORDER BY id", org)]
            ind = [r[0] for r in await db.fetch(
                "SELECT individnummer FROM device WHERE organisation = $1 ORDER BY id", org)]
            wo = [r[0] for r in await db.fetch(
                "SELECT number || type || status FROM work_order WHERE organisation = $1 ORDER BY id", org)]
            return pnr, ind, wo
        finally:
            await delete_organisation(summary.organisation_id)

    first = await load_and_read()
    second = await load_and_read()
    assert first == second


async def test_delete_organisation_leaves_nothing(database):
    summary = await load_demo(scale=SCALE, seed=1, today=TODAY)
    await delete_organisation(summary.organisation_id)
    assert set((await _org_rows(summary.organisation_id)).values()) == {0}
    assert not await _demo_exists()


@pytest.mark.parametrize("scale", [0, -2, 36])
async def test_invalid_scale_writes_nothing(database, scale):
    with pytest.raises(ValueError, match="scale"):
        await load_demo(scale=scale, today=TODAY)
    assert not await _demo_exists()


async def test_a_failure_half_way_rolls_everything_back(database, monkeypatch):
    real = service._records

    def failing(rows, columns, fks, bases, table, org_id):
        if table == "work_order":
            raise RuntimeError("disk full")
        return real(rows, columns, fks, bases, table, org_id)

    monkeypatch.setattr(service, "_records", failing)
    before = await db.fetchval("SELECT count(*) FROM patient")
    with pytest.raises(RuntimeError, match="disk full"):
        await load_demo(scale=SCALE, today=TODAY)
    assert not await _demo_exists()
    assert await db.fetchval("SELECT count(*) FROM patient") == before


async def test_demo_fittings_give_a_plausible_service_level_and_upcoming_bookings(demo):
    from backend.fittings import service as fittings

    org = demo.organisation_id
    assert demo.counts["product_area"] == 5 and demo.counts["availability_template"] > 0
    rows = await fittings.fitting_service_level(org, date(2025, 3, 1), date(2026, 2, 1))
    referrals = sum(r.referrals for r in rows)
    assert referrals >= 10
    assert 0.4 <= sum(r.offered_within for r in rows) / referrals <= 0.95
    consultant = await db.fetchval("SELECT min(id) FROM staff_user WHERE organisation = $1 AND role = 'consultant'", org)
    prescriber = await db.fetchval("SELECT min(id) FROM staff_user WHERE organisation = $1 AND role = 'prescriber'", org)
    upcoming = [b for b in await fittings.bookings_for_staff(prescriber, include_cancelled=False)
                if b.consultant_id == consultant and b.starts_at.date() >= TODAY]
    assert len(upcoming) >= 2
    # The demo's bookings sit on the consultants' own slots: a booked time is never offered again.
    slots = await fittings.find_slots(org, upcoming[0].product_area_id, upcoming[0].place,
                                      now=upcoming[0].starts_at - timedelta(days=2), consultant_id=consultant, limit=50)
    assert upcoming[0].starts_at not in {s.starts_at for s in slots}
