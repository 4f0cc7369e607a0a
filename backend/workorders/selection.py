"""Choosing many orders at once: a filter of the organisation's orders (status, type, technician,
period), and the row sources other domains place in their queries to read them (the reports'
exports): the orders a filter finds, and a device's open order of a type."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

from backend.db import Sql
from backend.workdays import STOCKHOLM
from backend.workorders.rules import OPEN_STATUSES
from backend.workorders.tables import WorkOrderStatus, WorkOrderType

OPEN = "oppna"  # the status filter's value for every open status at once
DATED_BY = {"mottagen": "received_at", "slutford": "completed_at"}  # which date the period counts


@dataclass(frozen=True)
class OrderFilter:
    status: str | None = None  # a WorkOrderStatus value, or OPEN
    type: str | None = None  # a WorkOrderType value
    technician: int | None = None  # the assignee's staff id
    since: date | None = None  # the period's first day (Stockholm), included
    until: date | None = None  # its last day, included
    dated_by: str = "mottagen"  # a key of DATED_BY

    def cleaned(self) -> "OrderFilter":
        """The filter with what names no choice left out (a hand-edited address)."""
        statuses = {s.value for s in WorkOrderStatus} | {OPEN}
        return OrderFilter(
            status=self.status if self.status in statuses else None,
            type=self.type if self.type in {t.value for t in WorkOrderType} else None,
            technician=self.technician, since=self.since, until=self.until,
            dated_by=self.dated_by if self.dated_by in DATED_BY else "mottagen")


def orders_matching(organisation_id: int, wanted: OrderFilter) -> Sql:
    """The organisation's orders the filter finds (every column of work_order), as a row source:
    `FROM (:orders) w`. The period counts days in Stockholm, both ends included."""
    wanted = wanted.cleaned()
    statuses = ([s.value for s in OPEN_STATUSES] if wanted.status == OPEN
                else [wanted.status] if wanted.status else None)
    stamp = DATED_BY[wanted.dated_by]  # a column name from the table above, never input
    return Sql(
        f"""
        SELECT w.* FROM work_order w
        WHERE w.organisation = :org
          AND (:statuses::text[] IS NULL OR w.status = ANY(:statuses::text[]))
          AND (:type::text IS NULL OR w.type = :type)
          AND (:technician::int IS NULL OR w.assignee = :technician)
          AND (:since::date IS NULL OR w.{stamp} >= (:since::date)::timestamp AT TIME ZONE 'Europe/Stockholm')
          AND (:until::date IS NULL OR w.{stamp} < (:until::date + 1)::timestamp AT TIME ZONE 'Europe/Stockholm')
        """,
        org=organisation_id, statuses=statuses, type=wanted.type, technician=wanted.technician,
        since=wanted.since, until=wanted.until)


def open_order_of(device: Sql, type: str) -> Sql:
    """The device's open order of `type` that is due first (id, number, status, planned_date,
    assignee), as a row source: `LEFT JOIN LATERAL (:order) o ON true` (no row when it has none)."""
    WorkOrderType(type)
    return Sql(
        """
        SELECT o.id, o.number, o.status, o.planned_date, o.assignee FROM work_order o
        WHERE o.device = :device AND o.type = :type AND o.status = ANY(:open::text[])
        ORDER BY o.planned_date NULLS LAST, o.received_at, o.id LIMIT 1
        """,
        device=device, type=type, open=[s.value for s in OPEN_STATUSES])


def kpi_orders(organisation_id: int, since: date) -> Sql:
    """The organisation's orders received, started, completed or cancelled on or after `since`, as a
    row source for the reports' KPI summary (`FROM (:orders) o`): id, type, status, channel, device,
    patient, assignee, start_due, finish_due, fu_due_date, and the days (Stockholm) received_on,
    started_on, completed_on, cancelled_on (NULL when it has not happened)."""
    return Sql(
        """
        SELECT w.id, w.type, w.status, w.channel, w.device, w.patient, w.assignee, w.start_due, w.finish_due,
               w.fu_due_date,
               (w.received_at AT TIME ZONE 'Europe/Stockholm')::date AS received_on,
               (w.started_at AT TIME ZONE 'Europe/Stockholm')::date AS started_on,
               (w.completed_at AT TIME ZONE 'Europe/Stockholm')::date AS completed_on,
               (w.cancelled_at AT TIME ZONE 'Europe/Stockholm')::date AS cancelled_on
        FROM work_order w
        WHERE w.organisation = :org
          AND (w.received_at >= :since OR w.completed_at >= :since OR w.started_at >= :since
               OR w.cancelled_at >= :since)
        """,
        org=organisation_id, since=datetime.combine(since, time(0), STOCKHOLM))
