"""Technicians' days as they are planned now: each visit in the board's order with its estimated
arrival, the km from the previous stop, and the day's warnings in words. The planning board,
Min dag, the pictures and the comparison with a proposal read days from here.

A visit whose patient has a protected identity (skyddad identitet) still counts in the route,
since the times need its place, but is marked `protected`: nobody prints its address or town
outside the visit itself.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field, replace
from datetime import date, time

from backend import db
from backend.db import Sql, raw
from backend.devices import service as devices
from backend.patients import service as patients
from backend.routing import distances, durations, resources
from backend.routing.model import Place, Route, Shift, Stop, Technician, Visit
from backend.routing.schedule import DayWarning, clock, day_places, walk_day
from backend.workorders import planning

PROTECTED = "protected_identity"
NO_PLACE = "no_place"
NOT_WORKING = "not_working"
SECOND_MISSING = "second_missing"
APART = "two_technicians_apart"
# Two technicians on one visit start within this many minutes of each other, or it is warned.
TOGETHER_MINUTES = 15


def _minutes(at: time | None) -> int | None:
    return at.hour * 60 + at.minute if at is not None else None


@dataclass
class DayVisit:
    order_id: int
    number: str
    type: str
    position: int  # in the technician's day, 1, 2, … (as the board orders it)
    visit: Visit | None  # None: the patient's home has no coordinates, so the route leaves it out
    stop: Stop | None  # arrival, start, end and km from the previous stop; None when left out
    protected: bool  # skyddad identitet: no address or town outside the visit itself
    city: str | None  # the patient's town (None when protected)
    window: tuple[time, time] | None
    locked: bool
    technicians_needed: int
    second: bool  # this technician is the order's second technician
    version: int


@dataclass
class DayRoute:
    technician: Technician
    shift: Shift | None  # None: not a working day for the technician (walked on default hours)
    visits: list[DayVisit]
    route: Route
    warnings: list[DayWarning] = field(default_factory=list)
    places: list[Place] = field(default_factory=list)  # start, the visits on the route in order, end

    @property
    def routed(self) -> list[DayVisit]:
        """The visits on the route (with a place), in order: stops[i] is routed[i]'s."""
        return [v for v in self.visits if v.stop is not None]


def _fallback_shift(day: date) -> Shift:
    (start, end), (earliest, latest, lunch) = resources.DEFAULT_HOURS[0], resources.DEFAULT_LUNCH
    return Shift(day, _minutes(start), _minutes(end), _minutes(earliest), _minutes(latest), lunch)


async def _order_rows(organisation_id: int, technician_ids: list[int], first: date, last: date) -> list:
    return await db.fetch(Sql(
        """
        SELECT o.*, d.category_id, :restricted AS restricted, h.latitude, h.longitude, h.city,
               coalesce(h.protected_identity, false) AS protected_identity
        FROM (:orders) o JOIN LATERAL (:device) d ON true LEFT JOIN LATERAL (:home) h ON true
        ORDER BY o.technician, o.planned_date, o.position
        """,
        orders=planning.route_orders(organisation_id, technician_ids, first, last),
        device=devices.device_row(raw("o.device")), home=patients.home_place(raw("o.patient")),
        restricted=resources.restricted_sql(organisation_id, raw("d.category_id"))))


def visit_of(row, minutes: int) -> Visit | None:
    """An order row (route_orders' columns with category_id, restricted, latitude, longitude) as
    the planner's Visit; None when the patient's home has no coordinates."""
    if row["latitude"] is None or row["longitude"] is None:
        return None
    window = None
    if row["window_start"] is not None and row["window_end"] is not None:
        window = (_minutes(row["window_start"]), _minutes(row["window_end"]))
    locked = None
    if row["plan_locked"] and row["assignee"] is not None and row["planned_date"] is not None:
        locked = (row["assignee"], row["planned_date"], window[0] if window else 8 * 60)
    return Visit(order_id=row["id"], place=(row["latitude"], row["longitude"]), minutes=minutes,
                 category=row["category_id"] or 0, restricted=bool(row["restricted"]), due=row["finish_due"],
                 window=window, technician=row["required_technician"], locked=locked,
                 technicians_needed=row["technicians_needed"])


async def planned_days(organisation_id: int, technician_ids: list[int], days: list[date]) -> dict[tuple[int, date], DayRoute]:
    """(technician, day) -> DayRoute for each of the technicians (active technicians of the
    organisation among `technician_ids`) on each of `days`, worked or not. A fixed number of
    queries, however many technician-days; a matrix per day that has visits."""
    if not technician_ids or not days:
        return {}
    technicians = await resources.technicians(organisation_id, technician_ids, days)
    rows = await _order_rows(organisation_id, [t.id for t in technicians], min(days), max(days))
    estimate = await durations.estimator(organisation_id)
    by_day: dict[tuple[int, date], list] = {}
    for r in rows:
        by_day.setdefault((r["technician"], r["planned_date"]), []).append(r)
    prepared = []
    for technician in technicians:
        shifts = {s.day: s for s in technician.shifts}
        for day in days:
            prepared.append(_prepare(technician, day, shifts.get(day), by_day.get((technician.id, day), []), estimate))
    # The days' matrices at once: from a table service that is one request per day in flight together.
    matrices = await asyncio.gather(*(
        distances.matrix(p.places) if p.on_route else _no_driving(p.places) for p in prepared))
    out = {(p.technician.id, p.day): _walk(p, m) for p, m in zip(prepared, matrices)}
    _check_pairs(out)
    return out


def _check_pairs(walked: dict[tuple[int, date], DayRoute]) -> None:
    """A visit for two technicians, both of whose days are here: they must be there together."""
    seen: dict[tuple[int, date], tuple[DayRoute, DayVisit]] = {}
    for (_, day), route in walked.items():
        for v in route.visits:
            if v.technicians_needed < 2 or v.stop is None:
                continue
            other = seen.get((v.order_id, day))
            if other is None:
                seen[(v.order_id, day)] = (route, v)
                continue
            first_route, first = other
            if abs(first.stop.start - v.stop.start) > TOGETHER_MINUTES:
                for r, mine, theirs in ((first_route, first, v), (route, v, first)):
                    r.warnings.append(DayWarning(
                        f"Besök {mine.position} ({mine.number}): de två teknikerna är inte där samtidigt "
                        f"({clock(mine.stop.start)} och {clock(theirs.stop.start)}).", APART, mine.order_id))


async def planned_day(organisation_id: int, technician_id: int, day: date) -> DayRoute:
    """One technician's day as planned now (see planned_days). Raises ResourceError when the
    technician is not an active technician of the organisation."""
    found = await planned_days(organisation_id, [technician_id], [day])
    if (technician_id, day) not in found:
        raise resources.ResourceError("Teknikern finns inte.")
    return found[(technician_id, day)]


@dataclass
class _Prepared:
    technician: Technician
    day: date
    shift: Shift | None
    visits: list[DayVisit]
    on_route: list[Visit]
    places: list[Place]
    warnings: list[DayWarning]


async def _no_driving(places: list[Place]):
    return distances.straight_line_matrix(places)


def _prepare(technician: Technician, day: date, shift: Shift | None, rows: list, estimate) -> _Prepared:
    """The day's visits from its order rows, and the warnings that need no walking."""
    warnings: list[DayWarning] = []
    if shift is None and rows:
        warnings.append(DayWarning(f"{technician.name} arbetar inte den här dagen (ledig, frånvarande eller "
                                   "stängt), men har besök planerade.", NOT_WORKING))
    visits: list[DayVisit] = []
    on_route: list[Visit] = []
    for r in rows:
        visit = visit_of(r, estimate(r["type"], r["category_id"]))
        if visit is not None:
            # Both technicians of a two-technician visit are its own: a lock or a required
            # technician met by either holds in each of their days.
            pair = (r["assignee"], r["second_assignee"])
            visit = replace(visit, technician=None if visit.technician in pair else visit.technician,
                            locked=(technician.id, *visit.locked[1:]) if visit.locked else None)
        window = (r["window_start"], r["window_end"]) if r["window_start"] and r["window_end"] else None
        visits.append(DayVisit(r["id"], r["number"], r["type"], r["position"], visit, None, r["protected_identity"],
                               None if r["protected_identity"] else r["city"], window, r["plan_locked"],
                               r["technicians_needed"], r["second_assignee"] == technician.id, r["version"]))
        name = f"Besök {r['position']} ({r['number']})"
        if r["protected_identity"]:
            warnings.append(DayWarning(f"{name}: skyddad identitet: adressen visas bara i besöket, inte i "
                                       "listor eller rutter.", PROTECTED, r["id"]))
        if visit is None:
            warnings.append(DayWarning(f"{name}: brukarens adress saknar koordinater, så besöket är inte med i "
                                       "restiderna.", NO_PLACE, r["id"]))
        else:
            on_route.append(visit)
        if r["technicians_needed"] >= 2 and r["second_assignee"] is None:
            warnings.append(DayWarning(f"{name}: behöver två tekniker men bara en är planerad.", SECOND_MISSING, r["id"]))
    return _Prepared(technician, day, shift, visits, on_route, day_places(technician, on_route), warnings)


def _walk(p: _Prepared, matrix: distances.Matrix) -> DayRoute:
    routed = [v for v in p.visits if v.visit is not None]
    route, walked = walk_day(p.technician, p.shift or _fallback_shift(p.day), p.on_route, matrix,
                             labels=[f"Besök {v.position} ({v.number})" for v in routed])
    for v, stop in zip(routed, route.stops):
        v.stop = stop
    if p.shift is None:
        route.lunch = None
    return DayRoute(p.technician, p.shift, p.visits, route, p.warnings + walked, p.places)
