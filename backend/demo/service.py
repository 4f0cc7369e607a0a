"""The demo region: a deterministic Region Västmanland, loaded with COPY in one transaction.

`build_region` draws every row in Python from one `random.Random(seed)` (same seed,
scale and day give the same data), part by part in a fixed order: cost bearers and care
units (organisations.py), staff, patients, the assortment and devices, work orders
(workorders.py, planning.py) and FU with its checklists (maintenance.py), each FU category's
schedule and the technicians' areas. `load_demo` reserves id ranges, turns the rows into records
and copies them in, then runs next month's FU production through the domains' own functions
(production.py: generation, and notices into the dev outbox). Sizes follow docs/PRODUCT.md (HMC
Västmanland, 2025).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Callable

from backend import db
from backend.demo.common import TZ, Draw, WorkCalendar
from backend.demo.devices import build_assortment, build_devices
from backend.demo.faults import build_faults, load_faults
from backend.demo.fittings import build_fittings, load_fittings
from backend.demo.maintenance import checklist_results, fu_history, fu_order_rate, upcoming_fu_orders
from backend.demo.organisations import build_organisations
from backend.demo.patients import build_patients
from backend.demo.planning import plan
from backend.demo.production import month_of_fu
from backend.demo.resources import build_resources, load_resources
from backend.routing.kpi import record_past_days
from backend.demo.staff import build_staff
from backend.demo.workorders import (
    Orders,
    condemned_orders,
    number_orders,
    open_orders_of_devices,
    repair_orders,
)
from backend.organisations import service as organisations
from backend.reports.facts import refresh as refresh_kpis

MAX_SCALE = 40

ORGANISATION_NAME = "Hjälpmedelscentrum Västmanland"
ORGANISATION_SLUG = "vastmanland"
ORGANISATION_PHONE = "021-17 30 00"


@dataclass(frozen=True)
class DemoSummary:
    organisation_id: int
    counts: dict[str, int]  # table name -> rows inserted
    seconds: float


class DemoAlreadyLoaded(RuntimeError):
    """The demo organisation exists already; delete it first."""


# --- Building the region -------------------------------------------------------------


@dataclass
class Region:
    """All rows, with foreign keys as 0-based indices into the referenced list."""

    cost_bearers: list[dict]
    care_units: list[dict]
    staff: list[dict]
    patients: list[dict]
    categories: list[dict]
    articles: list[dict]
    devices: list[dict]
    checklists: list[dict]
    work_orders: list[dict]
    target_day: date  # the first planned working day (today, or the next working day)
    checklist_answers: list[dict]
    safety_decisions: list[dict]
    fu_schedules: list[dict]  # each FU category's schedule (PRODUCT.md's intervals)
    staff_areas: list[dict]  # the municipalities each field technician covers


def build_region(scale: float = 1.0, seed: int = 1, today: date | None = None,
                 progress: Callable[[str], None] = lambda m: None) -> Region:
    """Every row of the demo region, in memory. Pure: no database.

    The parts draw from one random stream in turn, so their order here is part of what a
    seed means: changing it changes every row after.
    """
    _check_scale(scale)
    today = today or datetime.now(TZ).date()
    draw = Draw.start(scale, seed, today, progress)
    organisations = build_organisations(draw)
    staff = build_staff(draw, organisations.care_units)
    patients = build_patients(draw, organisations)
    assortment = build_assortment(draw)
    devices = build_devices(draw, patients, assortment, organisations.municipality_cb)
    work_orders = _work_orders(Orders(draw, staff, patients, devices))
    answers, decisions = checklist_results(draw, work_orders, devices)
    return Region(
        organisations.cost_bearers, organisations.care_units, staff.rows, patients, assortment.categories,
        assortment.articles, devices, assortment.checklists, work_orders, draw.target_day,
        answers, decisions, assortment.schedules, staff.areas(organisations.municipality_cb),
    )


def _work_orders(orders: Orders) -> list[dict]:
    """Repairs and FU, open ones planned into the coming days, numbered in order of receipt."""
    work_orders, to_plan = repair_orders(orders)
    rate = fu_order_rate(orders)
    to_plan += upcoming_fu_orders(orders, rate)
    work_orders += plan(orders, to_plan)
    work_orders += open_orders_of_devices(orders)
    work_orders += fu_history(orders, rate)
    work_orders += condemned_orders(orders)
    number_orders(work_orders)
    orders.draw.progress(f"work orders {len(work_orders)}/{len(work_orders)} generated")
    return work_orders


def _check_scale(scale: float) -> None:
    if not isinstance(scale, (int, float)) or math.isnan(scale) or scale <= 0 or scale > MAX_SCALE:
        raise ValueError(f"scale must be above 0 and at most {MAX_SCALE}, not {scale}")


# --- Loading ---------------------------------------------------------------------------

# Table, columns (without organisation and id, which are added), foreign keys -> table.
_TABLES: list[tuple[str, str, list[str], dict[str, str], bool]] = [
    ("cost_bearer", "cost_bearers", ["name", "kind", "code"], {}, True),
    ("care_unit", "care_units", ["cost_bearer", "name", "phone"], {"cost_bearer": "cost_bearer"}, True),
    ("staff_user", "staff", ["name", "role", "care_unit", "user_handle", "active"],
     {"care_unit": "care_unit"}, True),
    ("patient", "patients", ["care_unit", "cost_bearer", "personal_number", "given_name", "family_name",
                             "birth_year", "sex", "street", "postal_code", "city", "latitude", "longitude",
                             "phone", "door_code", "access_notes", "protected_identity", "notice_channel", "email"],
     {"care_unit": "care_unit", "cost_bearer": "cost_bearer"}, True),
    ("device_category", "categories", ["code", "name", "iso_code", "expected_life_years"], {}, True),
    ("article", "articles", ["article_number", "name", "manufacturer", "category"],
     {"category": "device_category"}, True),
    ("device", "devices", ["individnummer", "serial_number", "article", "status", "holder", "owner",
                           "in_service_date", "expected_end_of_life", "last_fu_date", "next_fu_date",
                           "manufacturing_date", "lot_number"],
     {"article": "article", "holder": "patient", "owner": "cost_bearer"}, True),
    ("fu_schedule", "fu_schedules", ["category", "name", "interval_days", "checklist_code", "before_new_user"],
     {"category": "device_category"}, True),
    ("checklist_template", "checklists", ["category", "version", "items", "published_at", "created_at"], {"category": "device_category"}, False),
    ("work_order", "work_orders", ["number", "type", "status", "channel", "device", "patient", "care_unit",
                                   "orderer", "description", "assignee", "planned_date", "window_start",
                                   "window_end", "route_position", "version", "received_at", "start_due",
                                   "finish_due", "started_at", "completed_at", "cancelled_at", "cancel_reason",
                                   "outcome", "updated_at", "not_completed_reason", "message_to_orderer",
                                   "fu_schedule", "fu_due_date"],
     {"device": "device", "patient": "patient", "care_unit": "care_unit", "orderer": "staff_user",
      "assignee": "staff_user", "fu_schedule": "fu_schedule"}, True),
    ("checklist_answer", "checklist_answers", ["work_order", "template", "item_key", "answer", "measurement",
                                               "comment", "answered_by", "answered_at"],
     {"work_order": "work_order", "template": "checklist_template", "answered_by": "staff_user"}, False),
    ("safety_decision", "safety_decisions", ["work_order", "item_key", "decision", "comment", "decided_by",
                                             "decided_at"],
     {"work_order": "work_order", "decided_by": "staff_user"}, False),
]
_LABELS = {"patients": "patients", "devices": "devices", "work_orders": "work orders",
           "checklist_answers": "checklist answers"}
_CHUNK = 20_000


async def load_demo(
    scale: float = 1.0,
    seed: int = 1,
    progress: Callable[[str], None] = lambda m: None,
    today: date | None = None,
) -> DemoSummary:
    """Generate the demo region and load it in one transaction; nothing stays on failure."""
    _check_scale(scale)
    started = time.perf_counter()
    today = today or datetime.now(TZ).date()
    region = build_region(scale, seed, today, progress)
    fittings = build_fittings(region, seed, today, scale,
                              WorkCalendar(today - timedelta(days=800), today + timedelta(days=200)))
    faults = build_faults(region, seed, today)
    counts: dict[str, int] = {}
    async with db.transaction():
        async with db.connection() as conn:  # the connection itself: asyncpg's COPY
            exists = await conn.fetchval("SELECT id FROM organisation WHERE slug = $1", ORGANISATION_SLUG)
            if exists is not None:
                raise DemoAlreadyLoaded(
                    f"the demo organisation '{ORGANISATION_SLUG}' exists already (id {exists})"
                )
            org_id = await conn.fetchval(
                "INSERT INTO organisation (name, slug, phone) VALUES ($1, $2, $3) RETURNING id",
                ORGANISATION_NAME, ORGANISATION_SLUG, ORGANISATION_PHONE,
            )
            counts["organisation"] = 1
            bases: dict[str, int] = {}
            for table, attr, _, _, _ in _TABLES:
                bases[table] = await _reserve_ids(conn, table, len(getattr(region, attr)))
            for table, attr, columns, fks, has_org in _TABLES:
                rows = getattr(region, attr)
                records = _records(rows, columns, fks, bases, table, org_id if has_org else None)
                all_columns = ["id"] + (["organisation"] if has_org else []) + columns
                label = _LABELS.get(attr, table.replace("_", " "))
                for start in range(0, len(records), _CHUNK):
                    chunk = records[start : start + _CHUNK]
                    await conn.copy_records_to_table(table, records=chunk, columns=all_columns)
                    progress(f"{label} {start + len(chunk)}/{len(records)}")
                counts[table] = len(records)
            # Each device on loan has its open loan, from the day it went into service.
            loaned = await conn.execute(
                "INSERT INTO device_loan (organisation, device, patient, from_date) "
                "SELECT organisation, id, holder, in_service_date FROM device WHERE organisation = $1 AND holder IS NOT NULL",
                org_id)
            counts["device_loan"] = int(loaned.split()[-1])
            # The field technicians' areas: the municipalities of the districts they drive.
            await conn.copy_records_to_table(
                "staff_area", columns=["staff_user", "cost_bearer"],
                records=[(bases["staff_user"] + a["staff_user"], bases["cost_bearer"] + a["cost_bearer"])
                         for a in region.staff_areas])
            counts["staff_area"] = len(region.staff_areas)
            # The technicians as planning resources (homes, hours, lunch, skills, a driving limit).
            counts.update(await load_resources(conn, org_id, build_resources(
                region.staff, region.staff_areas, region.cost_bearers, region.categories), bases))
            counts.update(await load_fittings(conn, org_id, fittings, bases, _reserve_ids))
            progress(f"fitting bookings {counts['fitting_booking']}")
            counts.update(await load_faults(conn, org_id, faults, bases, _reserve_ids))
            progress(f"device tokens {counts['device_token']}, fault reports {counts['fault_report']}")
    # Fresh statistics for the planner: right after a bulk load it would otherwise plan for
    # empty tables (a full scan of checklist answers instead of its index) until autovacuum comes by.
    await db.execute("ANALYZE")
    progress("planner statistics updated")
    try:
        made = await month_of_fu(org_id, today, progress)
    except BaseException:
        await delete_organisation(org_id)  # nothing stays on failure, this part included
        raise
    counts["work_order"] += made.pop("work_order")
    counts.update(made)
    # The driving KPI's past days (the planned km of two years of technician-days, as the nightly
    # job keeps them), so /planering/korstracka has figures from the first start.
    try:
        counts["route_day"] = await record_past_days(org_id, today)
    except BaseException:
        await delete_organisation(org_id)
        raise
    progress(f"route days {counts['route_day']}")
    # The KPI summary (the dashboard's figures), as the nightly job keeps it, so /oversikt has figures
    # from the first start.
    try:
        counts["kpi_fact"] = await refresh_kpis(org_id, today)
    except BaseException:
        await delete_organisation(org_id)
        raise
    progress(f"kpi facts {counts['kpi_fact']}")
    seconds = time.perf_counter() - started
    progress(f"done in {seconds:.1f} s")
    return DemoSummary(organisation_id=org_id, counts=counts, seconds=seconds)


async def _reserve_ids(conn, table: str, n: int) -> int:
    """Reserve n consecutive ids from the table's sequence; returns the first."""
    seq = await conn.fetchval("SELECT pg_get_serial_sequence($1, 'id')", table)
    first = await conn.fetchval("SELECT nextval($1::regclass)", seq)
    if n > 1:
        await conn.execute("SELECT setval($1::regclass, $2)", seq, first + n - 1)
    return first


def _records(rows: list[dict], columns: list[str], fks: dict[str, str], bases: dict[str, int],
             table: str, org_id: int | None) -> list[tuple]:
    base = bases[table]
    out = []
    for i, row in enumerate(rows):
        values = [base + i] if org_id is None else [base + i, org_id]
        for c in columns:
            v = row[c]
            target = fks.get(c)
            if target is not None and v is not None:
                v = bases[target] + v
            values.append(v)
        out.append(tuple(values))
    return out


async def database_is_empty() -> bool:
    """True when no organisation exists yet."""
    return not await organisations.organisation_exists()


# Removing a region (the demo's, a test's) is the organisations domain's: it reads the catalogue.
delete_organisation = organisations.delete_organisation

