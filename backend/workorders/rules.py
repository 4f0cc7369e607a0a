"""Work-order rules that need no database: which statuses are open, the service-level clocks and
their state, the repair KPI, and the errors a change to an order can meet."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Mapping

from backend.errors import DomainError
from backend.workdays import STOCKHOLM, SWEDISH, Calendar, add_working_days, working_days_between
from backend.workorders.tables import STATUS_LABELS, WorkOrderStatus, WorkOrderType

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


def due_dates(order_type: str, received_on: date, clocks: Mapping[str, Mapping[str, int]],
              calendar: Calendar = SWEDISH) -> DueDates:
    """The start and finish dates of the type's clocks, counted in the organisation's working
    days (`calendar`: its open weekdays, closed days and extra open days)."""
    clock = clocks.get(str(order_type), {})
    start = add_working_days(received_on, clock["start"], calendar) if "start" in clock else None
    finish = add_working_days(received_on, clock["finish"], calendar) if "finish" in clock else None
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


def repair_within_kpi(received_on: date, completed_on: date, calendar: Calendar = SWEDISH) -> bool:
    """Completed within 5 working days of receipt, counted in `calendar` (the organisation's)."""
    return working_days_between(received_on, completed_on, calendar) <= REPAIR_KPI_WORKING_DAYS


class WorkOrderError(DomainError):
    """A rule refused the change to a work order."""


class WorkOrderNotFound(WorkOrderError):
    def __init__(self) -> None:
        super().__init__("Arbetsordern finns inte.")


class OrderMovedOn(WorkOrderError):
    """The order is not as the technician's phone last saw it (changed, reassigned, closed, or
    waiting for the phone's earlier changes). A keyed write refused for this is kept in full
    as a conflict for a person to resolve (backend/sync/service.py: apply_or_keep)."""


class VersionConflict(OrderMovedOn):
    """Someone changed the order since the page was opened; nothing was written."""

    def __init__(self, changed_by: str | None, changed_at: datetime | None) -> None:
        who = f" av {changed_by}" if changed_by else ""
        when = f" {changed_at.astimezone(STOCKHOLM):%Y-%m-%d %H:%M}" if changed_at else ""
        super().__init__(
            f"Arbetsordern har ändrats{who}{when} sedan du öppnade sidan. Det du skrev finns kvar nedan: "
            "kontrollera läget och skicka igen.")


class NotAssigned(OrderMovedOn):
    """The order is not (or no longer) this technician's."""

    def __init__(self) -> None:
        super().__init__("Besöket är inte tilldelat dig (längre). Kontakta samordnaren.")


class WritesMissing(OrderMovedOn):
    """The phone sent its completion before changes it made to the visit earlier had arrived."""

    def __init__(self, missing: int) -> None:
        super().__init__(
            f"{missing} {'ändring' if missing == 1 else 'ändringar'} som telefonen gjorde på besöket "
            "har inte kommit fram. Besöket slutförs först när allt har kommit fram.")


class NotOpen(OrderMovedOn):
    def __init__(self, status: str) -> None:
        super().__init__(f"Arbetsordern är {STATUS_LABELS[WorkOrderStatus(status)].lower()} och kan inte ändras.")
