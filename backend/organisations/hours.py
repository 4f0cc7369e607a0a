"""The HMC's opening hours per weekday and its calendar overrides (a local holiday or closed day,
an extra open day), and the working-day calendar they make for the service-level clocks.

A working day is a weekday the HMC is open that is not a Swedish holiday, unless an override
says otherwise (backend/workdays.py counts them; `work_calendar` loads them in one query).
Changes are recorded in the "calendar" register under the organisation's id: the weekdays and
the override dates are its fields, so the calendar page shows one history.
"""

from __future__ import annotations

import re
from datetime import date, time, timedelta
from typing import Mapping

from backend import db
from backend.changes import service as changes
from backend.organisations.register import NotFound, RegisterError, raise_any
from backend.workdays import Calendar, is_public_holiday

WEEKDAY_NAMES = {1: "Måndag", 2: "Tisdag", 3: "Onsdag", 4: "Torsdag", 5: "Fredag", 6: "Lördag", 7: "Söndag"}
# Today's week when the organisation has set none: Monday to Friday, 08:00–16:30.
DEFAULT_HOURS = {day: (time(8), time(16, 30)) if day <= 5 else (None, None) for day in WEEKDAY_NAMES}

KIND_LABELS = {"closed": "Stängt", "open": "Extra öppet"}

# How far from today an override may lie: a year back (a correction), five years ahead.
DAYS_BACK, DAYS_AHEAD = 366, 5 * 366

_TIME = re.compile(r"^([01]?[0-9]|2[0-3])[:.]([0-5][0-9])$")


def hours_field(weekday: int, which: str) -> str:
    """The form field (and error key) of a weekday's opening or closing time: `hours_1_opens`."""
    return f"hours_{weekday}_{which}"


def _shown(opens: time | None, closes: time | None) -> str:
    return f"{opens:%H:%M}–{closes:%H:%M}" if opens and closes else "Stängt"


async def opening_hours(organisation_id: int) -> list[dict]:
    """Monday to Sunday: weekday (1–7), name, opens and closes (None: closed)."""
    rows = await db.fetch("SELECT weekday, opens, closes FROM opening_hours WHERE organisation = $1", organisation_id)
    own = {r["weekday"]: (r["opens"], r["closes"]) for r in rows}
    week = own if own else DEFAULT_HOURS
    return [{"weekday": day, "name": name, "opens": week.get(day, (None, None))[0],
             "closes": week.get(day, (None, None))[1]} for day, name in WEEKDAY_NAMES.items()]


def read_hours(entered: Mapping[int, Mapping[str, str]]) -> dict[int, tuple[time | None, time | None]]:
    """A week of opening hours from what the admin typed: per weekday an opening and a closing
    time (09:00 or 9.00), or both empty for a closed day. At least one day must be open."""
    errors: list = []
    week: dict[int, tuple[time | None, time | None]] = {}
    for day, name in WEEKDAY_NAMES.items():
        typed = entered.get(day, {})
        values = {}
        for which in ("opens", "closes"):
            value = str(typed.get(which, "") or "").strip()
            match = _TIME.match(value)
            if value and not match:
                errors.append((hours_field(day, which), "Skriv tiden som 08:00."))
            values[which] = time(int(match.group(1)), int(match.group(2))) if match else None
            values[which + "_typed"] = value
        opens, closes = values["opens"], values["closes"]
        if bool(values["opens_typed"]) != bool(values["closes_typed"]):
            missing = "opens" if not values["opens_typed"] else "closes"
            errors.append((hours_field(day, missing),
                           f"{name}: ange både när ni öppnar och stänger, eller lämna båda tomma för stängt."))
        elif opens and closes and closes <= opens:
            errors.append((hours_field(day, "closes"), f"{name}: stängningstiden måste vara efter öppningstiden."))
        week[day] = (opens, closes) if opens and closes else (None, None)
    if not errors and not any(opens for opens, _ in week.values()):
        errors.append((hours_field(1, "opens"), "Hjälpmedelscentralen måste ha öppet minst en dag i veckan."))
    raise_any(errors)
    return week


async def set_opening_hours(organisation_id: int, entered: Mapping[int, Mapping[str, str]], *,
                            actor_id: int | None, actor_name: str) -> None:
    """The HMC's week. A weekday without hours is not a working day for the clocks."""
    week = read_hours(entered)
    async with db.transaction():
        if not await db.fetchval("SELECT 1 FROM organisation WHERE id = $1 FOR UPDATE", organisation_id):
            raise NotFound()
        before = {f"weekday_{d['weekday']}": _shown(d["opens"], d["closes"])
                  for d in await opening_hours(organisation_id)}
        await db.execute(
            """
            INSERT INTO opening_hours (organisation, weekday, opens, closes)
            SELECT $1, d.weekday, d.opens, d.closes
            FROM unnest($2::smallint[], $3::time[], $4::time[]) AS d(weekday, opens, closes)
            ON CONFLICT (organisation, weekday) DO UPDATE SET opens = excluded.opens, closes = excluded.closes
            """,
            organisation_id, list(week), [o for o, _ in week.values()], [c for _, c in week.values()])
        await changes.record(organisation_id, "calendar", organisation_id, "changed", actor=actor_id,
                             actor_name=actor_name, before=before,
                             after={f"weekday_{day}": _shown(*hours) for day, hours in week.items()})


# --- calendar overrides ----------------------------------------------------------------------------


async def calendar_days(organisation_id: int, since: date) -> list[dict]:
    """The overrides from `since` on, by date: id, day, kind, its label, note."""
    rows = await db.fetch(
        "SELECT id, day, kind, note FROM calendar_day WHERE organisation = $1 AND day >= $2 ORDER BY day",
        organisation_id, since)
    return [{**dict(r), "kind_label": KIND_LABELS[r["kind"]]} for r in rows]


def _override_text(kind: str, note: str) -> str:
    return f"{KIND_LABELS[kind]}: {note}" if note else KIND_LABELS[kind]


async def add_calendar_day(organisation_id: int, *, day: date | None, kind: str, note: str, today: date,
                           actor_id: int | None, actor_name: str) -> int:
    """A local holiday or closed day (`closed`), or an extra open day (`open`), with a note.
    A closed day must be one the HMC would otherwise work; an extra open day one it would not."""
    errors: list = []
    note = " ".join(note.split())
    if day is None:
        errors.append(("day", "Välj ett datum."))
    elif not today - timedelta(days=DAYS_BACK) <= day <= today + timedelta(days=DAYS_AHEAD):
        errors.append(("day", "Välj ett datum högst ett år bakåt och fem år framåt."))
    if kind not in KIND_LABELS:
        errors.append(("kind", "Välj stängt eller extra öppet."))
    if not note:
        errors.append(("note", "Skriv varför, till exempel Personaldag eller Inventering."))
    elif len(note) > 200:
        errors.append(("note", "Högst 200 tecken."))
    raise_any(errors)
    async with db.transaction():
        if not await db.fetchval("SELECT 1 FROM organisation WHERE id = $1 FOR UPDATE", organisation_id):
            raise NotFound()
        if await db.fetchval("SELECT 1 FROM calendar_day WHERE organisation = $1 AND day = $2", organisation_id, day):
            raise RegisterError(f"{day} har redan en avvikelse. Ta bort den först om den ska ändras.", "day")
        week = await opening_hours(organisation_id)
        usually_open = week[day.weekday()]["opens"] is not None and not is_public_holiday(day)
        if kind == "closed" and not usually_open:
            raise RegisterError(f"{day} är redan stängt (helg, helgdag eller stängd veckodag).", "day")
        if kind == "open" and usually_open:
            raise RegisterError(f"{day} är redan en arbetsdag.", "day")
        day_id = await db.fetchval(
            "INSERT INTO calendar_day (organisation, day, kind, note) VALUES ($1, $2, $3, $4) RETURNING id",
            organisation_id, day, kind, note)
        await changes.record(organisation_id, "calendar", organisation_id, "created", actor=actor_id,
                             actor_name=actor_name, after={day.isoformat(): _override_text(kind, note)})
    return day_id


async def remove_calendar_day(organisation_id: int, calendar_day_id: int, *, actor_id: int | None,
                              actor_name: str) -> None:
    """The day follows the week and the Swedish holidays again (orders already made keep their
    due dates). Its history stays in the calendar's history."""
    async with db.transaction():
        row = await db.fetchrow(
            "DELETE FROM calendar_day WHERE id = $1 AND organisation = $2 RETURNING day, kind, note",
            calendar_day_id, organisation_id)
        if row is None:
            raise NotFound()
        await changes.record(organisation_id, "calendar", organisation_id, "deleted", actor=actor_id,
                             actor_name=actor_name, before={row["day"].isoformat(): _override_text(row["kind"], row["note"])})


# --- the working-day calendar the clocks count in ----------------------------------------------------


async def work_calendar(organisation_id: int) -> Calendar:
    """The organisation's working days: its open weekdays (the default week when it set none),
    its closed days and its extra open days. One query."""
    row = await db.fetchrow(
        """
        SELECT (SELECT array_agg(weekday) FILTER (WHERE opens IS NOT NULL) FROM opening_hours
                 WHERE organisation = $1) AS open_weekdays,
               (SELECT count(*) FROM opening_hours WHERE organisation = $1) AS weekdays_set,
               (SELECT array_agg(day) FILTER (WHERE kind = 'closed') FROM calendar_day WHERE organisation = $1) AS closed,
               (SELECT array_agg(day) FILTER (WHERE kind = 'open') FROM calendar_day WHERE organisation = $1) AS extra_open
        """,
        organisation_id)
    weekdays = {d - 1 for d in row["open_weekdays"] or []} if row["weekdays_set"] else {0, 1, 2, 3, 4}
    return Calendar(open_weekdays=frozenset(weekdays or {0, 1, 2, 3, 4}), closed=frozenset(row["closed"] or ()),
                    extra_open=frozenset(row["extra_open"] or ()))
