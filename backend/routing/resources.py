"""Technicians as planning resources: where each day starts and ends, the hours per weekday, lunch,
the skills some device categories need, and a vehicle's daily driving limit; the days they work
come from these hours less the organisation's closed days, Swedish holidays and their absences
(fittings' availability_exception, which holds anyone's leave).

A technician the coordinator has not described works the organisation's defaults: 07:30–16:00
Monday to Friday, lunch of 30 minutes starting 11:30–13:00, from and back to the HMC's depot
(ROUTING_DEPOT, see README).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from backend import db, settings
from backend.accounts import service as accounts
from backend.accounts.tables import Role
from backend.devices import catalogue
from backend.errors import DomainError, SeveralErrors
from backend.fittings import availability
from backend.organisations.hours import work_calendar
from backend.routing.model import Place, Shift, Technician
from backend.workdays import STOCKHOLM

WEEKDAY_NAMES = ("Måndag", "Tisdag", "Onsdag", "Torsdag", "Fredag", "Lördag", "Söndag")
DEFAULT_HOURS = {weekday: (time(7, 30), time(16, 0)) for weekday in range(5)}
DEFAULT_LUNCH = (time(11, 30), time(13, 0), 30)
DEPOT_LABEL = "HMC:s depå"
# A shift left shorter than this by a part-day absence is not worth planning.
SHORTEST_SHIFT_MINUTES = 60


class ResourceError(DomainError):
    pass


class ResourceErrors(SeveralErrors, ResourceError):
    pass


def depot() -> Place:
    return settings.routing_depot()


def minutes(at: time) -> int:
    return at.hour * 60 + at.minute


@dataclass
class Resource:
    """What the register says about one technician (defaults filled in when it says nothing)."""

    staff_user: int
    name: str
    described: bool  # False: nothing registered, the defaults apply
    start_label: str
    start: Place
    end_label: str | None
    end: Place | None  # None: back where the day started
    lunch_earliest: time
    lunch_latest: time
    lunch_minutes: int
    max_drive_km: int | None
    hours: dict[int, tuple[time, time]]  # weekday -> (starts, ends); a missing weekday: not working
    skills: frozenset[int]

    @property
    def end_place(self) -> Place:
        return self.end if self.end is not None else self.start


def _default(staff_user: int, name: str) -> Resource:
    return Resource(staff_user, name, False, DEPOT_LABEL, depot(), None, None, *DEFAULT_LUNCH, None,
                    dict(DEFAULT_HOURS), frozenset())


async def _resources(staff: list[dict]) -> list[Resource]:
    """Each of `staff` (id, name) as a Resource: one query for all of them."""
    rows = await db.fetch(
        """
        SELECT r.*,
               (SELECT coalesce(json_agg(json_build_array(h.weekday, h.starts, h.ends)), '[]')
                FROM technician_hours h WHERE h.staff_user = r.staff_user) AS hours
        FROM technician_resource r WHERE r.staff_user = ANY($1::int[])
        """,
        [s["id"] for s in staff],
    )
    skill_rows = await db.fetch(
        "SELECT staff_user, array_agg(device_category) AS categories FROM technician_skill "
        "WHERE staff_user = ANY($1::int[]) GROUP BY staff_user", [s["id"] for s in staff])
    skills = {r["staff_user"]: frozenset(r["categories"]) for r in skill_rows}
    by_id = {r["staff_user"]: r for r in rows}
    out = []
    for s in staff:
        r = by_id.get(s["id"])
        if r is None:
            resource = _default(s["id"], s["name"])
        else:
            hours = {w: (time.fromisoformat(a), time.fromisoformat(b)) for w, a, b in json.loads(r["hours"])}
            end = (r["end_latitude"], r["end_longitude"]) if r["end_latitude"] is not None else None
            resource = Resource(s["id"], s["name"], True, r["start_label"], (r["start_latitude"], r["start_longitude"]),
                                r["end_label"], end, r["lunch_earliest"], r["lunch_latest"], r["lunch_minutes"],
                                r["max_drive_km"], hours, frozenset())
        resource.skills = skills.get(s["id"], frozenset())
        out.append(resource)
    return out


async def _technician_staff(organisation_id: int, technician_ids: list[int] | None) -> list[dict]:
    staff = await accounts.staff_with_role(organisation_id, Role.technician)
    if technician_ids is not None:
        wanted = set(technician_ids)
        staff = [s for s in staff if s["id"] in wanted]
    return staff


def _shift(resource: Resource, day: date, absences: list[tuple[datetime, datetime]]) -> Shift | None:
    hours = resource.hours.get(day.weekday())
    if hours is None:
        return None
    start, end = minutes(hours[0]), minutes(hours[1])
    for a, b in absences:
        a_local, b_local = a.astimezone(STOCKHOLM), b.astimezone(STOCKHOLM)
        a_min = -1 if a_local.date() < day else (minutes(a_local.time()) if a_local.date() == day else 24 * 60 + 1)
        b_min = 24 * 60 + 1 if b_local.date() > day else (minutes(b_local.time()) if b_local.date() == day else -1)
        if b_min <= start or a_min >= end:
            continue  # the absence is outside the hours
        # What is left before or after the absence: the longer part is the day's shift.
        before, after = (start, min(a_min, end)), (max(b_min, start), end)
        start, end = max(before, after, key=lambda p: p[1] - p[0])
    if end - start < SHORTEST_SHIFT_MINUTES:
        return None
    return Shift(day, start, end, minutes(resource.lunch_earliest), minutes(resource.lunch_latest),
                 resource.lunch_minutes)


async def technicians(organisation_id: int, technician_ids: list[int] | None, days: list[date]) -> list[Technician]:
    """The organisation's active technicians (those of `technician_ids`; None: all) with their
    shifts on `days` that are working days for them: their weekly hours, less the organisation's
    closed days and Swedish holidays, less their absences. Four queries, however many technicians."""
    staff = await _technician_staff(organisation_id, technician_ids)
    if not staff:
        return []
    resources = await _resources(staff)
    calendar = await work_calendar(organisation_id)
    working = sorted(d for d in set(days) if calendar.is_working_day(d))
    absent: dict[int, list[tuple[datetime, datetime]]] = {}
    if working:
        first, last = availability.day_bounds_utc(working[0], working[-1])
        for who, a, b in await availability.absences_between([s["id"] for s in staff], first, last):
            absent.setdefault(who, []).append((a, b))
    out = []
    for r in resources:
        shifts = [s for d in working if (s := _shift(r, d, absent.get(r.staff_user, []))) is not None]
        out.append(Technician(r.staff_user, r.name, r.start, r.end_place, tuple(shifts), r.skills,
                              float(r.max_drive_km) if r.max_drive_km is not None else None))
    return out


async def restricted_categories(organisation_id: int) -> frozenset[int]:
    """The device categories only technicians with the skill may service."""
    rows = await db.fetch("SELECT device_category FROM skill_category WHERE organisation = $1", organisation_id)
    return frozenset(r["device_category"] for r in rows)


def restricted_sql(organisation: object, category: object) -> db.Sql:
    """A boolean expression for another query: the category needs a skill in the organisation."""
    return db.Sql("EXISTS (SELECT 1 FROM skill_category sc_r WHERE sc_r.organisation = :org "
                  "AND sc_r.device_category = :cat)", org=organisation, cat=category)


# --- the register: pages' reads and writes --------------------------------------------------


async def register(organisation_id: int) -> list[Resource]:
    """Every active technician with what is registered about them (defaults where nothing is)."""
    return await _resources(await _technician_staff(organisation_id, None))


async def resource(organisation_id: int, staff_user_id: int) -> Resource:
    staff = await _technician_staff(organisation_id, [staff_user_id])
    if not staff:
        raise ResourceError("Teknikern finns inte.")
    return (await _resources(staff))[0]


@dataclass
class ResourceInput:
    start_label: str
    start: Place
    end_label: str | None
    end: Place | None
    lunch_earliest: time
    lunch_latest: time
    lunch_minutes: int
    max_drive_km: int | None
    hours: dict[int, tuple[time, time]]
    skills: list[int]


def check_place(latitude: float | None, longitude: float | None, field: str) -> list[tuple[str, str]]:
    if latitude is None or longitude is None:
        return [(field, "Ange både latitud och longitud, t.ex. 59.6162 och 16.4981.")]
    # Sweden and its neighbours: a place far outside is a typing mistake (swapped or a lost digit).
    if not (54.0 <= latitude <= 70.0 and 4.0 <= longitude <= 32.0):
        return [(field, "Platsen ligger inte i Sverige. Kontrollera latitud (54–70) och longitud (4–32).")]
    return []


def validate(data: ResourceInput) -> None:
    """Refuse a description that cannot be planned with, every wrong field at once."""
    errors: list[tuple[str | None, str]] = []
    if not data.start_label.strip():
        errors.append(("start_label", "Skriv vad startplatsen är, t.ex. Hemma i Sala eller HMC."))
    errors += check_place(*data.start, "start_latitude")
    if data.end is not None:
        errors += check_place(*data.end, "end_latitude")
    if data.lunch_earliest > data.lunch_latest:
        errors.append(("lunch_latest", "Senaste lunchstart måste vara samma som eller efter tidigaste."))
    if not 0 <= data.lunch_minutes <= 120:
        errors.append(("lunch_minutes", "Lunchen är 0–120 minuter."))
    if data.max_drive_km is not None and not 1 <= data.max_drive_km <= 2000:
        errors.append(("max_drive_km", "Körgränsen är 1–2000 km om dagen, eller tom för ingen gräns."))
    for weekday, (a, b) in sorted(data.hours.items()):
        if a >= b:
            errors.append((f"ends_{weekday}", f"{WEEKDAY_NAMES[weekday]}: arbetsdagen måste sluta efter att den börjar."))
    if errors:
        raise ResourceErrors(errors)


async def save_resource(organisation_id: int, staff_user_id: int, data: ResourceInput) -> None:
    """Describe a technician for planning: start and end place, lunch, driving limit, week, skills."""
    validate(data)
    await resource(organisation_id, staff_user_id)  # a technician of this organisation
    known = {c for c, _ in await catalogue.category_choices(organisation_id)}
    if not set(data.skills) <= known:
        raise ResourceError("Välj kategorier ur listan.", "skills")
    async with db.transaction():
        await db.execute(
            """
            INSERT INTO technician_resource (staff_user, start_label, start_latitude, start_longitude, end_label,
                end_latitude, end_longitude, lunch_earliest, lunch_latest, lunch_minutes, max_drive_km, updated_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, now())
            ON CONFLICT (staff_user) DO UPDATE SET start_label = $2, start_latitude = $3, start_longitude = $4,
                end_label = $5, end_latitude = $6, end_longitude = $7, lunch_earliest = $8, lunch_latest = $9,
                lunch_minutes = $10, max_drive_km = $11, updated_at = now()
            """,
            staff_user_id, data.start_label.strip(), data.start[0], data.start[1],
            (data.end_label or "").strip() or None if data.end is not None else None,
            data.end[0] if data.end else None, data.end[1] if data.end else None,
            data.lunch_earliest, data.lunch_latest, data.lunch_minutes, data.max_drive_km,
        )
        await db.execute("DELETE FROM technician_hours WHERE staff_user = $1", staff_user_id)
        if data.hours:
            await db.execute(
                "INSERT INTO technician_hours (staff_user, weekday, starts, ends) "
                "SELECT $1, w, s, e FROM unnest($2::smallint[], $3::time[], $4::time[]) AS t(w, s, e)",
                staff_user_id, list(data.hours), [h[0] for h in data.hours.values()],
                [h[1] for h in data.hours.values()],
            )
        await db.execute("DELETE FROM technician_skill WHERE staff_user = $1", staff_user_id)
        if data.skills:
            await db.execute(
                "INSERT INTO technician_skill (staff_user, device_category) SELECT $1, unnest($2::int[])",
                staff_user_id, sorted(set(data.skills)),
            )


async def set_restricted_categories(organisation_id: int, category_ids: list[int]) -> None:
    """Which device categories need a skill (the others anyone may service)."""
    known = {c for c, _ in await catalogue.category_choices(organisation_id)}
    if not set(category_ids) <= known:
        raise ResourceError("Välj kategorier ur listan.", "categories")
    async with db.transaction():
        await db.execute("DELETE FROM skill_category WHERE organisation = $1", organisation_id)
        if category_ids:
            await db.execute(
                "INSERT INTO skill_category (organisation, device_category) SELECT $1, unnest($2::int[])",
                organisation_id, sorted(set(category_ids)),
            )


async def add_absence(organisation_id: int, staff_user_id: int, first_day: date, last_day: date, reason: str) -> None:
    """A technician's leave: whole days out of the plan (kept with the consultants' absences)."""
    await resource(organisation_id, staff_user_id)
    try:
        await availability.add_absence_days(organisation_id=organisation_id, staff_user_id=staff_user_id,
                                            first_day=first_day, last_day=last_day, reason=reason)
    except DomainError as error:
        raise ResourceError(error.message, error.field) from error


async def absences(staff_user_id: int, since: date) -> list[dict]:
    """A technician's absences still running or to come (id, first_day, last_day, reason)."""
    since_utc = availability.local_to_utc(since, time(0))
    return [{"id": e.id, "first_day": availability.local_date(e.starts_at),
             "last_day": availability.local_date(e.ends_at - timedelta(seconds=1)), "reason": e.reason}
            for e in await availability.list_exceptions(staff_user_id, since=since_utc)]


async def remove_absence(organisation_id: int, staff_user_id: int, absence_id: int) -> None:
    try:
        await availability.remove_exception(organisation_id, staff_user_id, absence_id)
    except DomainError as error:
        raise ResourceError(error.message, error.field) from error
