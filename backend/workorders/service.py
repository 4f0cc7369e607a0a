"""Work orders: the face of this domain, which routes and other domains import.

Here: creating an order, and changing one (lock it, check the version it was based on, apply,
record what happened). Behind it: `rules.py` (open statuses, service-level clocks, errors),
`lists.py` (the board, the technician's day), `queries.py` (a device's history, the queries
other domains build on), `planning.py` (assigning, ordering the day, makulera). Labels live
beside their enums in `tables.py`.
"""

from __future__ import annotations

from datetime import date, datetime

from backend import db
from backend.accounts.service import Actor, staff_name
from backend.accounts.tables import Role
from backend.db import Sql, raw
from backend.devices import schedules
from backend.devices import service as devices
from backend.organisations import service as organisations
from backend.workdays import STOCKHOLM
from backend.workorders.lists import (
    PAGE_SIZE,
    completed_between,
    day_orders,
    next_day_with_visits,
    open_orders,
    order_counts,
    orders_by_id,
    technician_day,
)
from backend.workorders.queries import (
    device_history,
    device_history_json,
    events_json,
    order_brief,
    order_category,
    order_checklist_code,
    order_number,
    order_outcome,
    order_row,
    parse_history,
    patients_recent_orders,
    recent_orders,
    technician_relation,
)
from backend.workorders.rules import (
    DEFAULT_CLOCKS,
    OPEN_STATUSES,
    REPAIR_KPI_WORKING_DAYS,
    REPAIR_TYPES,
    SLA_LABELS,
    DueDates,
    NotAssigned,
    NotOpen,
    OrderMovedOn,
    VersionConflict,
    WorkOrderError,
    WorkOrderNotFound,
    WritesMissing,
    clocks_for,
    due_dates,
    repair_within_kpi,
    sla_state,
)
from backend.workorders.tables import (
    EVENT_LABELS,
    NOT_COMPLETED_LABELS,
    OUTCOME_LABELS,
    STATUS_LABELS,
    TYPE_LABELS,
    Channel,
    WorkOrderType,
)


__all__ = [  # the face: what other domains and the routes use
    "Channel",
    "DEFAULT_CLOCKS",
    "DueDates",
    "EVENT_LABELS",
    "NOT_COMPLETED_LABELS",
    "NotAssigned",
    "NotOpen",
    "OPEN_STATUSES",
    "OUTCOME_LABELS",
    "OrderMovedOn",
    "PAGE_SIZE",
    "REPAIR_KPI_WORKING_DAYS",
    "REPAIR_TYPES",
    "SLA_LABELS",
    "STATUS_LABELS",
    "TYPE_LABELS",
    "VersionConflict",
    "WorkOrderError",
    "WorkOrderNotFound",
    "WorkOrderType",
    "WritesMissing",
    "clocks_for",
    "completed_between",
    "day_orders",
    "device_history",
    "device_history_json",
    "due_dates",
    "events_json",
    "next_day_with_visits",
    "open_orders",
    "order_brief",
    "order_category",
    "order_checklist_code",
    "order_counts",
    "order_number",
    "order_outcome",
    "order_row",
    "orders_by_id",
    "parse_history",
    "patients_recent_orders",
    "recent_orders",
    "repair_within_kpi",
    "sla_state",
    "technician_day",
    "technician_relation",
    "apply_change", "check_version", "create_work_order", "lock_order", "next_number", "record_event",
]


# --- changing an order: lock it, check the version it was based on, apply ----------------


async def lock_order(actor: Actor, work_order_id: int, *, assigned: bool = True) -> dict:
    """The order, row-locked for this transaction; refused unless it is the technician's
    (assigned=False: whoever has it now, for work recorded after the fact)."""
    row = await db.fetchrow(Sql(
        """
        SELECT w.id, w.type, w.status, w.version, w.assignee, w.planned_date, w.device, w.organisation, w.number,
               w.patient, w.updated_at, d.fu_interval_days, d.device_status,
               :checklist_code AS checklist_code
        FROM work_order w JOIN LATERAL (:device) d ON true
        WHERE w.id = :order AND w.organisation = :org FOR UPDATE OF w
        """,
        device=devices.device_row(raw("w.device")), order=work_order_id, org=actor.organisation,
        checklist_code=schedules.checklist_code_sql(raw("w.fu_schedule")),
    ))
    if row is None:
        raise WorkOrderNotFound()
    if assigned and actor.role is Role.technician and row["assignee"] != actor.id:
        raise NotAssigned()
    return dict(row)


async def check_version(order: dict, version: int) -> None:
    if order["version"] != version:
        last = await db.fetchrow(Sql(
            "SELECT e.at, :name AS name FROM work_order_event e WHERE e.work_order = :order ORDER BY e.id DESC LIMIT 1",
            name=staff_name(raw("e.staff_user")), order=order["id"]))
        raise VersionConflict(last["name"] if last else None, last["at"] if last else order["updated_at"])


async def apply_change(order: dict, assignments: str, *args: object) -> int:
    """Apply `assignments` to the locked order and bump its version; returns the new version."""
    return await db.fetchval(
        f"UPDATE work_order SET {assignments}, version = version + 1, updated_at = now() WHERE id = $1 "
        "RETURNING version",
        order["id"], *args,
    )


# --- creating orders -----------------------------------------------------------------


async def next_number(organisation_id: int, year: int) -> str:
    """The next AO-<year>-<n>: a counter row per organisation and year, taken under its row lock.

    The first number of a year continues from the highest already stored (demo data and
    imports load numbers directly)."""
    last = await db.fetchval(
        "UPDATE work_order_counter SET last_number = last_number + 1 "
        "WHERE organisation = $1 AND year = $2 RETURNING last_number",
        organisation_id, year,
    )
    if last is None:
        await start_counter(organisation_id, year)
        return await next_number(organisation_id, year)
    return f"AO-{year}-{last:06d}"


async def start_counter(organisation_id: int, year: int) -> None:
    """The organisation's counter row for `year`, if it has none yet: continuing from the highest
    number already stored (demo data and imports load numbers directly)."""
    await db.execute(
        """
        INSERT INTO work_order_counter (organisation, year, last_number)
        SELECT $1, $2::int, coalesce(max(substring(number FROM '[0-9]+$')::int), 0)
        FROM work_order WHERE organisation = $1 AND number LIKE 'AO-' || $2::int || '-%'
        ON CONFLICT (organisation, year) DO NOTHING
        """,
        organisation_id, year,
    )


async def create_work_order(*, organisation_id: int, type: str, device_id: int, description: str,
                            channel: str, actor_id: int | None = None, orderer_id: int | None = None,
                            care_unit_id: int | None = None, patient_id: int | None = None,
                            follow_up_of: int | None = None, received_at: datetime | None = None,
                            site_contact: str = "", finish_by: date | None = None) -> dict:
    """A new order (status new) with its service-level due dates fixed from the organisation's
    clocks, counted in its working days (its closed and extra open days too). The patient
    defaults to the device's current holder. `finish_by` (a recall's deadline) is the day it must
    be finished by instead of the clock's (and it may not start later). Joins a surrounding
    transaction."""
    WorkOrderType(type), Channel(channel)  # a programming error, not user input, if these fail
    received_at = received_at or datetime.now(STOCKHOLM)
    organisation = await organisations.organisation(organisation_id)
    due = due_dates(type, received_at.astimezone(STOCKHOLM).date(), clocks_for(organisation["clocks"]),
                    await organisations.work_calendar(organisation_id))
    if finish_by is not None:
        due = DueDates(start=min(due.start, finish_by) if due.start else None, finish=finish_by)
    number = await next_number(organisation_id, received_at.astimezone(STOCKHOLM).year)
    row = await db.fetchrow(Sql(
        """
        INSERT INTO work_order (organisation, number, type, status, channel, device, patient, care_unit, orderer,
                                description, received_at, start_due, finish_due, follow_up_of, site_contact, updated_at)
        SELECT :org, :number, :type, 'new', :channel, d.device_id, coalesce(:patient, d.holder), :unit, :orderer,
               :description, :received_at, :start_due, :finish_due, :follow_up_of, :site_contact, now()
        FROM (:device) d WHERE d.device_organisation = :org
        RETURNING id, number, version
        """,
        org=organisation_id, number=number, type=type, channel=channel, patient=patient_id, unit=care_unit_id,
        orderer=orderer_id, description=description, received_at=received_at, start_due=due.start,
        finish_due=due.finish, follow_up_of=follow_up_of, site_contact=site_contact,
        device=devices.device_row(Sql(":id", id=device_id)),
    ))
    if row is None:
        raise WorkOrderError("Hjälpmedlet finns inte.")
    await record_event(row["id"], actor_id, "created", TYPE_LABELS[WorkOrderType(type)])
    return dict(row)


async def record_event(work_order_id: int, actor_id: int | None, kind: str, detail: str = "") -> None:
    await db.execute(
        "INSERT INTO work_order_event (work_order, staff_user, kind, detail) VALUES ($1, $2, $3, $4)",
        work_order_id, actor_id, kind, detail,
    )


def care_relation_at(staff_user: Sql, patient: Sql, at: Sql, days: int) -> Sql:
    """A care relation for the access-log review (audit/review.py), as a condition on the caller's
    ids: a work order or repair order of the patient's that the person was assigned, ordered or
    worked on (any event of theirs), received at most `days` before `at` and not closed more than
    `days` before it."""
    return Sql(
        """
        EXISTS (SELECT 1 FROM work_order w_r WHERE w_r.patient = :patient
            AND (w_r.assignee = :staff OR w_r.orderer = :staff
                 OR EXISTS (SELECT 1 FROM work_order_event e_r WHERE e_r.work_order = w_r.id AND e_r.staff_user = :staff))
            AND :at >= w_r.received_at - make_interval(days => :days)
            AND :at <= coalesce(w_r.completed_at, w_r.cancelled_at, now()) + make_interval(days => :days))
        """, staff=staff_user, patient=patient, at=at, days=days)
