"""The coordinator's board of open work orders, and the technician's day."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from litestar import Controller, Request, get
from litestar.params import FromQuery
from litestar.response import Template

from backend.accounts.tables import Role
from backend.audit.service import record_patient_reads
from backend.auth import STAFF_OVERSIGHT, current_actor, requires
from backend.web import STOCKHOLM, BadInput
from backend.workorders import service
from backend.workorders.tables import WorkOrderStatus, WorkOrderType


def today() -> date:
    return datetime.now(STOCKHOLM).date()


class WorkOrderController(Controller):
    path = "/arbetsordrar"
    guards = [requires(*STAFF_OVERSIGHT)]

    @get("/")
    async def board(self, request: Request, status: FromQuery[str | None] = None,
                    type: FromQuery[str | None] = None, sida: FromQuery[int] = 1) -> Template:
        if status and status not in {s.value for s in service.OPEN_STATUSES}:
            status = None
        if type and type not in {t.value for t in WorkOrderType}:
            type = None
        page = max(1, min(sida, 1000))
        actor = current_actor(request)
        counts = await service.order_counts(actor.organisation)
        orders = await service.open_orders(actor.organisation, status=status, type=type, page=page, today=today())
        return Template("workorders/board.html", context={
            "counts": counts, "orders": orders, "status": status, "type": type, "page": page,
            "types": [(t.value, service.TYPE_LABELS[t]) for t in WorkOrderType],
            "statuses": [(s.value, service.STATUS_LABELS[s]) for s in WorkOrderStatus if s in service.OPEN_STATUSES],
            "page_size": service.PAGE_SIZE,
        })


class DayController(Controller):
    path = "/min-dag"
    guards = [requires(Role.technician)]

    @get("/")
    async def day(self, request: Request, dag: FromQuery[str | None] = None) -> Template:
        current = today()
        try:
            day = date.fromisoformat(dag) if dag else current
        except ValueError:
            raise BadInput("Datumet ska skrivas som 2026-03-01.") from None
        actor = current_actor(request)
        visits = await service.technician_day(actor.id, actor.organisation, day, current)
        await record_patient_reads(actor, [v["patient"] for v in visits if v["patient"]], "day_list")
        upcoming = None if visits else await service.next_day_with_visits(actor.id, day)
        return Template("workorders/day.html", context={
            "visits": visits, "day": day, "today": current, "upcoming": upcoming,
            "previous": day - timedelta(days=1), "next": day + timedelta(days=1),
        })
