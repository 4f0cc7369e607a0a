"""The work-order side of telling patients of their visits (backend/notices): the generated FU
visits there is something to tell about, an order as a notice describes it, and moving a visit
when the patient's answer says the time does not suit."""

from __future__ import annotations

from datetime import date, time

from backend import db
from backend.accounts.service import Actor, staff_name
from backend.db import Sql, raw
from backend.devices import service as devices
from backend.workorders.planning import check_visit_time, last_place_in_day
from backend.workorders.service import NotOpen, apply_change, check_version, lock_order, record_event

# The statuses of a visit that has not happened yet: it may still be told of, and moved.
NOT_YET_VISITED = ("new", "planned")


def planned_fu_visits(organisation_id: int, since: date, until: date) -> Sql:
    """The organisation's generated FU orders for a patient, not yet visited, planned on a day from
    `since` to `until` (both included), as a row source: id, number, version, status, device,
    patient, planned_date, window_start, window_end, assignee."""
    return Sql(
        """
        SELECT w.id, w.number, w.version, w.status, w.device, w.patient, w.planned_date, w.window_start,
               w.window_end, w.assignee
        FROM work_order w
        WHERE w.organisation = :org AND w.type = 'maintenance' AND w.channel = 'generated'
          AND w.status IN ('new', 'planned') AND w.patient IS NOT NULL
          AND w.planned_date >= :since AND w.planned_date <= :until
        """,
        org=organisation_id, since=since, until=until)


def visit_facts(work_order: Sql) -> Sql:
    """The order as a notice tells of it, as a row source (`JOIN LATERAL (:visit) v ON true`): id,
    number, version, type, status, patient, planned_date, window_start, window_end, assignee,
    assignee_name, individnummer, article_name, category_name, device_owner (a cost bearer's id;
    NULL when the HMC owns the device)."""
    return Sql(
        """
        SELECT w.id, w.number, w.version, w.type, w.status, w.patient, w.planned_date, w.window_start,
               w.window_end, w.assignee, :assignee_name AS assignee_name, d.individnummer, d.article_name,
               d.category_name, d.owner AS device_owner
        FROM work_order w JOIN LATERAL (:device) d ON true WHERE w.id = :order
        """,
        assignee_name=staff_name(raw("w.assignee")), device=devices.device_row(raw("w.device")), order=work_order)


async def move_visit(actor: Actor, work_order_id: int, version: int, *, day: date, window_start: time,
                     window_end: time, today: date, why: str) -> int:
    """Give a visit not yet made a new day and window (the patient asked for another time), keeping
    its technician: the order's version goes up, so a technician's phone sees the change, and the
    move is in its history. Joins the caller's transaction; returns the new version."""
    check_visit_time(day, window_start, window_end, today)
    async with db.transaction():
        order = await lock_order(actor, work_order_id, assigned=False)
        await check_version(order, version)
        if order["status"] not in NOT_YET_VISITED:
            raise NotOpen(order["status"])
        # A visit moved to another day goes last in its technician's day; a new window on the same
        # day keeps its place.
        position = None
        if order["assignee"] is not None and order["planned_date"] != day:
            position = await last_place_in_day(order["assignee"], day)
        new_version = await apply_change(
            order, "planned_date = $2, window_start = $3, window_end = $4, "
                   "route_position = CASE WHEN assignee IS NULL THEN NULL ELSE coalesce($5, route_position) END",
            day, window_start, window_end, position)
        await record_event(order["id"], actor.id, "planned",
                           f"{why}: {day.isoformat()} {window_start:%H:%M}–{window_end:%H:%M}")
        return new_version
