"""Route planning's own pages, for coordinators and admins: the hub (/planering), plan proposals
(/planering/forslag: the form and the recent ones; /planering/forslag/{id}: the proposal beside
today's plan, accepted in all or part) and urgent repairs fitted into today (/planering/akut).
The rules are in proposals.py and urgent.py."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from litestar import Controller, Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Response, Template

from backend.accounts.tables import STAFF_OVERSIGHT
from backend.auth import current_actor, requires
from backend.errors import DomainError
from backend.forms import Form, FormError, date_field, fields, integer, many, text
from backend.routing import proposals, urgent
from backend.routing.proposals import ProposalError, ProposalNotFound
from backend.workdays import STOCKHOLM, today
from backend.workorders import plans as workorder_plans


ORDER_NUMBER = re.compile(r"[A-Z]{1,4}-[A-Z0-9]{1,6}-\d{1,9}")


def _next_monday() -> str:
    day = today()
    return (day + timedelta(days=7 - day.weekday())).isoformat()


def _typed(form: dict, name: str) -> str:
    """What was typed, to show again beside an error (unreadable text comes back empty)."""
    try:
        return text(form, name, 20)
    except FormError:
        return ""


def clock(value) -> str:
    return value.strftime("%H:%M") if value else ""


def minutes_clock(minutes: int | None) -> str:
    return "" if minutes is None else f"{minutes // 60:02d}:{minutes % 60:02d}"


class PlanningHubController(Controller):
    path = "/planering"
    guards = [requires(*STAFF_OVERSIGHT)]

    @get("/")
    async def hub(self, request: Request) -> Template:
        return Template("routing/hub.html", context={})


class ProposalController(Controller):
    path = "/planering/forslag"
    guards = [requires(*STAFF_OVERSIGHT)]

    async def _form(self, request: Request, *, form: dict | None = None, error: DomainError | None = None,
                    status: int = 200) -> Template:
        actor = current_actor(request)
        technicians = await proposals.technician_choices(actor.organisation)
        monday = _next_monday()
        friday = (datetime.fromisoformat(monday).date() + timedelta(days=4)).isoformat()
        form = form or {"fran": monday, "till": friday, "tekniker": [str(t["id"]) for t in technicians]}
        return Template("routing/proposals.html", status_code=status, context={
            "technicians": technicians, "form": form, "error": error,
            "recent": await proposals.recent(actor.organisation), "labels": proposals.STATUS_LABELS,
            "max_days": proposals.MAX_DAYS,
        })

    @get("/")
    async def list(self, request: Request) -> Template:
        return await self._form(request)

    @post("/")
    async def propose(self, request: Request, data: Form) -> Response:
        actor = current_actor(request)
        form = fields(data)
        chosen = many(form, "tekniker")
        shown = {"fran": _typed(form, "fran"), "till": _typed(form, "till"), "tekniker": chosen}
        try:
            first = date_field(form, "fran")
            last = date_field(form, "till")
            if not all(c.isdigit() and len(c) <= 9 for c in chosen):
                raise ProposalError("Välj tekniker ur listan.", "tekniker")
            proposal_id = await proposals.propose(actor, [int(c) for c in chosen], first, last, today())
        except DomainError as error:
            return await self._form(request, form=shown, error=error, status=400)
        return Redirect(f"/planering/forslag/{proposal_id}", status_code=303)

    async def _page(self, request: Request, proposal_id: int, *, error: DomainError | None = None,
                    result: dict | None = None, status: int = 200) -> Template:
        actor = current_actor(request)
        try:
            shown = await proposals.proposal(actor, proposal_id)
        except ProposalNotFound:
            raise NotFoundException() from None
        calls = await urgent.calls(actor, shown) if shown["kind"] == "urgent" else []
        return Template("routing/proposal.html", status_code=status, context={
            "p": shown, "sketches": await proposals.sketches(actor, shown), "error": error, "result": result, "clock": clock, "minutes_clock": minutes_clock,
            "calls": calls, "today": today(),
        })

    @get("/{proposal_id:int}")
    async def proposal(self, request: Request, proposal_id: FromPath[int], godkant: FromQuery[int | None] = None,
                       hoppade: FromQuery[str | None] = None) -> Template:
        result = None
        if godkant is not None:
            # Order numbers only (AO-2026-000123): the query string is not a place for other words.
            numbers = [s for s in (hoppade or "").split(",") if ORDER_NUMBER.fullmatch(s)]
            result = {"planned": max(0, godkant), "skipped": numbers[:200]}
        return await self._page(request, proposal_id, result=result)

    @post("/{proposal_id:int}/godkann")
    async def accept(self, request: Request, proposal_id: FromPath[int], data: Form) -> Response:
        actor = current_actor(request)
        form = fields(data)
        everything = text(form, "alla", 4) == "ja"
        chosen = None if everything else many(form, "dag")
        try:
            accepted = await proposals.accept(actor, proposal_id, chosen, today())
        except ProposalNotFound:
            raise NotFoundException() from None
        except DomainError as error:
            return await self._page(request, proposal_id, error=error, status=400)
        skipped = ",".join(s.number for s in accepted.skipped)
        return Redirect(f"/planering/forslag/{proposal_id}?godkant={accepted.planned}"
                        + (f"&hoppade={skipped}" if skipped else ""), status_code=303)


class UrgentController(Controller):
    path = "/planering/akut"
    guards = [requires(*STAFF_OVERSIGHT)]

    async def _page(self, request: Request, *, error: DomainError | None = None, status: int = 200) -> Template:
        actor = current_actor(request)
        return Template("routing/urgent.html", status_code=status, context={
            "orders": await workorder_plans.open_urgent(actor.organisation), "error": error, "clock": clock,
            "today": today(),
        })

    @get("/")
    async def urgent_list(self, request: Request) -> Template:
        return await self._page(request)

    @post("/")
    async def insert(self, request: Request, data: Form) -> Response:
        actor = current_actor(request)
        form = fields(data)
        try:
            order_id = integer(form, "order", "Välj en akut reparation ur listan.")
            now = datetime.now(STOCKHOLM)
            proposal_id = await urgent.insert_urgent(actor, order_id, today(), now.hour * 60 + now.minute)
        except DomainError as error:
            return await self._page(request, error=error, status=400)
        return Redirect(f"/planering/forslag/{proposal_id}", status_code=303)
