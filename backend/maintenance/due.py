"""When FU falls due: the rules (plain functions, below), the same rules as SQL over every device at
once (`due_rows`, which generation also builds on), and the due list as last computed (`refresh`
writes it, `due_list` pages through it).

For each device and FU schedule that applies to it (devices.schedules: the only source of
intervals), FU was last done on the day its latest FU order for that schedule was completed (for
the yearly "fu" checklist also the device's last_fu_date, whichever is later: an import or an FU
order made by hand sets that); never done: counted from the start of the current loan, else from
the day the device came into service. It falls due one interval later, on the last working day on
or before that day (the organisation's calendar: weekends, Swedish holidays, its closed days).

Only devices on loan have FU on the calendar. A device in the depot has none: its schedules marked
"also before each new user" are due before it is lent again, when they were not done since its last
loan ended (or ever, for a device never lent). Devices condemned, out of use or in repair are on
neither list. An open order for the device and schedule shows as such; a cancelled one (the patient
could not be reached) leaves the device due, with the reason.

The list is read from a snapshot (fu_due), computed set-based in one statement per organisation:
every few minutes by the job queue, after each generation, and when a coordinator asks; each row's
order is read live when the page shows it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache

from backend import db
from backend.accounts import areas
from backend.db import Sql, raw
from backend.devices import loans, schedules
from backend.devices import service as devices
from backend.devices.tables import DEVICE_STATUS_LABELS, DeviceStatus
from backend.jobs import queue
from backend.organisations import service as organisations
from backend.patients import service as patients
from backend.workdays import SWEDISH, Calendar
from backend.workorders import generated as fu_orders
from backend.workorders.tables import STATUS_LABELS, WorkOrderStatus

FU_CHECKLIST = schedules.FU_CHECKLIST
# Not on the due list at all (the page says how many): condemned, or out of use or in repair until
# they come back.
EXCLUDED = (DeviceStatus.condemned.value, DeviceStatus.out_of_use.value, DeviceStatus.in_repair.value)
CALENDAR, NEW_USER = "calendar", "new_user"
PAGE_SIZE = 25
REFRESH_TASK = "maintenance.refresh_due_of"  # the job that computes one organisation's list again
BACKLOG_MONTHS = 12
# The due dates the SQL moves off weekends and holidays lie within these years around today.
YEARS_BACK, YEARS_AHEAD = 40, 12


# --- the rules ----------------------------------------------------------------------------------


def on_or_before(day: date, calendar: Calendar = SWEDISH) -> date:
    """The last working day on or before `day`."""
    while not calendar.is_working_day(day):
        day -= timedelta(days=1)
    return day


def on_or_after(day: date, calendar: Calendar = SWEDISH) -> date:
    """The first working day on or after `day`."""
    while not calendar.is_working_day(day):
        day += timedelta(days=1)
    return day


def kind_of(status: str, holder: int | None) -> str | None:
    """On which list a device's schedules are: the calendar (on loan), before its next user (in
    the depot), or none (condemned, out of use, in repair)."""
    if status in EXCLUDED:
        return None
    return CALENDAR if holder is not None else NEW_USER


def last_done(checklist_code: str, last_completed: date | None, last_fu_date: date | None) -> date | None:
    """When the schedule's FU was last done: its latest completed order; for the "fu" checklist the
    device's last_fu_date when that is later."""
    if checklist_code == FU_CHECKLIST:
        return max((d for d in (last_completed, last_fu_date) if d is not None), default=None)
    return last_completed


def due_date(done: date | None, lent_from: date | None, in_service: date, interval_days: int,
             calendar: Calendar = SWEDISH) -> date:
    """One interval after it was last done (never done: after the loan began, else after the
    device came into service), on the last working day on or before that day."""
    basis = done or lent_from or in_service
    return on_or_before(basis + timedelta(days=interval_days), calendar)


def due_before_new_user(before_new_user: bool, done: date | None, last_returned: date | None) -> bool:
    """A device in the depot needs the schedule's check before it is lent again when the schedule
    says so and it was not done since its last loan ended (a device never lent: not ever)."""
    if not before_new_user:
        return False
    if done is None:
        return True
    return last_returned is not None and done < last_returned


@lru_cache(maxsize=32)
def _shifts(calendar: Calendar, first: date, last: date) -> tuple[list[date], list[date]]:
    days, before = [], []
    day, latest_working = first, None
    while day <= last:
        if calendar.is_working_day(day):
            latest_working = day
        elif latest_working is not None:
            days.append(day)
            before.append(latest_working)
        day += timedelta(days=1)
    return days, before


def shifted_days(calendar: Calendar, today: date) -> tuple[list[date], list[date]]:
    """The days that are not working days, in the years around `today`, each with the last working
    day before it: what `due_rows` moves a due date with."""
    return _shifts(calendar, date(today.year - YEARS_BACK, 1, 1), date(today.year + YEARS_AHEAD, 12, 31))


# --- the same rules as SQL, for many devices at once ---------------------------------------------


def due_rows(devices_source: Sql, calendar: Calendar, today: date) -> Sql:
    """Every device of `devices_source` (a row source with the columns of devices.device_row) with
    each FU schedule that applies to it, as a row source `FROM (:due) r`: device_id, individnummer,
    device_status, holder, category_id, cost_bearer (the patient's; in the depot the device's owner),
    schedule_id, schedule_name, interval_days, checklist_code, before_new_user, kind ('calendar',
    'new_user'; NULL when excluded), last_done, plain_due (one interval after; before it is moved
    off a holiday), due_date (kind calendar), needed (kind new_user:
    due before the next user), open_order, open_number, open_status, open_planned, cancelled_at,
    cancel_reason, cancelled_due (a cancelled order since it was last done)."""
    shift_from, shift_to = shifted_days(calendar, today)
    return Sql(
        """
        SELECT dv.device_id, dv.individnummer, dv.device_status, dv.holder, dv.category_id,
               coalesce(pc.cost_bearer, dv.owner) AS cost_bearer,
               s.schedule_id, s.name AS schedule_name, s.interval_days, s.checklist_code, s.before_new_user,
               CASE WHEN dv.device_status = ANY(:excluded::text[]) THEN NULL
                    WHEN dv.holder IS NOT NULL THEN 'calendar' ELSE 'new_user' END AS kind,
               ld.last_done, x.plain_due,
               coalesce(sh.before, x.plain_due) AS due_date,
               (s.before_new_user AND (ld.last_done IS NULL OR ld.last_done < l.last_returned)) AS needed,
               o.open_order, o.open_number, o.open_status, o.open_planned,
               CASE WHEN c.shown THEN o.cancelled_at END AS cancelled_at,
               CASE WHEN c.shown THEN o.cancel_reason END AS cancel_reason,
               CASE WHEN c.shown THEN o.cancelled_due END AS cancelled_due
        FROM (:devices) dv
        CROSS JOIN LATERAL (:schedules) s
        CROSS JOIN LATERAL (:loans) l
        LEFT JOIN LATERAL (:contact) pc ON dv.holder IS NOT NULL
        CROSS JOIN LATERAL (:orders) o
        CROSS JOIN LATERAL (
            SELECT CASE WHEN s.checklist_code = :fu THEN greatest(o.last_completed, dv.last_fu_date)
                        ELSE o.last_completed END AS last_done) ld
        CROSS JOIN LATERAL (
            SELECT coalesce(ld.last_done, l.lent_from, dv.in_service_date) + s.interval_days AS plain_due) x
        CROSS JOIN LATERAL (
            SELECT (o.open_order IS NULL AND o.cancelled_at IS NOT NULL
                    AND (ld.last_done IS NULL
                         OR (o.cancelled_at AT TIME ZONE 'Europe/Stockholm')::date >= ld.last_done)) AS shown) c
        LEFT JOIN unnest(:shift_from::date[], :shift_to::date[]) sh(day, before) ON sh.day = x.plain_due
        """,
        devices=devices_source, schedules=schedules.effective_schedules_sql(raw("dv.device_id")),
        loans=loans.loan_dates(raw("dv.device_id")), contact=patients.notice_contact(raw("dv.holder")),
        orders=fu_orders.fu_order_state(raw("dv.device_id"), raw("s.schedule_id"),
                                        Sql(":fu_code = s.checklist_code", fu_code=FU_CHECKLIST)),
        excluded=list(EXCLUDED), fu=FU_CHECKLIST, shift_from=shift_from, shift_to=shift_to)


def organisation_devices(organisation_id: int, condition: Sql | None = None) -> Sql:
    """The organisation's devices (the columns of devices.device_row), where `condition` (on the
    aliases d, a, k of devices.devices_where) holds too."""
    return devices.devices_where(Sql("d.organisation = :org AND :more", org=organisation_id,
                                     more=condition or raw("true")))


# --- the snapshot -------------------------------------------------------------------------------


def month_ends(today: date, months: int = BACKLOG_MONTHS) -> list[date]:
    """The last day of each of the `months` months before today's, oldest first."""
    ends, end = [], today.replace(day=1) - timedelta(days=1)
    for _ in range(months):
        ends.append(end)
        end = end.replace(day=1) - timedelta(days=1)
    return sorted(ends)


async def request_refresh(organisation_id: int) -> None:
    """Have the job queue compute the organisation's due list again soon (once, however often asked
    before it starts)."""
    async with db.transaction():
        await queue.defer(REFRESH_TASK, organisation_id=organisation_id,
                          queueing_lock=f"{REFRESH_TASK}:{organisation_id}")


async def refresh(organisation_id: int, *, today: date) -> None:
    """Compute the organisation's due list again (one statement over every device), with what it
    leaves out, its schedules and the backlog's trend. One refresh at a time per organisation;
    readers see the previous list until it commits. An organisation that is gone is left alone."""
    if await organisations.organisation(organisation_id) is None:
        return
    calendar = await organisations.work_calendar(organisation_id)
    async with db.transaction():
        await db.execute("INSERT INTO fu_due_state (organisation) VALUES ($1) ON CONFLICT DO NOTHING",
                         organisation_id)
        await db.execute("SELECT 1 FROM fu_due_state WHERE organisation = $1 FOR UPDATE", organisation_id)
        await db.execute("DELETE FROM fu_due WHERE organisation = $1", organisation_id)
        await db.execute("DELETE FROM fu_due_count WHERE organisation = $1", organisation_id)
        row = await db.fetchrow(Sql(
            """
            WITH r AS MATERIALIZED (:due), ins AS (
                INSERT INTO fu_due (organisation, device, fu_schedule, kind, individnummer, category, cost_bearer,
                                    checklist_code, schedule_name, interval_days, last_done, due_date, open_order,
                                    cancelled_at, cancel_reason)
                SELECT :org, r.device_id, r.schedule_id, r.kind, r.individnummer, r.category_id, r.cost_bearer,
                       r.checklist_code, r.schedule_name, r.interval_days, r.last_done,
                       CASE WHEN r.kind = 'calendar' THEN r.due_date END, r.open_order, r.cancelled_at,
                       r.cancel_reason
                FROM r WHERE r.kind = 'calendar' OR (r.kind = 'new_user' AND r.needed)
                RETURNING kind, category, cost_bearer, checklist_code, due_date, open_order
            ), counted AS (
                INSERT INTO fu_due_count (organisation, kind, category, cost_bearer, checklist_code, overdue, due_date,
                                          ordered, devices)
                SELECT :org, ins.kind, ins.category, ins.cost_bearer, ins.checklist_code,
                       coalesce(ins.due_date < :today, false),
                       CASE WHEN ins.due_date < :today THEN '-infinity'::date ELSE ins.due_date END,
                       ins.open_order IS NOT NULL, count(*)
                FROM ins GROUP BY 2, 3, 4, 5, 6, 7, 8
            )
            SELECT (SELECT coalesce(json_object_agg(e.device_status, e.n), '{}') FROM (
                        SELECT device_status, count(DISTINCT device_id) AS n FROM r WHERE kind IS NULL
                        GROUP BY device_status) e) AS excluded,
                   (SELECT coalesce(json_agg(json_build_object('code', x.checklist_code, 'name', x.name)
                                             ORDER BY x.checklist_code), '[]') FROM (
                        SELECT checklist_code, min(schedule_name) AS name FROM r GROUP BY checklist_code) x) AS schedules,
                   (SELECT count(*) FROM ins WHERE kind = 'calendar' AND due_date < :today AND open_order IS NULL)
                       AS overdue_without_order
            """,
            due=due_rows(organisation_devices(organisation_id), calendar, today),
            org=organisation_id, today=today))
        ends = month_ends(today)
        history = await fu_orders.fu_backlog(organisation_id, ends, today)
        backlog = [{"day": end.isoformat(), "overdue": history["month_ends"][end]} for end in ends]
        backlog.append({"day": today.isoformat(), "overdue": history["now"] + row["overdue_without_order"],
                        "today": True})
        await db.execute("UPDATE fu_due_state SET refreshed_at = now(), excluded = $2::jsonb, schedules = $3::jsonb, "
                         "backlog = $4::jsonb WHERE organisation = $1",
                         organisation_id, _text(row["excluded"]), _text(row["schedules"]), json.dumps(backlog))


def _text(value) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _json(value):
    return json.loads(value) if isinstance(value, str) else value


async def state(organisation_id: int) -> dict | None:
    """When the list was computed, what it leaves out (by status, with labels), its schedules and the
    backlog's trend; None before the first computation."""
    row = await db.fetchrow("SELECT refreshed_at, excluded, schedules, backlog FROM fu_due_state "
                            "WHERE organisation = $1", organisation_id)
    if row is None:
        return None
    excluded = _json(row["excluded"])
    return {"refreshed_at": row["refreshed_at"],
            "excluded": [{"status": s, "label": DEVICE_STATUS_LABELS[DeviceStatus(s)], "devices": excluded[s]}
                         for s in EXCLUDED if excluded.get(s)],
            "schedules": _json(row["schedules"]), "backlog": _json(row["backlog"])}


async def refreshed_at(organisation_id: int) -> datetime | None:
    return await db.fetchval("SELECT refreshed_at FROM fu_due_state WHERE organisation = $1", organisation_id)


# --- reading the list ---------------------------------------------------------------------------

HORIZONS = {"manad": "Denna månad", "3-manader": "Tre månader framåt", "period": "Datum från–till"}
STATUSES = {"forfallen": "Förfallen", "forfaller": "Förfaller", "order": "Order finns"}
VIEWS = {"kalender": "Enligt intervall", "fore-ny-brukare": "Före ny brukare"}


@dataclass(frozen=True)
class DueFilter:
    view: str = "kalender"  # a key of VIEWS
    horizon: str = "manad"  # a key of HORIZONS
    since: date | None = None  # horizon "period": its first and last day
    until: date | None = None
    category: int | None = None
    cost_bearer: int | None = None
    technician: int | None = None  # devices in the municipalities this technician covers
    checklist: str | None = None  # a schedule's checklist code
    status: str | None = None  # a key of STATUSES
    search: str = ""  # the beginning of an individnummer

    def cleaned(self) -> "DueFilter":
        """The filter with what names no choice left out (a hand-edited address)."""
        return DueFilter(
            view=self.view if self.view in VIEWS else "kalender",
            horizon=self.horizon if self.horizon in HORIZONS else "manad",
            since=self.since, until=self.until, category=self.category, cost_bearer=self.cost_bearer,
            technician=self.technician, checklist=self.checklist or None,
            status=self.status if self.status in STATUSES else None,
            search=devices.normalise_individnummer(self.search)[:20])

    def window(self, today: date) -> tuple[date, date]:
        """The days whose FU the list shows besides the overdue ones: from, to (both included)."""
        if self.horizon == "period" and self.since and self.until:
            return self.since, self.until
        if self.horizon == "3-manader":
            return today, _months_later(today, 3)
        return today, (today.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


def _months_later(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def _conditions(organisation_id: int, wanted: DueFilter, today: date, covered: list[int] | None, *,
                counts: bool = False) -> Sql:
    """The filter as a condition on fu_due `f` (or, with `counts`, on fu_due_count `f`, which has no
    numbers to search). `covered`: the municipalities of the chosen technician's area. Only the
    filters chosen are in the text, so that a prepared statement's generic plan stays as good as
    the planner's first one (an `:x IS NULL OR …` would hide which index fits)."""
    since, until = wanted.window(today)
    parts = [Sql("f.organisation = :org", org=organisation_id)]
    if wanted.view == "fore-ny-brukare":
        parts.append(raw("f.kind = 'new_user'"))
        overdue = raw("false")
    else:  # what was overdue when the counts were computed is dated -infinity: before any day
        parts.append(Sql("f.kind = 'calendar' AND f.due_date <= :until AND (f.due_date >= :since OR f.due_date < :today)",
                         until=until, since=since, today=today))
        overdue = Sql("f.due_date < :today", today=today)
    ordered = raw("f.ordered" if counts else "f.open_order IS NOT NULL")
    if wanted.status == "order":
        parts.append(ordered)
    elif wanted.status == "forfallen":
        parts.append(Sql("NOT :ordered AND :overdue", ordered=ordered, overdue=overdue))
    elif wanted.status == "forfaller":
        parts.append(Sql("NOT :ordered AND NOT :overdue", ordered=ordered, overdue=overdue))
    if wanted.category is not None:
        parts.append(Sql("f.category = :category", category=wanted.category))
    if wanted.cost_bearer is not None:
        parts.append(Sql("f.cost_bearer = :cost_bearer", cost_bearer=wanted.cost_bearer))
    if covered is not None:
        parts.append(Sql("f.cost_bearer = ANY(:covered::int[])", covered=covered))
    if wanted.checklist:
        parts.append(Sql("f.checklist_code = :checklist", checklist=wanted.checklist))
    if wanted.search and not counts:
        parts.append(Sql("f.individnummer LIKE :search || '%'", search=wanted.search))
    return Sql(" AND ".join(f":part{n}" for n in range(len(parts))),
               **{f"part{n}": part for n, part in enumerate(parts)})


async def _covered(organisation_id: int, wanted: DueFilter) -> list[int] | None:
    """The municipalities the chosen technician covers (None: no technician chosen)."""
    if wanted.technician is None:
        return None
    return sorted(bearer for bearer, technicians in (await areas.technicians_by_cost_bearer(organisation_id)).items()
                  if wanted.technician in technicians)


async def due_counts(organisation_id: int, wanted: DueFilter, today: date) -> list[dict]:
    """How many on the list (as filtered), by category and status: overdue, due, with an order. Read
    from the counts computed with the list (a few hundred rows for a region, however large its
    backlog), or, when searching for a number, from the list itself."""
    covered = await _covered(organisation_id, wanted)
    if covered == []:
        return []
    if wanted.search:
        source = Sql("SELECT f.category, f.open_order IS NOT NULL AS ordered, coalesce(f.due_date < :today, false) "
                     "AS late, 1 AS devices FROM fu_due f WHERE :conditions",
                     today=today, conditions=_conditions(organisation_id, wanted, today, covered))
    else:
        source = Sql("SELECT f.category, f.ordered, coalesce(f.due_date < :today, false) AS late, f.devices "
                     "FROM fu_due_count f WHERE :conditions",
                     today=today, conditions=_conditions(organisation_id, wanted, today, covered, counts=True))
    rows = await db.fetch(Sql(
        """
        SELECT c.category,
               coalesce(sum(c.devices) FILTER (WHERE NOT c.ordered AND c.late), 0) AS overdue,
               coalesce(sum(c.devices) FILTER (WHERE NOT c.ordered AND NOT c.late), 0) AS due,
               coalesce(sum(c.devices) FILTER (WHERE c.ordered), 0) AS ordered,
               coalesce(sum(c.devices), 0) AS total
        FROM (:source) c GROUP BY c.category
        """,
        source=source))
    return [dict(r) for r in rows]


async def due_page(organisation_id: int, wanted: DueFilter, page: int, today: date) -> tuple[list[dict], bool]:
    """A page of the list (as filtered), the earliest due first, each with its order as it is now
    (the snapshot may be minutes old): the open one, or the FU done since."""
    covered = await _covered(organisation_id, wanted)
    if covered == []:
        return [], False
    rows = await db.fetch(Sql(
        """
        SELECT p.*, o.open_order, o.open_number, o.open_status, o.open_planned, o.last_completed
        FROM (SELECT f.device, f.fu_schedule, f.kind, f.individnummer, f.category, f.cost_bearer, f.checklist_code,
                     f.schedule_name, f.interval_days, f.last_done, f.due_date, f.cancelled_at, f.cancel_reason
              FROM fu_due f WHERE :conditions
              ORDER BY f.due_date NULLS LAST, f.individnummer, f.checklist_code
              LIMIT :limit OFFSET :offset) p
        CROSS JOIN LATERAL (:orders) o
        ORDER BY p.due_date NULLS LAST, p.individnummer, p.checklist_code
        """,
        orders=fu_orders.fu_order_state(raw("p.device"), raw("p.fu_schedule"),
                                        Sql(":fu = p.checklist_code", fu=FU_CHECKLIST)),
        conditions=_conditions(organisation_id, wanted, today, covered), limit=PAGE_SIZE + 1,
        offset=(page - 1) * PAGE_SIZE))
    shown = []
    for r in rows[:PAGE_SIZE]:
        row = dict(r)
        done_since = r["last_completed"] is not None and (r["last_done"] is None or r["last_completed"] > r["last_done"])
        row["done_since"] = r["last_completed"] if done_since and r["open_order"] is None else None
        row["open_status_label"] = STATUS_LABELS[WorkOrderStatus(r["open_status"])] if r["open_status"] else None
        row["overdue_days"] = (today - r["due_date"]).days if r["due_date"] and r["due_date"] < today else 0
        if row["open_order"] is not None:
            row["status"], row["status_label"] = "order", STATUSES["order"]
        elif row["done_since"]:
            row["status"], row["status_label"] = "done", "Utförd"
        elif row["overdue_days"]:
            row["status"], row["status_label"] = "forfallen", STATUSES["forfallen"]
        else:
            row["status"], row["status_label"] = "forfaller", STATUSES["forfaller"]
        shown.append(row)
    return shown, len(rows) > PAGE_SIZE
