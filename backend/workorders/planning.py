"""The coordinator's side of work orders: plan (assign a technician, a day and a time window),
put a technician's day in order, and cancel (makulera) with a reason.

Every change names the `version` the coordinator saw; a change made meanwhile by anyone
else is refused with VersionConflict and nothing is written.
"""

from __future__ import annotations

from datetime import date, time

from backend import db
from backend.db import Sql
from backend.accounts import service as accounts
from backend.accounts.service import Actor
from backend.accounts.tables import Role
from backend.workorders.service import (
    OPEN_STATUSES,
    NotOpen,
    WorkOrderError,
    apply_change,
    check_version,
    lock_order,
    record_event,
)

# Planning an order that was already started keeps it paused; anything else becomes planned.
PLANNABLE = ("new", "planned", "paused", "not_completed")


async def technicians(organisation_id: int) -> list[dict]:
    return [{"id": s["id"], "name": s["name"]} for s in await accounts.staff(organisation_id)
            if s["role"] == Role.technician]


def check_visit_time(day: date, window_start: time, window_end: time, today: date) -> None:
    """A day and window a visit may be given: a window that ends after it starts, today or later."""
    if window_start >= window_end:
        raise WorkOrderError("Tidsfönstret måste sluta efter att det börjar.", "window_end")
    if day < today:
        raise WorkOrderError("Dagen har redan varit. Välj idag eller en senare dag.", "day")


async def last_place_in_day(technician_id: int, day: date) -> int:
    """The position after the technician's last visit that day: where a visit new to the day goes."""
    return await db.fetchval(
        "SELECT coalesce(max(route_position), 0) + 1 FROM work_order "
        "WHERE assignee = $1 AND planned_date = $2 AND status <> 'cancelled'",
        technician_id, day,
    )


# Leave a planning detail as it is (callers that plan only the technician, day and window).
KEEP = object()


async def _technician(actor: Actor, technician_id: int, field: str, message: str) -> dict:
    technician = await accounts.staff_member(technician_id)
    if (technician is None or technician["organisation"] != actor.organisation or not technician["active"]
            or technician["role"] != Role.technician):
        raise WorkOrderError(message, field)
    return technician


async def plan_order(actor: Actor, work_order_id: int, version: int, *, technician_id: int, day: date,
                     window_start: time, window_end: time, today: date, locked: bool | None = None,
                     two_technicians: bool | None = None, second_technician_id: int | None | object = KEEP,
                     required_technician_id: int | None | object = KEEP) -> int:
    """Plan the visit: technician, day and window; and, when given, whether the time is confirmed
    with the patient (locked: route planning keeps technician, day and time), whether it needs two
    technicians (and which second one, when chosen), and a specific technician it must have."""
    check_visit_time(day, window_start, window_end, today)
    async with db.transaction():
        technician = await _technician(actor, technician_id, "technician", "Välj en tekniker.")
        second = None
        if isinstance(second_technician_id, int):
            if second_technician_id == technician_id:
                raise WorkOrderError("Välj en annan andra tekniker än den första.", "second_technician")
            second = await _technician(actor, second_technician_id, "second_technician", "Välj en andra tekniker i listan.")
        if isinstance(required_technician_id, int):
            required = await _technician(actor, required_technician_id, "required_technician",
                                         "Välj en bestämd tekniker i listan.")
            if required_technician_id not in (technician_id, second_technician_id):
                raise WorkOrderError(f"Besöket ska göras av {required['name']}. Välj hen som tekniker eller ta "
                                     "bort kravet.", "required_technician")
        order = await lock_order(actor, work_order_id)
        await check_version(order, version)
        if order["status"] not in PLANNABLE:
            raise NotOpen(order["status"])
        same_day = order["assignee"] == technician_id and order["planned_date"] == day
        # A new visit goes last in the technician's day; re-timing a visit keeps its place.
        position = None if same_day else await last_place_in_day(technician_id, day)
        keep_second = second_technician_id is KEEP
        keep_required = required_technician_id is KEEP
        needed = None
        if two_technicians is not None or not keep_second:
            needed = 2 if (two_technicians or second is not None) else 1
        if needed == 1:
            keep_second, second = False, None
        new_version = await apply_change(
            order,
            "assignee = $2, planned_date = $3, window_start = $4, window_end = $5, "
            "route_position = coalesce($6, route_position), "
            "status = CASE WHEN status = 'paused' THEN 'paused' ELSE 'planned' END, not_completed_reason = NULL, "
            "plan_locked = coalesce($7, plan_locked), technicians_needed = coalesce($8, technicians_needed), "
            "second_assignee = CASE WHEN $9 THEN second_assignee ELSE $10 END, "
            "required_technician = CASE WHEN $11 THEN required_technician ELSE $12 END",
            technician_id, day, window_start, window_end, position, locked, needed, keep_second,
            second["id"] if second else None, keep_required,
            required_technician_id if isinstance(required_technician_id, int) else None,
        )
        name = technician["name"]
        detail = f"{name}, {day.isoformat()} {window_start:%H:%M}–{window_end:%H:%M}"
        if second is not None:
            detail += f", med {second['name']}"
        elif needed == 2:
            detail += ", två tekniker behövs"
        if locked:
            detail += ", bekräftad med brukaren"
        await record_event(order["id"], actor.id, "planned", detail)
        return new_version


async def cancel_order(actor: Actor, work_order_id: int, version: int, reason: str, message_to_orderer: str) -> int:
    """Makulera: cancel with a reason. The message for the orderer defaults to the reason."""
    if not reason:
        raise WorkOrderError("Ange varför arbetsordern makuleras.", "reason")
    async with db.transaction():
        order = await lock_order(actor, work_order_id)
        await check_version(order, version)
        if order["status"] not in {s.value for s in OPEN_STATUSES}:
            raise NotOpen(order["status"])
        new_version = await apply_change(
            order, "status = 'cancelled', cancelled_at = now(), cancel_reason = $2, "
                   "message_to_orderer = coalesce(nullif($3, ''), message_to_orderer, $2)",
            reason, message_to_orderer,
        )
        await record_event(order["id"], actor.id, "cancelled", reason)
        return new_version


async def move_in_day(actor: Actor, work_order_id: int, version: int, direction: int) -> None:
    """Swap a visit with its neighbour in the technician's day (direction -1: earlier, +1: later)."""
    if direction not in (-1, 1):
        raise WorkOrderError("Välj tidigare eller senare.")
    async with db.transaction():
        order = await lock_order(actor, work_order_id)
        await check_version(order, version)
        if order["assignee"] is None or order["planned_date"] is None:
            raise WorkOrderError("Arbetsordern är inte planerad.")
        day = await db.fetch(
            "SELECT id, version FROM work_order WHERE assignee = $1 AND planned_date = $2 AND status <> 'cancelled' "
            "ORDER BY route_position NULLS LAST, window_start, id FOR UPDATE",
            order["assignee"], order["planned_date"],
        )
        ids = [r["id"] for r in day]
        at = ids.index(order["id"])
        other = at + direction
        if not 0 <= other < len(ids):
            return  # already first or last
        ids[at], ids[other] = ids[other], ids[at]
        # Renumber the whole day 1..n, so positions stay dense; only orders that move get a new version.
        await db.execute(
            """
            UPDATE work_order w SET route_position = t.position, version = w.version + 1, updated_at = now()
            FROM unnest($1::int[]) WITH ORDINALITY AS t(id, position)
            WHERE w.id = t.id AND w.route_position IS DISTINCT FROM t.position
            """,
            ids,
        )
        await record_event(order["id"], actor.id, "reordered", f"Plats {other + 1} av {len(ids)}")


# --- queries route planning places in its own ------------------------------------------------


def route_orders(organisation_id: int, technician_ids: list[int], first: date, last: date) -> Sql:
    """The orders planned for the technicians between `first` and `last` that are not cancelled, as
    a row source: the planning columns (id, number, type, status, device, patient, planned_date,
    window_start, window_end, finish_due, plan_locked, technicians_needed, required_technician,
    assignee, second_assignee, version), `technician` (whose day the row is in: an order for two
    technicians gives a row for each) and `position` in that technician-day (1, 2, …, as the
    board and Min dag order it)."""
    return Sql(
        """
        SELECT w.id, w.number, w.type, w.status, w.device, w.patient, w.planned_date, w.window_start, w.window_end,
               w.finish_due, w.plan_locked, w.technicians_needed, w.required_technician, w.assignee,
               w.second_assignee, w.version, t.technician,
               row_number() OVER (PARTITION BY t.technician, w.planned_date
                                  ORDER BY w.route_position NULLS LAST, w.window_start, w.id) AS position
        FROM work_order w CROSS JOIN LATERAL unnest(ARRAY[w.assignee, w.second_assignee]) AS t(technician)
        WHERE w.organisation = :org AND w.planned_date BETWEEN :first AND :last
          AND t.technician = ANY(:technicians::int[]) AND w.status <> 'cancelled'
        """,
        org=organisation_id, first=first, last=last, technicians=technician_ids)


def open_on_site_orders(organisation_id: int, types: list[str], due_by: date, first: date, last: date) -> Sql:
    """Open orders of `types` due by `due_by` (or without a due date) or planned between `first` and
    `last`, as a row source with the planning columns of `route_orders` (no technician, position)
    and received_at: what route planning may place."""
    return Sql(
        """
        SELECT w.id, w.number, w.type, w.status, w.device, w.patient, w.planned_date, w.window_start, w.window_end,
               w.finish_due, w.plan_locked, w.technicians_needed, w.required_technician, w.assignee,
               w.second_assignee, w.version, w.received_at, w.route_position
        FROM work_order w
        WHERE w.organisation = :org AND w.type = ANY(:types::text[]) AND w.status = ANY(:open::text[])
          AND ((w.finish_due IS NULL OR w.finish_due <= :due_by) OR w.planned_date BETWEEN :first AND :last)
        """,
        org=organisation_id, types=types, open=list(PLANNABLE), due_by=due_by, first=first, last=last)


def completed_orders(organisation_id: int, since: date) -> Sql:
    """Orders completed since `since`, as a row source: id, type, device (what learns how long a
    visit takes)."""
    return Sql("SELECT w.id, w.type, w.device FROM work_order w WHERE w.organisation = :org "
               "AND w.status = 'completed' AND w.completed_at >= :since",
               org=organisation_id, since=since)
