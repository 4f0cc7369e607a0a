"""The notices pages (coordinators and admins): the visits to tell patients of and sending them,
the sends and their letters to print, one notice and the patient's answer, whom to contact; and
the outbox (/admin/utkorg): every message sent, or in development kept instead of sent."""

from __future__ import annotations

from datetime import date

from litestar import Controller, Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Response, Template

from backend.accounts.tables import STAFF_OVERSIGHT
from backend.auth import current_actor, requires
from backend.errors import DomainError
from backend.forms import INT4_MAX, Form, FormError, date_field, fields, integer, many, text, time_field
from backend.notices import outbox, service
from backend.notices.errors import NoticeNotFound
from backend.organisations import service as organisations
from backend.workdays import today
from backend.workorders.service import OrderMovedOn, WorkOrderNotFound

RELOAD = "Ladda om sidan och försök igen."

NOTICES = {
    "skickade": "Aviseringarna är skapade. SMS och e-post skickas i bakgrunden; breven skriver du ut här.",
    "ny-tid": "Besöket är flyttat. Den nya tiden finns bland förslagen att avisera.",
    "ringa-upp": "Svaret är registrerat: patienten finns under Att kontakta.",
    "kontaktad": "Kontakten är registrerad.",
    "utskrivna": "Breven är markerade som utskrivna.",
    "igen": "De misslyckade aviseringarna skickas igen.",
}

PDF_HEADERS = {"cache-control": "private, no-store"}


def _query_id(value: str | None) -> int | None:
    value = (value or "").strip()
    return int(value) if value.isascii() and value.isdigit() and 0 < int(value) <= INT4_MAX else None


def _query_date(value: str | None, default: date) -> date:
    try:
        return date_field({"d": value or ""}, "d")
    except FormError:
        return default


def _period(fran: str | None, till: str | None, kommun: str | None) -> service.ProposalFilter:
    default = service.ProposalFilter.default(today())
    since = _query_date(fran, default.since)
    until = _query_date(till, default.until if since == default.since else since + (default.until - default.since))
    return service.ProposalFilter(since, until, _query_id(kommun))


def _pdf(content: bytes, name: str) -> Response:
    return Response(content, media_type="application/pdf",
                    headers={**PDF_HEADERS, "content-disposition": f'inline; filename="{name}"'})


class NoticeController(Controller):
    path = "/fu/aviseringar"
    guards = [requires(*STAFF_OVERSIGHT)]

    # --- the visits to tell patients of -------------------------------------------------------

    async def _proposals_page(self, request: Request, wanted: service.ProposalFilter, page: int, *,
                              error: DomainError | None = None, notice: str | None = None,
                              status: int = 200) -> Template:
        actor = current_actor(request)
        try:
            found, total = await service.proposals(actor, wanted, page, today())
        except DomainError as exc:
            error, found, total = error or exc, [], 0
            status = 400 if status == 200 else status
        waiting = await service.count_to_contact(actor)
        return Template("notices/proposals.html", context={
            "proposals": found, "total": total, "page": page, "page_size": service.PAGE_SIZE, "filter": wanted,
            "bearers": [(b["id"], b["name"]) for b in await organisations.cost_bearer_choices(actor.organisation)],
            "batches": await service.batches(actor.organisation), "to_contact": waiting,
            "error": error, "notice": notice, "notice_days": service.NOTICE_DAYS, "send_limit": service.SEND_LIMIT,
        }, status_code=status)

    @get("/")
    async def proposals(self, request: Request, fran: FromQuery[str | None] = None, till: FromQuery[str | None] = None,
                        kommun: FromQuery[str | None] = None, sida: FromQuery[int] = 1) -> Template:
        return await self._proposals_page(request, _period(fran, till, kommun), max(1, min(sida, 10_000)))

    @post("/skicka")
    async def send(self, request: Request, data: Form) -> Response:
        form = fields(data)
        actor = current_actor(request)
        wanted = service.ProposalFilter.default(today())
        try:
            wanted = service.ProposalFilter(date_field(form, "fran"), date_field(form, "till"),
                                            _query_id(text(form, "kommun", 12)))
            everything = text(form, "alla", 5) == "1"
            chosen = None if everything else [integer({"order": value}, "order", "Välj besöken i listan.")
                                              for value in many(form, "order")]
            sent = await service.send_notices(actor, chosen, wanted, today())
        except DomainError as exc:
            return await self._proposals_page(request, wanted, 1, error=exc, status=400)
        return Redirect(f"/fu/aviseringar/utskick/{sent.batch}?klart=skickade", status_code=303)

    # --- whom to contact -----------------------------------------------------------------------

    @get("/att-kontakta")
    async def to_contact(self, request: Request, sida: FromQuery[int] = 1) -> Template:
        page = max(1, min(sida, 10_000))
        found, total = await service.to_contact(current_actor(request), page)
        return Template("notices/to_contact.html", context={
            "notices": found, "total": total, "page": page, "page_size": service.PAGE_SIZE})

    # --- a send and its letters ------------------------------------------------------------------

    async def _batch_page(self, request: Request, batch_id: int, page: int = 1, *, error: DomainError | None = None,
                          notice: str | None = None, status: int = 200) -> Template:
        try:
            totals, found = await service.batch(current_actor(request), batch_id, page)
        except NoticeNotFound:
            raise NotFoundException() from None
        return Template("notices/batch.html", context={
            "totals": totals, "notices": found, "page": page, "page_size": service.PAGE_SIZE, "error": error,
            "notice": notice}, status_code=status)

    @get("/utskick/{batch_id:int}")
    async def batch(self, request: Request, batch_id: FromPath[int], sida: FromQuery[int] = 1,
                    klart: FromQuery[str | None] = None) -> Template:
        return await self._batch_page(request, batch_id, max(1, min(sida, 10_000)), notice=NOTICES.get(klart or ""))

    @get("/utskick/{batch_id:int}/brev.pdf")
    async def batch_letters(self, request: Request, batch_id: FromPath[int]) -> Response:
        try:
            content = await service.batch_letters(current_actor(request), batch_id)
        except NoticeNotFound:
            raise NotFoundException() from None
        return _pdf(content, f"aviseringar-{batch_id}.pdf")

    @post("/utskick/{batch_id:int}/utskrivna")
    async def printed(self, request: Request, batch_id: FromPath[int], data: Form) -> Response:
        form = fields(data)
        try:
            await service.mark_printed(current_actor(request), batch_id, integer(form, "letters", RELOAD))
        except DomainError as exc:
            return await self._batch_page(request, batch_id, error=exc, status=400)
        return Redirect(f"/fu/aviseringar/utskick/{batch_id}?klart=utskrivna", status_code=303)

    @post("/utskick/{batch_id:int}/skicka-igen")
    async def resend(self, request: Request, batch_id: FromPath[int]) -> Response:
        try:
            await service.resend_batch(current_actor(request), batch_id)
        except DomainError as exc:
            return await self._batch_page(request, batch_id, error=exc, status=400)
        return Redirect(f"/fu/aviseringar/utskick/{batch_id}?klart=igen", status_code=303)

    # --- one notice, and the patient's answer ------------------------------------------------------

    async def _notice_page(self, request: Request, notice_id: int, *, error: DomainError | None = None,
                           form: dict | None = None, notice: str | None = None, status: int = 200) -> Template:
        try:
            found = await service.notice(current_actor(request), notice_id)
        except NoticeNotFound:
            raise NotFoundException() from None
        start, end = found["order_window_start"], found["order_window_end"]
        defaults = {"day": max(found["order_planned_date"] or today(), today()).isoformat(),
                    "window_start": start.strftime("%H:%M") if start else "08:00",
                    "window_end": end.strftime("%H:%M") if end else "10:00"}
        return Template("notices/notice.html", context={
            "n": found, "error": error, "form": {**defaults, **(form or {})}, "notice": notice,
            "labels": service.FIELD_LABELS, "values": service.FIELD_VALUES}, status_code=status)

    @get("/{notice_id:int}")
    async def notice(self, request: Request, notice_id: FromPath[int], klart: FromQuery[str | None] = None) -> Template:
        return await self._notice_page(request, notice_id, notice=NOTICES.get(klart or ""))

    @get("/{notice_id:int}/brev.pdf")
    async def letter(self, request: Request, notice_id: FromPath[int]) -> Response:
        try:
            content = await service.notice_letter(current_actor(request), notice_id)
        except NoticeNotFound:
            raise NotFoundException() from None
        return _pdf(content, f"avisering-{notice_id}.pdf")

    async def _answer(self, request: Request, notice_id: int, form: dict, done: str, action) -> Response:
        try:
            await action()
        except (NoticeNotFound, WorkOrderNotFound):
            raise NotFoundException() from None
        except OrderMovedOn as exc:
            return await self._notice_page(request, notice_id, error=exc, form=form, status=409)
        except DomainError as exc:
            return await self._notice_page(request, notice_id, error=exc, form=form, status=400)
        return Redirect(f"/fu/aviseringar/{notice_id}?klart={done}", status_code=303)

    @post("/{notice_id:int}/ny-tid")
    async def new_time(self, request: Request, notice_id: FromPath[int], data: Form) -> Response:
        form = fields(data)
        actor = current_actor(request)
        return await self._answer(request, notice_id, form, "ny-tid", lambda: service.record_new_time(
            actor, notice_id, integer(form, "version", RELOAD), day=date_field(form, "day"),
            window_start=time_field(form, "window_start"), window_end=time_field(form, "window_end"), today=today()))

    @post("/{notice_id:int}/ringa-upp")
    async def call_back(self, request: Request, notice_id: FromPath[int], data: Form) -> Response:
        form = fields(data)
        actor = current_actor(request)
        return await self._answer(request, notice_id, form, "ringa-upp", lambda: service.record_call_back(
            actor, notice_id, integer(form, "version", RELOAD), text(form, "call_note", 2000)))

    @post("/{notice_id:int}/kontaktad")
    async def contacted(self, request: Request, notice_id: FromPath[int], data: Form) -> Response:
        form = fields(data)
        actor = current_actor(request)
        return await self._answer(request, notice_id, form, "kontaktad", lambda: service.mark_contacted(
            actor, notice_id, text(form, "note", 2000)))


class OutboxController(Controller):
    """What Runda sent, or in development kept instead of sending: admins and coordinators."""

    path = "/admin/utkorg"
    guards = [requires(*STAFF_OVERSIGHT)]

    @get("/")
    async def messages(self, request: Request, kanal: FromQuery[str | None] = None,
                       status: FromQuery[str | None] = None, sida: FromQuery[int] = 1) -> Template:
        wanted = outbox.OutboxFilter(channel=kanal, state=status).cleaned()
        page = max(1, min(sida, 100_000))
        found, more = await outbox.messages(current_actor(request), wanted, page)
        return Template("notices/outbox.html", context={
            "messages": found, "more": more, "page": page, "filter": wanted,
            "channels": list(outbox.CHANNEL_LABELS.items()), "states": list(outbox.STATE_LABELS.items()),
            "development": request.app.state["settings"].outbound.development})

    @get("/{message_id:int}")
    async def message(self, request: Request, message_id: FromPath[int]) -> Template:
        try:
            found = await outbox.message(current_actor(request), message_id)
        except NoticeNotFound:
            raise NotFoundException() from None
        return Template("notices/message.html", context={"m": found})
