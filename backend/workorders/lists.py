"""The lists people plan and work from: the coordinator's board, the technician's day, how far
orders have come, the completed orders a KPI counts."""

from __future__ import annotations

from datetime import date, datetime
from typing import Iterable

from backend import db
from backend.accounts.service import staff_name
from backend.db import Sql, raw
from backend.devices import service as devices
from backend.patients import service as patients
from backend.workdays import STOCKHOLM, add_working_days
from backend.workorders.rules import OPEN_STATUSES, REPAIR_KPI_WORKING_DAYS, REPAIR_TYPES, SLA_LABELS, sla_state
from backend.workorders.tables import STATUS_LABELS, TYPE_LABELS, WorkOrderStatus, WorkOrderType


PAGE_SIZE = 50


async def order_counts(organisation_id: int) -> list[dict]:
    """Open work orders by type and status, for the coordinator's board."""
    rows = await db.fetch(
        """
        SELECT type, status, count(*) AS n FROM work_order
        WHERE organisation = $1 AND status = ANY($2::text[]) GROUP BY type, status
        """,
        organisation_id, [s.value for s in OPEN_STATUSES],
    )
    return [dict(r) for r in rows]


async def open_orders(organisation_id: int, *, status: str | None, type: str | None, page: int,
                      today: date) -> list[dict]:
    """Open orders without patient data: the number, device and clocks are enough to plan."""
    rows = await db.fetch(Sql(
        """
        SELECT w.id, w.number, w.type, w.status, w.received_at, w.planned_date, w.window_start, w.window_end,
               w.start_due, w.finish_due, w.started_at, d.individnummer, d.category_name,
               :assignee_name AS assignee_name
        FROM work_order w JOIN LATERAL (:device) d ON true
        WHERE w.organisation = :org AND w.status = ANY(:open::text[])
          AND (:status::text IS NULL OR w.status = :status) AND (:type::text IS NULL OR w.type = :type)
        ORDER BY coalesce(w.start_due, w.finish_due, w.planned_date) NULLS LAST, w.id
        LIMIT :limit OFFSET :offset
        """,
        assignee_name=staff_name(raw("w.assignee")), device=devices.device_row(raw("w.device")),
        org=organisation_id, open=[s.value for s in OPEN_STATUSES], status=status, type=type, limit=PAGE_SIZE,
        offset=(page - 1) * PAGE_SIZE,
    ))
    return [_with_kpi(_with_labels(dict(r), today), today) for r in rows]


KPI_LABELS = {"on_time": "KPI i tid", "due_today": "KPI idag", "overdue": "KPI missad"}


def _with_kpi(order: dict, today: date) -> dict:
    """A repair's KPI date (done within REPAIR_KPI_WORKING_DAYS of receipt) and its state, where it
    comes before the order's own "Klart senast": a repair due in 10 working days is "I tid" on its
    own clock long after it has missed the 5 the service level counts, so the board shows both."""
    order["kpi_due"] = order["kpi"] = order["kpi_label"] = None
    if WorkOrderType(order["type"]) not in REPAIR_TYPES or order["received_at"] is None:
        return order
    kpi_due = add_working_days(order["received_at"].astimezone(STOCKHOLM).date(), REPAIR_KPI_WORKING_DAYS)
    if order["finish_due"] is not None and order["finish_due"] <= kpi_due:
        return order  # the order's own clock is the stricter one: one date says it all
    state = sla_state(order["status"], None, kpi_due, True, today)
    order["kpi_due"], order["kpi"], order["kpi_label"] = kpi_due, state, KPI_LABELS.get(state)
    return order


def _with_labels(order: dict, today: date) -> dict:
    order["type_label"] = TYPE_LABELS[WorkOrderType(order["type"])]
    order["status_label"] = STATUS_LABELS[WorkOrderStatus(order["status"])]
    state = sla_state(order["status"], order.get("start_due"), order.get("finish_due"),
                      order.get("started_at") is not None, today)
    order["sla"], order["sla_label"] = state, SLA_LABELS[state]
    return order


async def technician_day(actor_id: int, organisation_id: int, day: date, today: date) -> list[dict]:
    """The technician's visits on `day` in planned order, with what is needed at the door."""
    rows = await db.fetch(Sql(
        """
        SELECT w.id, w.number, w.type, w.status, w.description, w.planned_date, w.window_start, w.window_end,
               w.start_due, w.finish_due, w.started_at, w.patient, w.version,
               d.individnummer, d.category_name, d.article_name,
               p.given_name, p.family_name, p.street, p.postal_code, p.city, p.phone, p.door_code,
               p.access_notes, p.protected_identity
        FROM (:day) w JOIN LATERAL (:device) d ON true LEFT JOIN LATERAL (:patient) p ON true
        ORDER BY w.position
        """,
        day=day_orders(actor_id, organisation_id, day), device=devices.device_row(raw("w.device")),
        patient=patients.at_the_door(raw("w.patient")),
    ))
    visits = []
    for row in rows:
        visit = _with_labels(dict(row), today)
        if visit["protected_identity"]:
            # skyddade personuppgifter: no address, door code or notes in a list.
            for key in ("street", "postal_code", "city", "door_code", "access_notes"):
                visit[key] = None
        visits.append(visit)
    return visits


def day_orders(actor_id: int, organisation_id: int, day: date) -> Sql:
    """The technician's orders on `day` that are not cancelled, as a row source: every column of
    work_order and `position`, their place in the day's planned order (1, 2, …)."""
    return Sql(
        """
        SELECT w.*, row_number() OVER (ORDER BY w.route_position NULLS LAST, w.window_start, w.id) AS position
        FROM work_order w
        WHERE w.assignee = :me AND w.organisation = :org AND w.planned_date = :day AND w.status <> 'cancelled'
        """,
        me=actor_id, org=organisation_id, day=day)


async def next_day_with_visits(actor_id: int, after: date) -> date | None:
    return await db.fetchval(
        "SELECT min(planned_date) FROM work_order WHERE assignee = $1 AND planned_date > $2 "
        "AND status <> 'cancelled'",
        actor_id, after,
    )


# --- how far orders have come ---


async def orders_by_id(work_order_ids: list[int]) -> dict[int, dict]:
    """How far each order has come (status, planned and completion dates), by id: one query."""
    if not work_order_ids:
        return {}
    rows = await db.fetch(
        "SELECT id, number, type, status, planned_date, completed_at, cancelled_at FROM work_order "
        "WHERE id = ANY($1::int[])",
        sorted(set(work_order_ids)),
    )
    return {r["id"]: {**dict(r), "type_label": TYPE_LABELS[WorkOrderType(r["type"])],
                      "status_label": STATUS_LABELS[WorkOrderStatus(r["status"])]} for r in rows}


async def completed_between(organisation_id: int, types: Iterable[str], since: datetime | date) -> list[dict]:
    """Orders of `types` completed since `since`: the day each was received and completed (Stockholm)."""
    rows = await db.fetch(
        """
        SELECT (received_at AT TIME ZONE 'Europe/Stockholm')::date AS received,
               (completed_at AT TIME ZONE 'Europe/Stockholm')::date AS completed
        FROM work_order
        WHERE organisation = $1 AND status = 'completed' AND type = ANY($2::text[]) AND completed_at >= $3
        """,
        organisation_id, [str(t.value if hasattr(t, "value") else t) for t in types], since,
    )
    return [dict(r) for r in rows]
