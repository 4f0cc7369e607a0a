"""A whole plan written at once (route planning's accepted proposals): many orders given a
technician, a day, a window and a place in the day, in one transaction, each only if it is as the
plan saw it (same version, still plannable). An order changed since is skipped and listed, never
overwritten; an order confirmed with the patient keeps its technician, day and time (only its place
in the day follows the plan)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, time

from backend import db
from backend.accounts.service import Actor
from backend.accounts.tables import Role
from backend.accounts import service as accounts
from backend.workorders.planning import PLANNABLE
from backend.workorders.service import WorkOrderError

CHANGED = "Arbetsordern har ändrats sedan förslaget gjordes."
NOT_OPEN = "Arbetsordern är inte längre öppen för planering."
LOCKED = "Tiden är bekräftad med brukaren och ändras inte."


@dataclass(frozen=True)
class PlannedVisit:
    order_id: int
    version: int  # as the plan saw the order
    technician_id: int
    day: date
    window_start: time
    window_end: time
    position: int  # place in the technician's day, 1, 2, …
    second_technician_id: int | None = None


@dataclass(frozen=True)
class Skipped:
    order_id: int
    number: str
    reason: str


async def order_facts(organisation_id: int, order_ids: list[int]) -> dict[int, dict]:
    """The orders as a plan shows them: id -> number, type, status, version, planned_date,
    window_start, window_end, assignee, plan_locked, patient."""
    rows = await db.fetch(
        "SELECT id, number, type, status, version, planned_date, window_start, window_end, assignee, plan_locked, "
        "patient "
        "FROM work_order WHERE organisation = $1 AND id = ANY($2::int[])", organisation_id, order_ids)
    return {r["id"]: dict(r) for r in rows}


async def apply_plan(actor: Actor, visits: list[PlannedVisit], what: str) -> tuple[list[int], list[Skipped]]:
    """Write the visits (in the caller's transaction or one of its own); returns the orders
    planned and those skipped, with why. `what` names the plan in each order's history."""
    if not visits:
        return [], []
    technicians = {v.technician_id for v in visits} | {v.second_technician_id for v in visits
                                                         if v.second_technician_id is not None}
    async with db.transaction():
        for technician_id in technicians:
            person = await accounts.staff_member(technician_id)
            if (person is None or person["organisation"] != actor.organisation or not person["active"]
                    or person["role"] != Role.technician):
                raise WorkOrderError("En av teknikerna i förslaget finns inte längre som aktiv tekniker.")
        rows = await db.fetch(
            "SELECT id, number, version, status, plan_locked, assignee, planned_date FROM work_order "
            "WHERE organisation = $1 AND id = ANY($2::int[]) ORDER BY id FOR UPDATE",
            actor.organisation, [v.order_id for v in visits])
        found = {r["id"]: r for r in rows}
        skipped: list[Skipped] = []
        writing: list[PlannedVisit] = []
        reordered: list[PlannedVisit] = []  # confirmed with the patient: only its place in the day may change
        for v in visits:
            row = found.get(v.order_id)
            if row is None:
                continue
            reason = CHANGED if row["version"] != v.version else NOT_OPEN if row["status"] not in PLANNABLE else None
            if reason is None and row["plan_locked"]:
                if (row["assignee"], row["planned_date"]) == (v.technician_id, v.day):
                    reordered.append(v)
                    continue
                reason = LOCKED
            if reason:
                skipped.append(Skipped(v.order_id, row["number"], reason))
            else:
                writing.append(v)
        # Visits already started or done that day stay first: the plan's places come after them.
        started = {(r["assignee"], r["planned_date"]): r["n"] for r in await db.fetch(
            "SELECT w.assignee, w.planned_date, count(*) AS n FROM work_order w "
            "JOIN (SELECT DISTINCT * FROM unnest($1::int[], $2::date[]) AS u(technician, day)) d "
            "ON w.assignee = d.technician "
            "AND w.planned_date = d.day WHERE w.status IN ('in_progress', 'completed') "
            "AND NOT w.id = ANY($3::int[]) GROUP BY w.assignee, w.planned_date",
            [v.technician_id for v in visits], [v.day for v in visits], [v.order_id for v in visits])}
        if started:
            writing = [replace(v, position=v.position + started.get((v.technician_id, v.day), 0)) for v in writing]
            reordered = [replace(v, position=v.position + started.get((v.technician_id, v.day), 0)) for v in reordered]
        if reordered:
            await db.execute(
                "UPDATE work_order w SET route_position = t.position, version = w.version + 1, updated_at = now() "
                "FROM unnest($1::int[], $2::int[]) AS t(id, position) "
                "WHERE w.id = t.id AND w.route_position IS DISTINCT FROM t.position",
                [v.order_id for v in reordered], [v.position for v in reordered])
        if writing:
            await db.execute(
                """
                UPDATE work_order w SET assignee = t.technician, second_assignee = t.second,
                       planned_date = t.day, window_start = t.window_start, window_end = t.window_end,
                       route_position = t.position,
                       status = CASE WHEN w.status = 'paused' THEN 'paused' ELSE 'planned' END,
                       not_completed_reason = NULL, version = w.version + 1, updated_at = now()
                FROM unnest($1::int[], $2::int[], $3::int[], $4::date[], $5::time[], $6::time[], $7::int[])
                     AS t(id, technician, second, day, window_start, window_end, position)
                WHERE w.id = t.id
                """,
                [v.order_id for v in writing], [v.technician_id for v in writing],
                [v.second_technician_id for v in writing], [v.day for v in writing],
                [v.window_start for v in writing], [v.window_end for v in writing], [v.position for v in writing])
            names = {t: (await accounts.staff_member(t))["name"] for t in technicians}
            await db.execute(
                "INSERT INTO work_order_event (work_order, staff_user, kind, detail) "
                "SELECT t.id, $1, 'planned', t.detail FROM unnest($2::int[], $3::text[]) AS t(id, detail)",
                actor.id, [v.order_id for v in writing],
                [f"{what}: {names[v.technician_id]}"
                 + (f" och {names[v.second_technician_id]}" if v.second_technician_id else "")
                 + f", {v.day.isoformat()} {v.window_start:%H:%M}–{v.window_end:%H:%M}" for v in writing])
    return [v.order_id for v in writing + reordered], skipped


async def open_urgent(organisation_id: int, limit: int = 50) -> list[dict]:
    """The organisation's open urgent repairs (akut AU) not yet started, oldest first: id, number,
    status, received_at, finish_due, assignee, planned_date."""
    rows = await db.fetch(
        "SELECT id, number, status, received_at, finish_due, assignee, planned_date FROM work_order "
        "WHERE organisation = $1 AND type = 'urgent_repair' AND status = ANY($2::text[]) "
        "ORDER BY received_at, id LIMIT $3", organisation_id, list(PLANNABLE), limit)
    return [dict(r) for r in rows]


def order_patient(work_order) -> "db.Sql":
    """The order's patient, as a row source (`JOIN LATERAL (:p) o ON true`): patient."""
    return db.Sql("SELECT patient FROM work_order WHERE id = :order", order=work_order)
