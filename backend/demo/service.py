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

import asyncio
import math
import time
from dataclasses import dataclass, field
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
from backend.demo.regions import CENTRES, MAX_REGIONS, Centre, move
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

MAX_SCALE = MAX_REGIONS  # 35 centres of Västmanland's size: the whole country


@dataclass(frozen=True)
class DemoSummary:
    organisation_id: int  # the first region's (Västmanland)
    counts: dict[str, int]  # table name -> rows inserted, all regions together
    seconds: float
    organisations: list[int] = field(default_factory=list)  # every region's, in order


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
    if scale > 1 and scale != int(scale):
        raise ValueError(f"a scale above 1 is a number of regions, a whole number, not {scale}")


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


@dataclass
class _Built:
    """One region's rows, built in memory (in a thread, while another region loads)."""

    centre: Centre
    region: Region
    fittings: object
    faults: object
    resources: object


def _build(centre: Centre, scale: float, seed: int, today: date, progress: Callable[[str], None]) -> _Built:
    region = build_region(scale, seed, today, progress)
    fittings = build_fittings(region, seed, today, scale,
                              WorkCalendar(today - timedelta(days=800), today + timedelta(days=200)))
    faults = build_faults(region, seed, today)
    resources = build_resources(region.staff, region.staff_areas, region.cost_bearers, region.categories)
    move(region, fittings, faults, resources, centre)
    return _Built(centre, region, fittings, faults, resources)


def regions_of(scale: float) -> int:
    """How many regions a scale means: up to 1 one region (a part of it below 1), above 1 that many."""
    _check_scale(scale)
    return int(scale) if scale > 1 else 1


def region_seed(seed: int, k: int) -> int:
    """Region k's own seed: the first region keeps the seed, so it is the same at every scale."""
    return seed + 7919 * k


async def load_demo(
    scale: float = 1.0,
    seed: int = 1,
    progress: Callable[[str], None] = lambda m: None,
    today: date | None = None,
    regions: int | None = None,
) -> DemoSummary:
    """Generate the demo and load it, one region (organisation) per transaction; nothing stays on failure.

    Up to scale 1 that is Västmanland (a part of it below 1); at scale N above 1 it is N centres of
    Västmanland's shape (regions.py), two at a time: each is built in a thread and copied in on its
    own connection, so Python and PostgreSQL (one backend per region) keep both cores busy."""
    count = regions_of(scale) if regions is None else regions  # `regions`: that many at `scale` each (tests)
    if not 1 <= count <= MAX_REGIONS:
        raise ValueError(f"regions must be from 1 to {MAX_REGIONS}, not {count}")
    region_scale = min(scale, 1.0)
    started = time.perf_counter()
    today = today or datetime.now(TZ).date()
    centres = CENTRES[:count]
    counts: dict[str, int] = {}
    loads = asyncio.Semaphore(LOADS_AT_ONCE)
    reserve = _Reserve()
    # The regions take their organisation and id ranges in order (Västmanland's first, whichever is
    # built first), so the first region's people are the first of each role, as at scale 1.
    turns = [asyncio.Event() for _ in centres]

    async def one(k: int, centre: Centre) -> None:
        try:
            built = await asyncio.to_thread(_build, centre, region_scale, region_seed(seed, k), today,
                                            progress if count == 1 else _silent)
            region_started = time.perf_counter()
            org_id, made = await _load_region(built, progress if count == 1 else _silent, today, reserve,
                                              analyze=count == 1 or _analyze_after(k),
                                              turn=(turns[k - 1] if k else None, turns[k]))
            del built
        finally:
            loads.release()
        loaded[k] = org_id
        for table, n in made.items():
            counts[table] = counts.get(table, 0) + n
        if count > 1:
            done = sum(1 for x in loaded if x is not None)
            elapsed = time.perf_counter() - started
            progress(f"region {done}/{count} {centre.name}: {made['device']:,} devices, {made['patient']:,} "
                     f"patients, {made['work_order']:,} work orders in {time.perf_counter() - region_started:.1f} s "
                     f"(about {elapsed / done * (count - done) / 60:.0f} min left)")

    loaded: list[int | None] = [None] * count
    try:
        async with asyncio.TaskGroup() as group:
            for k, centre in enumerate(centres):
                await loads.acquire()  # in order here, so a region never waits for a later one's turn
                group.create_task(one(k, centre))
    except BaseException as exc:
        for org_id in loaded:  # nothing stays on failure: the regions loaded before go too
            if org_id is not None:
                await delete_organisation(org_id)
        if isinstance(exc, BaseExceptionGroup) and len(exc.exceptions) == 1:
            raise exc.exceptions[0] from None
        raise
    if count > 1:
        await db.execute("ANALYZE")
        progress("planner statistics updated")
    seconds = time.perf_counter() - started
    progress(f"done in {seconds:.1f} s")
    return DemoSummary(organisation_id=loaded[0], counts=counts, seconds=seconds, organisations=loaded)


# Of many regions, two load at a time: PostgreSQL copies and indexes one region on one core while
# the next region is built (and encoded) in Python or copied on the other.
LOADS_AT_ONCE = 2


def _silent(line: str) -> None:
    """Of many regions, each reports once when loaded, not line by line."""


def _analyze_after(k: int) -> bool:
    """Of many regions, fresh planner statistics after the 1st, 2nd, 4th, 8th… (each a whole-database
    ANALYZE): the domains' own functions that finish each region plan with them."""
    return (k + 1) & k == 0


async def _load_region(built: _Built, progress: Callable[[str], None], today: date, reserve: _Reserve,
                       analyze: bool, turn: tuple[asyncio.Event | None, asyncio.Event]) -> tuple[int, dict[str, int]]:
    """Copy one built region in, in one transaction, then run what the centre does with the data.
    `turn`: the event to wait for before taking an organisation id and id ranges, and the one to set after."""
    region, centre = built.region, built.centre
    counts: dict[str, int] = {}
    wait_for, done = turn
    if wait_for is not None:
        await wait_for.wait()
    async with db.transaction():
        async with db.connection() as conn:  # the connection itself: asyncpg's COPY
            exists = await conn.fetchval("SELECT id FROM organisation WHERE slug = $1", centre.slug)
            if exists is not None:
                raise DemoAlreadyLoaded(f"the demo organisation '{centre.slug}' exists already (id {exists})")
            org_id = await conn.fetchval(
                "INSERT INTO organisation (name, slug, phone) VALUES ($1, $2, $3) RETURNING id",
                centre.name, centre.slug, centre.phone,
            )
            counts["organisation"] = 1
            bases: dict[str, int] = {}
            for table, attr, _, _, _ in _TABLES:
                bases[table] = await reserve(conn, table, len(getattr(region, attr)))
            done.set()
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
            counts.update(await load_resources(conn, org_id, built.resources, bases))
            counts.update(await load_fittings(conn, org_id, built.fittings, bases, reserve))
            progress(f"fitting bookings {counts['fitting_booking']}")
            counts.update(await load_faults(conn, org_id, built.faults, bases, reserve))
            progress(f"device tokens {counts['device_token']}, fault reports {counts['fault_report']}")
    try:
        if analyze:
            # Fresh statistics for the planner: right after a bulk load it would otherwise plan for
            # empty tables (a full scan of checklist answers instead of its index) until autovacuum comes by.
            await db.execute("ANALYZE")
            progress("planner statistics updated")
        made = await month_of_fu(org_id, today, progress)
        counts["work_order"] += made.pop("work_order")
        counts.update(made)
        # The driving KPI's past days (the planned km of two years of technician-days, as the nightly
        # job keeps them), so /planering/korstracka has figures from the first start.
        counts["route_day"] = await record_past_days(org_id, today)
        progress(f"route days {counts['route_day']}")
        # The KPI summary (the dashboard's figures), as the nightly job keeps it, so /oversikt has
        # figures from the first start.
        counts["kpi_fact"] = await refresh_kpis(org_id, today)
        progress(f"kpi facts {counts['kpi_fact']}")
    except BaseException:
        await delete_organisation(org_id)  # nothing stays on failure, this part included
        raise
    return org_id, counts


class _Reserve:
    """`_reserve_ids` for regions loading at once: they take turns, so their ranges never overlap
    (nextval and setval are two steps)."""

    def __init__(self) -> None:
        self.lock = asyncio.Lock()

    async def __call__(self, conn, table: str, n: int) -> int:
        async with self.lock:
            return await _reserve_ids(conn, table, n)


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

