"""Work-order rules: types, service-level clocks and their state; the lists people plan from."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Mapping

from backend import db
from backend.workdays import add_working_days, working_days_between
from backend.workorders.tables import WorkOrderStatus, WorkOrderType

TYPE_LABELS = {
    WorkOrderType.repair_hmc: "AU på HMC",
    WorkOrderType.repair_on_site: "AU hos brukare",
    WorkOrderType.quick_service: "Snabbservice",
    WorkOrderType.urgent_repair: "Akut AU",
    WorkOrderType.technical_review: "Teknisk översyn",
    WorkOrderType.maintenance: "FU",
    WorkOrderType.installation: "Installation/anpassning",
    WorkOrderType.fitting: "Utprovning",
}

STATUS_LABELS = {
    WorkOrderStatus.new: "Ny",
    WorkOrderStatus.planned: "Planerad",
    WorkOrderStatus.in_progress: "Pågår",
    WorkOrderStatus.paused: "Pausad",
    WorkOrderStatus.not_completed: "Ej utförd",
    WorkOrderStatus.completed: "Klar",
    WorkOrderStatus.cancelled: "Makulerad",
}

OPEN_STATUSES = frozenset(
    {WorkOrderStatus.new, WorkOrderStatus.planned, WorkOrderStatus.in_progress,
     WorkOrderStatus.paused, WorkOrderStatus.not_completed}
)

# Working days from receipt to start and to finish, per type (Västra Götaland's published
# rules). An organisation overrides any of them in organisation.clocks. Urgent repair's
# 8 working hours is kept as "finished by the next working day" at day resolution.
DEFAULT_CLOCKS: dict[str, dict[str, int]] = {
    WorkOrderType.repair_hmc: {"start": 3, "finish": 10},
    WorkOrderType.repair_on_site: {"start": 3, "finish": 10},
    WorkOrderType.quick_service: {"finish": 3},
    WorkOrderType.urgent_repair: {"finish": 1},
    WorkOrderType.technical_review: {"start": 10},
    WorkOrderType.maintenance: {},
    WorkOrderType.installation: {"start": 3},
    WorkOrderType.fitting: {"start": 15},
}

# The HMC is measured on repairs completed within 5 working days (target 88 %).
REPAIR_KPI_WORKING_DAYS = 5
REPAIR_TYPES = frozenset(
    {WorkOrderType.repair_hmc, WorkOrderType.repair_on_site, WorkOrderType.quick_service,
     WorkOrderType.urgent_repair}
)


@dataclass(frozen=True)
class DueDates:
    start: date | None
    finish: date | None


def clocks_for(organisation_clocks: Mapping[str, Mapping[str, int]] | None) -> dict[str, dict[str, int]]:
    merged = {str(k.value if hasattr(k, "value") else k): dict(v) for k, v in DEFAULT_CLOCKS.items()}
    for type_name, clock in (organisation_clocks or {}).items():
        merged.setdefault(type_name, {}).update(clock)
    return merged


def due_dates(order_type: str, received_on: date, clocks: Mapping[str, Mapping[str, int]]) -> DueDates:
    clock = clocks.get(str(order_type), {})
    start = add_working_days(received_on, clock["start"]) if "start" in clock else None
    finish = add_working_days(received_on, clock["finish"]) if "finish" in clock else None
    return DueDates(start=start, finish=finish)


def sla_state(status: str, start_due: date | None, finish_due: date | None, started: bool, today: date) -> str:
    """'on_time', 'due_today' or 'overdue' for an open order; 'closed' otherwise."""
    if status not in OPEN_STATUSES:
        return "closed"
    due = finish_due if (started or start_due is None) else start_due
    if due is None:
        return "on_time"
    if due < today:
        return "overdue"
    if due == today:
        return "due_today"
    return "on_time"


SLA_LABELS = {"on_time": "I tid", "due_today": "Förfaller idag", "overdue": "Försenad", "closed": "Avslutad"}


def repair_within_kpi(received_on: date, completed_on: date) -> bool:
    return working_days_between(received_on, completed_on) <= REPAIR_KPI_WORKING_DAYS


# --- lists ---------------------------------------------------------------------------

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
    rows = await db.fetch(
        """
        SELECT w.id, w.number, w.type, w.status, w.received_at, w.planned_date, w.window_start, w.window_end,
               w.start_due, w.finish_due, w.started_at, d.individnummer, k.name AS category_name,
               s.name AS assignee_name
        FROM work_order w JOIN device d ON d.id = w.device JOIN article a ON a.id = d.article
        LEFT JOIN device_category k ON k.id = a.category LEFT JOIN staff_user s ON s.id = w.assignee
        WHERE w.organisation = $1 AND w.status = ANY($2::text[])
          AND ($3::text IS NULL OR w.status = $3) AND ($4::text IS NULL OR w.type = $4)
        ORDER BY coalesce(w.start_due, w.finish_due, w.planned_date) NULLS LAST, w.id
        LIMIT $5 OFFSET $6
        """,
        organisation_id, [s.value for s in OPEN_STATUSES], status, type, PAGE_SIZE, (page - 1) * PAGE_SIZE,
    )
    return [_with_labels(dict(r), today) for r in rows]


def _with_labels(order: dict, today: date) -> dict:
    order["type_label"] = TYPE_LABELS[WorkOrderType(order["type"])]
    order["status_label"] = STATUS_LABELS[WorkOrderStatus(order["status"])]
    state = sla_state(order["status"], order.get("start_due"), order.get("finish_due"),
                      order.get("started_at") is not None, today)
    order["sla"], order["sla_label"] = state, SLA_LABELS[state]
    return order


async def technician_day(actor_id: int, organisation_id: int, day: date, today: date) -> list[dict]:
    """The technician's visits on `day` in planned order, with what is needed at the door."""
    rows = await db.fetch(
        """
        SELECT w.id, w.number, w.type, w.status, w.description, w.planned_date, w.window_start, w.window_end,
               w.start_due, w.finish_due, w.started_at, w.patient,
               d.individnummer, k.name AS category_name, a.name AS article_name,
               p.given_name, p.family_name, p.street, p.postal_code, p.city, p.phone, p.door_code,
               p.access_notes, p.protected_identity
        FROM work_order w JOIN device d ON d.id = w.device JOIN article a ON a.id = d.article
        LEFT JOIN device_category k ON k.id = a.category LEFT JOIN patient p ON p.id = w.patient
        WHERE w.assignee = $1 AND w.organisation = $2 AND w.planned_date = $3 AND w.status <> 'cancelled'
        ORDER BY w.route_position NULLS LAST, w.window_start, w.id
        """,
        actor_id, organisation_id, day,
    )
    visits = []
    for row in rows:
        visit = _with_labels(dict(row), today)
        if visit["protected_identity"]:
            # skyddade personuppgifter: no address, door code or notes in a list.
            for key in ("street", "postal_code", "city", "door_code", "access_notes"):
                visit[key] = None
        visits.append(visit)
    return visits


async def next_day_with_visits(actor_id: int, after: date) -> date | None:
    return await db.fetchval(
        "SELECT min(planned_date) FROM work_order WHERE assignee = $1 AND planned_date > $2 "
        "AND status <> 'cancelled'",
        actor_id, after,
    )
