"""What the route pages show: a technician-day's route beside Min dag's list, a week of days as a
timeline (/planering/vecka) and each day's sketch, all read from days.planned_days (the one
reading of today's plan) and drawn by pictures.py."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from backend.accounts import service as accounts
from backend.accounts.tables import Role
from backend.errors import DomainError
from backend.routing import days as planned
from backend.routing.days import DayRoute
from backend.routing.pictures import Picture, clock, km_text, route_sketch, week_timeline


class WeekRefused(DomainError):
    pass


def sketch(day: DayRoute, title: str) -> Picture:
    """The day's route sketch: protected identities neither drawn nor named, towns at the mean of
    their stops, stops labelled by order number in the table."""
    routed = day.routed
    places = {v.order_id: day.places[n + 1] for n, v in enumerate(routed)}
    return route_sketch(day.route, places, day.technician.start_place, day.technician.end_place, title=title,
                        towns={v.order_id: v.city for v in routed if v.city},
                        labels={v.order_id: v.number for v in day.visits},
                        hidden={v.order_id for v in day.visits if v.protected})


@dataclass
class StopInfo:
    """One visit's place in the route, as Min dag says it."""

    arrival: str  # "09:40"
    start: str
    km_from_previous: str  # "12,3"


def route_of_day(day: DayRoute) -> dict:
    """Min dag's route facts: per order id when the technician is there (arrival, start) and how
    far from the previous stop; the day's km and when they are back; the orders the route leaves
    out (no coordinates)."""
    stops = {v.order_id: StopInfo(clock(v.stop.arrival), clock(v.stop.start), km_text(v.stop.km_from_previous))
             for v in day.routed}
    return {
        "stops": stops, "km": km_text(day.route.km) if day.routed else None,
        "leaves": clock(day.route.start) if day.routed else None,
        "back": clock(day.route.end) if day.routed else None,
        "home_km": km_text(day.route.km - sum(v.stop.km_from_previous for v in day.routed)) if day.routed else None,
        "unrouted": [v.order_id for v in day.visits if v.stop is None],
        "sketch": sketch(day, "Dagens rutt") if day.routed else None,
    }


async def technician_route(organisation_id: int, technician_id: int, day: date) -> dict | None:
    """Min dag's route for the technician's `day`, or None when they are not a planning resource."""
    try:
        return route_of_day(await planned.planned_day(organisation_id, technician_id, day))
    except DomainError:
        return None


def parse_week(value: str | None, today: date) -> date:
    """'2026-W49' -> that ISO week's Monday; empty: this week's."""
    if not value:
        return today - timedelta(days=today.weekday())
    year, _, week = value.strip().upper().partition("-W")
    if not (year.isascii() and year.isdigit() and len(year) == 4 and week.isascii() and week.isdigit()
            and len(week) <= 2 and 1900 <= int(year) <= 2199):
        raise WeekRefused("Skriv veckan som 2026-W49.", "vecka")
    try:
        return date.fromisocalendar(int(year), int(week), 1)
    except ValueError:
        raise WeekRefused("Den veckan finns inte. Skriv veckan som 2026-W49.", "vecka") from None


def week_name(monday: date) -> str:
    year, week, _ = monday.isocalendar()
    return f"{year}-W{week:02d}"


async def week(organisation_id: int, monday: date, technician_id: int | None) -> dict:
    """The week (Monday to Friday, and a weekend day that has visits) of one technician or all:
    a timeline of every technician-day, each day's km and warnings, and for one technician each
    day's sketch."""
    technicians = await accounts.staff_with_role(organisation_id, Role.technician)
    chosen = [t for t in technicians if technician_id is None or t["id"] == technician_id]
    if technician_id is not None and not chosen:
        raise WeekRefused("Välj en av teknikerna i listan.", "tekniker")
    days = [monday + timedelta(days=n) for n in range(7)]
    found = await planned.planned_days(organisation_id, [t["id"] for t in chosen], days)
    weekend_used = {d for (_, d), r in found.items() if d.weekday() >= 5 and r.visits}
    shown = [d for d in days if d.weekday() < 5 or d in weekend_used]
    rows, sketches, warnings = [], [], []
    for t in chosen:
        for d in shown:
            day = found.get((t["id"], d))
            if day is None:
                continue
            rows.append((t["name"], d, day.route if (day.shift is not None or day.visits) else None))
            if day.warnings:
                warnings.append({"technician": t["name"], "day": d, "warnings": list(day.warnings)})
            if technician_id is not None and day.routed:
                sketches.append(sketch(day, f"{t['name']} {d.isoformat()}"))
    year, number, _ = monday.isocalendar()
    return {
        "tech_options": [(t["id"], t["name"]) for t in technicians], "chosen": technician_id, "monday": monday, "week": week_name(monday),
        "week_label": f"Vecka {number} {year}", "previous": week_name(monday - timedelta(days=7)),
        "next": week_name(monday + timedelta(days=7)),
        "timeline": week_timeline(rows, title=f"Vecka {number} {year}"), "sketches": sketches, "warnings": warnings,
        "km": km_text(sum(r.km for _, _, r in rows if r is not None)),
        "visits": sum(len(r.stops) for _, _, r in rows if r is not None),
    }
