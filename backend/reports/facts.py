"""The KPI summary: every counted order, booking and loan of the last 25 months as a row of
kpi_fact (with the dimensions the splits use), and one row per indicator and month in kpi_month
for the dashboard. Refreshed by the job queue each night and after a change of prices or rates
(tasks.py), and on demand; the pages read only these tables, so they stay daily pages.

Each row comes from the owners' row sources (workorders.selection.kpi_orders,
fittings.service_level.kpi_bookings, patients.equal_access_traits, devices.category_of,
visits.recorded_minutes and parts_used, devices.loans.on_loan_counts, workorders' fu_backlog);
the clocks are the owners' too: the due dates an order got at receipt, the repair KPI of
workorders.rules counted in the organisation's calendar.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timezone
from decimal import Decimal

from backend import db
from backend.db import Sql, raw

from backend.accounts import service as accounts
from backend.deviations import service as deviations
from backend.devices import loans
from backend.devices import service as devices
from backend.fittings.service_level import fitting_target_days, kpi_bookings, product_area_name, within_clock
from backend.organisations import service as organisations
from backend.patients import service as patients
from backend.reports.kpi import DIMENSIONS, age_band
from backend.visits import service as visits
from backend.workdays import Calendar, add_months, month_end, month_start
from backend.workorders.generated import fu_backlog
from backend.workorders.rules import REPAIR_TYPES, repair_within_kpi
from backend.workorders.selection import kpi_orders

SPLIT_MONTHS = 12  # the default view of an indicator's page: this month and the 11 before
MONTHS_KEPT = 25  # this month and two years back: a month and the same month a year before
AU_TYPES = frozenset({"repair_hmc", "repair_on_site"})
REPAIR_TYPE_VALUES = frozenset(str(t.value) for t in REPAIR_TYPES)
COLUMNS = ("organisation", "indicator", "month", "item", "hit", "amount", "patient", "cost_bearer", "care_unit",
           "area", "order_type", "staff", "age_band", "sex")


def first_kept_month(today: date) -> date:
    return add_months(month_start(today), -(MONTHS_KEPT - 1))


def _band(birth_year: int | None, month: date) -> str | None:
    return age_band(month.year - birth_year) if birth_year else None


def order_facts(organisation_id: int, row: dict, calendar: Calendar, rate: Decimal | None, since: date) -> list[tuple]:
    """The facts one order gives (pure: the unit tests work them by hand). `row` holds the columns
    of kpi_orders with birth_year, sex, cost_bearer, care_unit, category, minutes and parts_cost."""
    if row["status"] == "cancelled":
        return []  # makulerad: counted by no indicator
    facts = []

    def fact(indicator: str, day: date, hit: bool | None = None, amount: Decimal | None = None) -> None:
        month = month_start(day)
        if month < since:
            return
        facts.append((organisation_id, indicator, month, row["id"], hit, amount, row["patient"], row["cost_bearer"],
                      row["care_unit"], row["category"], row["type"], row["assignee"], _band(row["birth_year"], month),
                      row["sex"]))

    received, started, completed = row["received_on"], row["started_on"], row["completed_on"]
    kind = row["type"]
    fact("arbetsordrar", received)
    if kind in REPAIR_TYPE_VALUES and row["channel"] != "generated":
        fact("digital", received, hit=row["channel"] == "web")
    if row["status"] == "completed" and completed is not None:
        if kind in REPAIR_TYPE_VALUES:
            fact("reparation", completed, hit=repair_within_kpi(received, completed, calendar))
        if kind in AU_TYPES and row["finish_due"] is not None:
            fact("au_klar", completed, hit=completed <= row["finish_due"])
        if kind == "maintenance":
            due = row["fu_due_date"] or row["finish_due"]
            if due is not None:
                fact("fu_i_tid", completed, hit=completed <= due)
        if kind != "fitting" and rate is not None:
            cost = Decimal(row["minutes"] or 0) * rate / 60 + Decimal(row["parts_cost"] or 0)
            fact("kostnad", completed, amount=cost.quantize(Decimal("0.01")))
    begun = started or (completed if row["status"] == "completed" else None)
    if kind in AU_TYPES and begun is not None and row["start_due"] is not None:
        fact("au_start", begun, hit=begun <= row["start_due"])
    return facts


def booking_facts(organisation_id: int, row: dict, target_days: int) -> list[tuple]:
    month = month_start(row["referral_date"])
    return [(organisation_id, "utprovning", month, row["id"], within_clock(row["offered_working_days"], row["urgent"], target_days), None,
             row["patient"], row["cost_bearer"], row["care_unit"], row["product_area"], None, row["consultant"],
             _band(row["birth_year"], month), row["sex"])]


def split_period(today: date) -> tuple[date, date]:
    """The months an indicator's page shows by default (and the precomputed splits cover)."""
    last = month_start(today)
    return add_months(last, -(SPLIT_MONTHS - 1)), last


def label_sql(dimension: str, key: Sql, *, fittings: bool = False) -> Sql:
    """The name of a split's key (a scalar subquery from its owner), NULL for the fixed keys."""
    if dimension == "kommun":
        return organisations.cost_bearer_name(key)
    if dimension == "vardenhet":
        return organisations.care_unit_name(key)
    if dimension == "personal":
        return accounts.staff_name(key)
    if dimension == "omrade":
        return product_area_name(key) if fittings else devices.category_name(key)
    return Sql("NULL::text")


def _split_sql(organisation_id: int, first: date, last: date) -> Sql:
    dims = list(DIMENSIONS.items())
    which = " ".join(f"WHEN GROUPING(f.{col}) = 0 THEN '{dim}'" for dim, (col, _) in dims)
    keys = " ".join(f"WHEN GROUPING(f.{col}) = 0 THEN f.{col}::text" for dim, (col, _) in dims)
    sets = ", ".join(f"(f.indicator, f.{col})" for _, (col, _) in dims)
    key = raw("g.key::int")
    return Sql(
        f"""
        INSERT INTO kpi_split (organisation, indicator, dimension, key, label, hits, total, amount, patients)
        SELECT :org, g.indicator, g.dimension, g.key,
               CASE WHEN g.key IS NULL THEN NULL
                    WHEN g.dimension = 'kommun' THEN :bearer WHEN g.dimension = 'vardenhet' THEN :unit
                    WHEN g.dimension = 'personal' THEN :staff
                    WHEN g.dimension = 'omrade' AND g.indicator = 'utprovning' THEN :area
                    WHEN g.dimension = 'omrade' THEN :category END,
               g.hits, g.total, g.amount, g.patients
        FROM (SELECT f.indicator, CASE {which} END AS dimension, CASE {keys} END AS key,
                     count(*) FILTER (WHERE f.hit) AS hits, count(*) AS total, sum(f.amount) AS amount,
                     count(DISTINCT f.patient) AS patients
              FROM kpi_fact f WHERE f.organisation = :org AND f.month BETWEEN :first AND :last
              GROUP BY GROUPING SETS ({sets})) g
        """,
        org=organisation_id, first=first, last=last, bearer=label_sql("kommun", key),
        unit=label_sql("vardenhet", key), staff=label_sql("personal", key),
        area=label_sql("omrade", key, fittings=True), category=label_sql("omrade", key))


async def _distance_rows(organisation_id: int, today: date) -> list[tuple]:
    """Route planning's km and devices on loan per month (kpi_month rows of "korstracka"), when
    route planning is there; a month without km is left out (not measured, never a guess)."""
    try:
        from backend.routing import kpi as routing_kpi
    except ImportError:
        return []
    if not hasattr(routing_kpi, "distance_kpi"):
        return []
    figures = await routing_kpi.distance_kpi(organisation_id, today, months=MONTHS_KEPT)
    return [(organisation_id, "korstracka", m["month"], None, m["devices"], Decimal(m["km"]))
            for m in figures["months"] if m.get("km") is not None and m.get("devices")]


async def hourly_rate(organisation_id: int) -> Decimal | None:
    return await db.fetchval("SELECT hourly_rate FROM kpi_cost_rate WHERE organisation = $1", organisation_id)


async def _orders(organisation_id: int, since: date) -> list:
    return await db.fetch(Sql(
        """
        SELECT o.*, pt.birth_year, pt.sex, pt.cost_bearer, pt.care_unit, :category AS category,
               :minutes AS minutes,
               (SELECT coalesce(sum(p.quantity * pp.price), 0) FROM (:parts) p
                JOIN kpi_part_price pp ON pp.organisation = :org AND pp.article = p.article) AS parts_cost
        FROM (:orders) o LEFT JOIN LATERAL (:traits) pt ON true
        """,
        orders=kpi_orders(organisation_id, since), traits=patients.equal_access_traits(raw("o.patient")),
        category=devices.category_of(raw("o.device")), minutes=visits.recorded_minutes(raw("o.id")),
        parts=visits.parts_used(raw("o.id")), org=organisation_id))


async def _bookings(organisation_id: int, since: date) -> list:
    return await db.fetch(Sql(
        "SELECT b.*, pt.birth_year, pt.sex, pt.cost_bearer FROM (:bookings) b LEFT JOIN LATERAL (:traits) pt ON true",
        bookings=kpi_bookings(organisation_id, since), traits=patients.equal_access_traits(raw("b.patient"))))


async def refresh(organisation_id: int, today: date) -> int:
    """Compute the organisation's KPI summary afresh; returns the number of facts."""
    since = first_kept_month(today)
    calendar = await organisations.work_calendar(organisation_id)
    rate = await hourly_rate(organisation_id)
    target_days = await fitting_target_days(organisation_id)
    facts: list[tuple] = []
    for row in await _orders(organisation_id, since):
        facts.extend(order_facts(organisation_id, dict(row), calendar, rate, since))
    for row in await _bookings(organisation_id, since):
        facts.extend(booking_facts(organisation_id, dict(row), target_days))
    for row in await deviations.kpi_deviations(organisation_id, since):
        facts.append((organisation_id, "avvikelser", month_start(row["raised_on"]), row["id"], row["serious"], None,
                      None, None, None, None, None, None, None, None))
    months = [add_months(since, n) for n in range(MONTHS_KEPT)]
    ends = {m: min(month_end(m), today) for m in months}
    on_loan = await loans.on_loan_counts(organisation_id, sorted(set(ends.values())))
    for month, end in ends.items():
        for bearer, count in on_loan.get(end, {}).items():
            facts.append((organisation_id, "utlanade", month, bearer or 0, None, Decimal(count), None, bearer,
                          None, None, None, None, None, None))
    past_ends = [end for m, end in ends.items() if end < today]
    backlog = await fu_backlog(organisation_id, past_ends, today)
    backlog_rows = [(organisation_id, "fu_skuld", m, None, backlog["month_ends"][end], None)
                    for m, end in ends.items() if end < today]
    backlog_rows.append((organisation_id, "fu_skuld", month_start(today), None, backlog["now"], None))
    backlog_rows += await _distance_rows(organisation_id, today)
    categories = await devices.counts_by_category(organisation_id, today)
    split_first, split_last = split_period(today)
    async with db.transaction():
        # One refresh at a time per organisation; readers see the old summary until this commits.
        await db.execute("SELECT pg_advisory_xact_lock(hashtext('kpi_refresh'), $1)", organisation_id)
        await db.execute("DELETE FROM kpi_fact WHERE organisation = $1", organisation_id)
        await db.execute("DELETE FROM kpi_month WHERE organisation = $1", organisation_id)
        await db.execute("DELETE FROM kpi_split WHERE organisation = $1", organisation_id)
        async with db.connection() as conn:
            await conn.copy_records_to_table("kpi_fact", records=facts, columns=COLUMNS)
            await conn.copy_records_to_table("kpi_month", records=backlog_rows,
                                             columns=("organisation", "indicator", "month", "hits", "total", "amount"))
        await db.execute(
            """
            INSERT INTO kpi_month (organisation, indicator, month, hits, total, amount)
            SELECT organisation, indicator, month, count(*) FILTER (WHERE hit), count(*), sum(amount)
            FROM kpi_fact WHERE organisation = $1 GROUP BY organisation, indicator, month
            """,
            organisation_id)
        await db.execute(_split_sql(organisation_id, split_first, split_last))
        await db.execute(
            "INSERT INTO kpi_state (organisation, refreshed_at, split_first, split_last, categories) "
            "VALUES ($1, $2, $3, $4, $5::jsonb) ON CONFLICT (organisation) DO UPDATE SET "
            "refreshed_at = excluded.refreshed_at, split_first = excluded.split_first, "
            "split_last = excluded.split_last, categories = excluded.categories",
            organisation_id, datetime.now(timezone.utc), split_first, split_last,
            json.dumps(categories, default=str))
    return len(facts)


async def state(organisation_id: int) -> dict | None:
    """When the summary was computed, the period of its splits, and the devices by category then."""
    row = await db.fetchrow("SELECT refreshed_at, split_first, split_last, categories FROM kpi_state "
                            "WHERE organisation = $1", organisation_id)
    if row is None:
        return None
    categories = row["categories"]
    return {**dict(row), "categories": json.loads(categories) if isinstance(categories, str) else categories}
