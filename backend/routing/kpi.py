"""The driving KPI: driven distance per device on loan, per month and per municipality.

The centre is judged on km driven per device on loan (target ≤ 0.40; Västmanland 2025: 0.39).
Read per month, it is the km the technicians drove in the month over the devices on loan at its
end (the same figure as Swedish mil per device per year).

Where the km come from, day by day (a technician-day):
- **recorded**: the km a technician entered for the day on Min dag ("Körda km idag",
  `mileage_entry`), when they did;
- **planned**: otherwise, the day's route as planned, walked by `schedule.walk_day` from the
  start place through the visits in order and home (`route_day`, kept so the page does not walk
  two years of routes again: filled each night by `tasks.py` for the days before today).
Per municipality, each leg's km count to the municipality of the visit it drove to (the way home
to the last visit's), and a recorded day is split in the same shares as its plan; recorded km on
a day without a planned route cannot be split and are shown as such. Nothing is estimated beyond
that: a month without either is "inte mätt", and visits whose home has no coordinates are counted
but not walked (the page says how many).
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from backend import db
from backend.db import Sql, raw
from backend.devices import loans
from backend.errors import DomainError
from backend.organisations import service as organisations
from backend.patients import service as patients
from backend.routing import distances, resources
from backend.routing.model import Route, Shift, Visit
from backend.routing.schedule import day_places, walk_day
from backend.workorders import planning
from backend.workdays import add_months, month_end, month_start

TARGET_KM_PER_DEVICE = Decimal("0.40")
MILEAGE_DAYS_BACK = 14  # a technician may enter (or correct) the km of the last two weeks
MAX_DAY_KM = Decimal("2000")
BACKFILL_DAYS = 2 * 366  # the first night walks the last two years
REWALK_DAYS = 14  # and each night the last two weeks again: plans of past days still change
UNKNOWN = ""  # km_by_cost_bearer's key for visits whose patient has no cost bearer


class MileageRefused(DomainError):
    """Körda km that cannot be kept: not a number, out of range, or a day not open for entry."""


class TargetRefused(DomainError):
    pass


# --- recorded mileage ---------------------------------------------------------------------------


async def enter_mileage(technician_id: int, organisation_id: int, day: date, km: Decimal, *, today: date) -> None:
    """Keep the km `technician_id` drove on `day` (replacing what they entered before for it)."""
    if day > today:
        raise MileageRefused("Körda km kan bara anges för idag eller dagar som varit.", "dag")
    if day < today - timedelta(days=MILEAGE_DAYS_BACK):
        raise MileageRefused(f"Körda km kan anges för de senaste {MILEAGE_DAYS_BACK} dagarna. "
                             "Äldre dagar rättar samordnaren.", "dag")
    if km < 0 or km > MAX_DAY_KM:
        raise MileageRefused(f"Ange körda km mellan 0 och {MAX_DAY_KM}.", "km")
    await db.execute(
        """
        INSERT INTO mileage_entry (staff_user, day, organisation, km) VALUES ($1, $2, $3, $4)
        ON CONFLICT (staff_user, day) DO UPDATE SET km = excluded.km, entered_at = now()
        """,
        technician_id, day, organisation_id, km.quantize(Decimal("0.1")))


async def mileage(technician_id: int, day: date) -> Decimal | None:
    return await db.fetchval("SELECT km FROM mileage_entry WHERE staff_user = $1 AND day = $2", technician_id, day)


def mileage_sql(technician_id: int, day: date) -> Sql:
    """The km entered for the technician-day as a scalar subquery (NULL: none), for a page that
    reads it in the query it makes anyway."""
    return Sql("(SELECT km FROM mileage_entry WHERE staff_user = :me AND day = :day)", me=technician_id, day=day)


# --- the organisation's target -------------------------------------------------------------------


async def target(organisation_id: int) -> Decimal:
    found = await db.fetchval("SELECT km_per_device FROM distance_target WHERE organisation = $1", organisation_id)
    return found if found is not None else TARGET_KM_PER_DEVICE


async def set_target(organisation_id: int, km_per_device: Decimal) -> None:
    if not Decimal("0.01") <= km_per_device < Decimal("100"):
        raise TargetRefused("Ange målet som km per hjälpmedel, t.ex. 0,40.", "mal")
    await db.execute(
        """
        INSERT INTO distance_target (organisation, km_per_device) VALUES ($1, $2)
        ON CONFLICT (organisation) DO UPDATE SET km_per_device = excluded.km_per_device, changed_at = now()
        """,
        organisation_id, km_per_device.quantize(Decimal("0.01")))


# --- planned km of past days (route_day) --------------------------------------------------------


@dataclass
class WalkedDay:
    technician: int
    day: date
    route: Route
    km_by_cost_bearer: dict[str, float]
    visits: int
    without_place: int


def split_by_cost_bearer(route: Route, cost_bearers: dict[int, int | None]) -> dict[str, float]:
    """Each leg's km to the municipality of the visit it drives to, the way home to the last
    visit's: {cost bearer id as text (or UNKNOWN): km}. The parts add up to the route's km."""
    split: dict[str, float] = defaultdict(float)
    for stop in route.stops:
        split[_key(cost_bearers.get(stop.order_id))] += stop.km_from_previous
    if route.stops:
        home = route.km - sum(s.km_from_previous for s in route.stops)
        split[_key(cost_bearers.get(route.stops[-1].order_id))] += max(home, 0.0)
    return {k: round(v, 1) for k, v in split.items()}


def _key(cost_bearer: int | None) -> str:
    return UNKNOWN if cost_bearer is None else str(cost_bearer)


def _default_shift(day: date) -> Shift:
    return Shift(day, 7 * 60 + 30, 16 * 60)


async def walk_days(organisation_id: int, first: date, last: date) -> list[WalkedDay]:
    """Every technician-day with planned visits between `first` and `last` (the organisation's
    active technicians), walked in its planned order from the technician's start place and home
    again. Four queries for the technicians, one for the orders, however long the period."""
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    technicians = {t.id: t for t in await resources.technicians(organisation_id, None, days)}
    if not technicians:
        return []
    rows = await db.fetch(Sql(
        """
        SELECT w.id, w.technician, w.planned_date, w.position, h.latitude, h.longitude, h.cost_bearer
        FROM (:planned) w LEFT JOIN LATERAL (:home) h ON true
        ORDER BY w.technician, w.planned_date, w.position
        """,
        planned=planning.route_orders(organisation_id, sorted(technicians), first, last),
        home=patients.home_place(raw("w.patient"))))
    by_day: dict[tuple[int, date], list] = defaultdict(list)
    for r in rows:
        by_day[(r["technician"], r["planned_date"])].append(r)
    walked = []
    for (technician_id, day), stops in sorted(by_day.items()):
        technician = technicians[technician_id]
        placed = [r for r in stops if r["latitude"] is not None and r["longitude"] is not None]
        shift = next((s for s in technician.shifts if s.day == day), _default_shift(day))
        visits = [Visit(order_id=r["id"], place=(r["latitude"], r["longitude"]), minutes=0, category=0)
                  for r in placed]
        matrix = await distances.matrix(day_places(technician, visits))
        route, _ = walk_day(technician, shift, visits, matrix)
        walked.append(WalkedDay(technician_id, day, route,
                                split_by_cost_bearer(route, {r["id"]: r["cost_bearer"] for r in placed}),
                                len(stops), len(stops) - len(placed)))
    return walked


async def record_route_days(organisation_id: int, first: date, last: date) -> int:
    """Walk the technician-days between `first` and `last` and keep each one's planned km
    (replacing what was kept; a day whose visits are all gone loses its row). Returns how many
    technician-days were kept."""
    walked = await walk_days(organisation_id, first, last)
    async with db.transaction():
        await db.execute("DELETE FROM route_day WHERE organisation = $1 AND day BETWEEN $2 AND $3",
                         organisation_id, first, last)
        if walked:
            await db.execute(
                """
                INSERT INTO route_day (staff_user, day, organisation, planned_km, visits, visits_without_place,
                                       km_by_cost_bearer)
                SELECT u.staff_user, u.day, $1, u.km, u.visits, u.without_place, u.split::jsonb
                FROM unnest($2::int[], $3::date[], $4::numeric[], $5::int[], $6::int[], $7::text[])
                     AS u(staff_user, day, km, visits, without_place, split)
                """,
                organisation_id, [w.technician for w in walked], [w.day for w in walked],
                [Decimal(str(round(w.route.km, 1))) for w in walked], [w.visits for w in walked],
                [w.without_place for w in walked], [json.dumps(w.km_by_cost_bearer) for w in walked])
    return len(walked)


async def record_past_days(organisation_id: int, today: date) -> int:
    """The nightly fill: the last REWALK_DAYS days before today again, and any older day not kept
    yet back to BACKFILL_DAYS (the first night walks them all)."""
    kept_until = await db.fetchval("SELECT max(day) FROM route_day WHERE organisation = $1", organisation_id)
    last = today - timedelta(days=1)
    first = today - timedelta(days=REWALK_DAYS)
    if kept_until is None:
        first = today - timedelta(days=BACKFILL_DAYS)
    elif kept_until < first:
        first = kept_until + timedelta(days=1)
    return await record_route_days(organisation_id, first, last)


# --- the figures -----------------------------------------------------------------------------------


MONTH_NAMES = ("januari", "februari", "mars", "april", "maj", "juni", "juli", "augusti", "september",
               "oktober", "november", "december")


class MonthRefused(DomainError):
    pass


def parse_month(value: str) -> date:
    """'2027-03' -> 2027-03-01."""
    year, _, month = value.strip().partition("-")
    if year.isascii() and year.isdigit() and len(year) == 4 and month.isascii() and month.isdigit() and len(month) == 2 \
            and 1 <= int(month) <= 12 and 1900 <= int(year) <= 2199:
        return date(int(year), int(month), 1)
    raise MonthRefused("Skriv månaden som 2027-03.", "manad")


def month_label(first: date) -> str:
    return f"{MONTH_NAMES[first.month - 1]} {first.year}"


def _ratio(km: Decimal | None, devices: int) -> Decimal | None:
    if km is None or not devices:
        return None
    return (Decimal(km) / devices).quantize(Decimal("0.001"))


async def distance_kpi(organisation_id: int, today: date, *, month: date | None = None, months: int = 12) -> dict:
    """The KPI page's figures: per month over the last `months` months (the current one so far),
    and per municipality for `month` (default: the last month that has ended)."""
    last_day = today - timedelta(days=1)  # today is not over: its km are not known yet
    first_month = add_months(month_start(today), -(months - 1))
    chosen = month_start(month) if month else add_months(month_start(today), -1)
    rows = await db.fetch(
        """
        WITH days AS (
            SELECT coalesce(r.staff_user, m.staff_user) AS staff_user, coalesce(r.day, m.day) AS day,
                   r.planned_km, m.km AS recorded_km, r.visits, r.visits_without_place
            FROM (SELECT * FROM route_day WHERE organisation = $1 AND day BETWEEN $2 AND $3) r
            FULL JOIN (SELECT * FROM mileage_entry WHERE organisation = $1 AND day BETWEEN $2 AND $3) m
                 ON m.staff_user = r.staff_user AND m.day = r.day)
        SELECT date_trunc('month', day)::date AS month, sum(planned_km) AS planned_km, sum(recorded_km) AS recorded_km,
               sum(coalesce(recorded_km, planned_km)) AS km, count(planned_km) AS planned_days,
               count(recorded_km) AS recorded_days, coalesce(sum(visits), 0) AS visits,
               coalesce(sum(visits_without_place), 0) AS without_place
        FROM days GROUP BY 1
        """,
        organisation_id, first_month, last_day)
    by_month = {r["month"]: r for r in rows}
    month_ends = {m: min(month_end(m), last_day) for m in (add_months(first_month, n) for n in range(months))}
    counted_days = sorted(set(month_ends.values()) | {min(month_end(chosen), last_day)})
    on_loan = await loans.on_loan_counts(organisation_id, counted_days)
    goal = await target(organisation_id)
    month_rows = []
    for first, end in month_ends.items():
        if first > last_day:
            continue  # the current month on its first day: nothing has passed yet
        r = by_month.get(first)
        devices = sum(on_loan.get(end, {}).values())
        km = r["km"] if r else None
        ratio = _ratio(km, devices)
        month_rows.append({
            "month": first, "label": month_label(first), "until": end, "partial": end < month_end(first),
            "planned_km": r["planned_km"] if r else None, "recorded_km": r["recorded_km"] if r else None,
            "km": km, "planned_days": r["planned_days"] if r else 0, "recorded_days": r["recorded_days"] if r else 0,
            "without_place": r["without_place"] if r else 0, "devices": devices, "ratio": ratio,
            "over_target": ratio is not None and ratio > goal,
        })
    return {
        "target": goal, "months": month_rows, "month": chosen, "month_label": month_label(chosen),
        "month_choices": [m["month"] for m in month_rows],
        "municipalities": await _by_municipality(organisation_id, chosen, min(month_end(chosen), last_day),
                                                 on_loan.get(min(month_end(chosen), last_day), {}), goal),
    }


async def _by_municipality(organisation_id: int, first: date, last: date, on_loan: dict[int, int],
                           goal: Decimal) -> dict:
    """One month's km per municipality (planned, and as driven: recorded days split in their plan's
    shares) beside the devices on loan there at the month's end."""
    if last < first:
        return {"rows": [], "unsplit_km": None, "unknown_km": None}
    days = await db.fetch(
        """
        SELECT r.km_by_cost_bearer, r.planned_km, m.km AS recorded_km
        FROM route_day r LEFT JOIN mileage_entry m ON m.staff_user = r.staff_user AND m.day = r.day
        WHERE r.organisation = $1 AND r.day BETWEEN $2 AND $3
        """,
        organisation_id, first, last)
    unsplit = await db.fetchval(
        """
        SELECT sum(m.km) FROM mileage_entry m
        WHERE m.organisation = $1 AND m.day BETWEEN $2 AND $3
          AND NOT EXISTS (SELECT 1 FROM route_day r WHERE r.staff_user = m.staff_user AND r.day = m.day)
        """,
        organisation_id, first, last)
    planned: dict[str, Decimal] = defaultdict(Decimal)
    driven: dict[str, Decimal] = defaultdict(Decimal)
    for d in days:
        split = json.loads(d["km_by_cost_bearer"]) if isinstance(d["km_by_cost_bearer"], str) else d["km_by_cost_bearer"]
        total = Decimal(d["planned_km"])
        for key, km in split.items():
            share = Decimal(str(km))
            planned[key] += share
            if d["recorded_km"] is not None and total > 0:
                driven[key] += Decimal(d["recorded_km"]) * share / total
            else:
                driven[key] += share
    ids = sorted({int(k) for k in planned if k != UNKNOWN} | set(k for k in on_loan if k is not None))
    names = await _cost_bearer_names(organisation_id, ids)
    rows = []
    for cost_bearer in ids:
        key = str(cost_bearer)
        km = driven[key].quantize(Decimal("0.1")) if key in driven else None
        devices = on_loan.get(cost_bearer, 0)
        ratio = _ratio(km, devices)
        rows.append({"name": names.get(cost_bearer, "–"), "planned_km": planned[key].quantize(Decimal("0.1"))
                     if key in planned else None, "km": km, "devices": devices, "ratio": ratio,
                     "over_target": ratio is not None and ratio > goal})
    rows.sort(key=lambda r: r["name"].lower())
    unknown = driven.get(UNKNOWN)
    return {"rows": rows, "unsplit_km": unsplit, "unknown_km": unknown.quantize(Decimal("0.1")) if unknown else None}


async def _cost_bearer_names(organisation_id: int, ids: list[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = await db.fetch(Sql("SELECT x.id, :name AS name FROM unnest(:ids::int[]) AS x(id)",
                              name=organisations.cost_bearer_name(raw("x.id")), ids=ids))
    return {r["id"]: r["name"] for r in rows}
