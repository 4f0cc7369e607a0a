"""The coordinator's side of work orders: plan (assign a technician, a day and a time window),
put a technician's day in order, and cancel (makulera) with a reason.

Every change names the `version` the coordinator saw; a change made meanwhile by anyone
else is refused with VersionConflict and nothing is written.
"""

from __future__ import annotations

from datetime import date, time

from backend import db
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


async def plan_order(actor: Actor, work_order_id: int, version: int, *, technician_id: int, day: date,
                     window_start: time, window_end: time, today: date) -> int:
    check_visit_time(day, window_start, window_end, today)
    async with db.transaction():
        technician = await accounts.staff_member(technician_id)
        if (technician is None or technician["organisation"] != actor.organisation or not technician["active"]
                or technician["role"] != Role.technician):
            raise WorkOrderError("Välj en tekniker.", "technician")
        order = await lock_order(actor, work_order_id)
        await check_version(order, version)
        if order["status"] not in PLANNABLE:
            raise NotOpen(order["status"])
        same_day = order["assignee"] == technician_id and order["planned_date"] == day
        # A new visit goes last in the technician's day; re-timing a visit keeps its place.
        position = None if same_day else await last_place_in_day(technician_id, day)
        new_version = await apply_change(
            order,
            "assignee = $2, planned_date = $3, window_start = $4, window_end = $5, "
            "route_position = coalesce($6, route_position), "
            "status = CASE WHEN status = 'paused' THEN 'paused' ELSE 'planned' END, not_completed_reason = NULL",
            technician_id, day, window_start, window_end, position,
        )
        name = technician["name"]
        await record_event(order["id"], actor.id, "planned",
                           f"{name}, {day.isoformat()} {window_start:%H:%M}–{window_end:%H:%M}")
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
