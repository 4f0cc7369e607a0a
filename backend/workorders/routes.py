"""The coordinator's work orders: the board, one order, planning, a technician's day, makulera."""

from __future__ import annotations

from datetime import date

from litestar import Controller, Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Response, Template

from backend.accounts.tables import STAFF_OVERSIGHT
from backend.auth import current_actor, requires
from backend.errors import DomainError
from backend.forms import Form, FormError, date_field, fields, integer, text, time_field
from backend.audit.service import record_patient_reads
from backend.routing import days as routing_days
from backend.routing import views as routing_views
from backend.routing.schedule import clock
from backend.visits import conflicts
from backend.visits import service as visits
from backend.visits.service import ACTION_LABELS
from backend.workdays import today
from backend.workorders import planning, service
from backend.workorders.service import NotOpen, VersionConflict, WorkOrderError, WorkOrderNotFound
from backend.workorders.tables import WorkOrderStatus, WorkOrderType

NOTICES = {
    "planerad": "Arbetsordern är planerad.",
    "makulerad": "Arbetsordern är makulerad.",
    "flyttad": "Ordningen är ändrad.",
}


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
            "open_conflicts": await conflicts.count_open(actor.organisation),
            "types": [(t.value, service.TYPE_LABELS[t]) for t in WorkOrderType],
            "statuses": [(s.value, service.STATUS_LABELS[s]) for s in WorkOrderStatus if s in service.OPEN_STATUSES],
            "page_size": service.PAGE_SIZE,
        })

    @get("/planering")
    async def technician_day(self, request: Request, tekniker: FromQuery[int | None] = None,
                             dag: FromQuery[str | None] = None) -> Template:
        """A technician's day as the coordinator plans it, with earlier/later buttons."""
        actor = current_actor(request)
        try:
            day = date.fromisoformat(dag) if dag else today()
        except ValueError:
            day = today()
        technicians = await planning.technicians(actor.organisation)
        chosen = next((t for t in technicians if t["id"] == tekniker), None)
        day_visits = []
        if chosen:
            day_visits = await service.technician_day(chosen["id"], actor.organisation, day, today())
            await record_patient_reads(actor, [v["patient"] for v in day_visits if v["patient"]], "planning_day")
        # Every technician's day walked as planned: the warnings as they arise, and for the chosen
        # technician the estimated times, km and the route sketch.
        routes = await routing_days.planned_days(actor.organisation, [t["id"] for t in technicians], [day])
        chosen_route = routes.get((chosen["id"], day)) if chosen else None
        return Template("workorders/planning.html", context={
            "technicians": technicians, "chosen": chosen, "day": day, "visits": day_visits,
            "route": chosen_route, "stops": {v.order_id: v.stop for v in chosen_route.visits} if chosen_route else {},
            "sketch": routing_views.sketch(chosen_route, "Dagens rutt") if chosen_route and chosen_route.routed else None,
            "clock": clock,
            "day_warnings": [(t, routes[(t["id"], day)].warnings) for t in technicians
                             if routes.get((t["id"], day)) and routes[(t["id"], day)].warnings],
        })

    async def _order_page(self, request: Request, order_id: int, *, error: FormError | None = None,
                          form: dict | None = None, failed: str | None = None, status: int = 200,
                          notice: str | None = None, just_planned: bool = False) -> Template:
        actor = current_actor(request)
        try:
            data = await visits.visit(actor, order_id, audit_as="work_order")
        except WorkOrderNotFound:
            raise NotFoundException() from None
        order = data["order"]
        # Right after planning: what the technician's day now looks like, in words.
        day_warnings = []
        if just_planned and order["assignee"] and order["planned_date"]:
            try:
                day_warnings = (await routing_days.planned_day(actor.organisation, order["assignee"],
                                                               order["planned_date"])).warnings
            except DomainError:
                day_warnings = []
        defaults = {
            "technician": str(order["assignee"] or ""),
            "day": max(order["planned_date"] or today(), today()).isoformat(),
            "window_start": order["window_start"].strftime("%H:%M") if order["window_start"] else "08:00",
            "window_end": order["window_end"].strftime("%H:%M") if order["window_end"] else "10:00",
            "locked": "ja" if order.get("plan_locked") else "",
            "two_technicians": "ja" if (order.get("technicians_needed") or 1) >= 2 else "",
            "second_technician": str(order.get("second_assignee") or ""),
            "required_technician": str(order.get("required_technician") or ""),
        }
        return Template("workorders/order.html", context={
            **data, "technicians": await planning.technicians(actor.organisation), "error": error,
            "form": {**defaults, **(form or {})}, "failed": failed, "notice": notice,
            "plannable": order["status"] in planning.PLANNABLE,
            "cancellable": order["status"] in {s.value for s in service.OPEN_STATUSES},
            "action_labels": ACTION_LABELS, "day_warnings": day_warnings,
        }, status_code=status)

    @get("/{order_id:int}")
    async def order(self, request: Request, order_id: FromPath[int], klart: FromQuery[str | None] = None) -> Template:
        return await self._order_page(request, order_id, notice=NOTICES.get(klart or ""), just_planned=klart == "planerad")

    async def _act(self, request: Request, order_id: int, form: dict, failed: str, done: str, action,
                   back: str | None = None) -> Response:
        try:
            await action()
        except WorkOrderNotFound:
            raise NotFoundException() from None
        except (VersionConflict, NotOpen) as exc:
            return await self._order_page(request, order_id, error=FormError(exc.message), form=form,
                                          failed=failed, status=409)
        except WorkOrderError as exc:
            return await self._order_page(request, order_id, error=FormError(exc.message, exc.field), form=form,
                                          failed=failed, status=400)
        except FormError as exc:
            return await self._order_page(request, order_id, error=exc, form=form, failed=failed, status=400)
        return Redirect(back or f"/arbetsordrar/{order_id}?klart={done}", status_code=303)

    @post("/{order_id:int}/planera")
    async def plan(self, request: Request, order_id: FromPath[int], data: Form) -> Response:
        form = fields(data)
        actor = current_actor(request)
        def optional_technician(name: str, message: str) -> int | None:
            return integer(form, name, message) if text(form, name, 12) else None

        return await self._act(request, order_id, form, "planera", "planerad", lambda: planning.plan_order(
            actor, order_id, integer(form, "version", "Ladda om sidan och försök igen."),
            technician_id=integer(form, "technician", "Välj en tekniker."),
            day=date_field(form, "day"), window_start=time_field(form, "window_start"),
            window_end=time_field(form, "window_end"), today=today(),
            locked=text(form, "locked", 4) == "ja", two_technicians=text(form, "two_technicians", 4) == "ja",
            second_technician_id=optional_technician("second_technician", "Välj en andra tekniker i listan."),
            required_technician_id=optional_technician("required_technician", "Välj en bestämd tekniker i listan.")))

    @post("/{order_id:int}/makulera")
    async def cancel(self, request: Request, order_id: FromPath[int], data: Form) -> Response:
        form = fields(data)
        actor = current_actor(request)
        return await self._act(request, order_id, form, "makulera", "makulerad", lambda: planning.cancel_order(
            actor, order_id, integer(form, "version", "Ladda om sidan och försök igen."),
            text(form, "reason", 500), text(form, "message_to_orderer", 2000)))

    @post("/{order_id:int}/flytta")
    async def move(self, request: Request, order_id: FromPath[int], data: Form) -> Response:
        form = fields(data)
        actor = current_actor(request)
        direction = -1 if text(form, "direction") == "tidigare" else 1
        technician, day = text(form, "technician", 12), text(form, "day", 10)
        try:
            back = f"/arbetsordrar/planering?tekniker={int(technician)}&dag={date.fromisoformat(day).isoformat()}"
        except ValueError:
            back = "/arbetsordrar/planering"
        return await self._act(request, order_id, form, "planera", "flyttad", lambda: planning.move_in_day(
            actor, order_id, integer(form, "version", "Ladda om sidan och försök igen."), direction), back=back)
