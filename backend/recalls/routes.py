"""Safety notices (/sakerhetsmeddelanden, coordinators and admins): the list, a new notice, a
notice's page with the units it names, making their orders, marking a unit not found, closing,
and the confirmation for the manufacturer (PDF, CSV). The rules are in service.py."""

from __future__ import annotations

from litestar import Controller, Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Response, Template

from backend.accounts.tables import STAFF_OVERSIGHT
from backend.auth import current_actor, requires
from backend.devices import service as devices
from backend.errors import DomainError
from backend.forms import INT4_MAX, Form, FormError, date_field, fields, many, text
from backend.recalls import documents
from backend.recalls import service as recalls
from backend.recalls.selection import lot_list
from backend.recalls.tables import RECALL_ACTION_LABELS
from backend.web import is_htmx
from backend.workdays import today

PRIVATE = {"cache-control": "private, no-store"}
NOTICES = {
    "skapat": "Säkerhetsmeddelandet är registrerat. Här är de hjälpmedel det gäller.",
    "ej-hittad": "Hjälpmedlet är markerat som ej hittat.",
    "stangt": "Säkerhetsmeddelandet är stängt. Bekräftelsen till tillverkaren kan laddas ner.",
    "bakgrund": "Arbetsordrarna skapas i bakgrunden. Sidan visar hur långt det har kommit.",
}


def _recall_id(recall_id: int) -> int:
    if not 0 < recall_id <= INT4_MAX:
        raise NotFoundException()
    return recall_id


def _read(problems: list, read):
    try:
        return read()
    except FormError as exc:
        problems.extend(exc.errors)
        return None


def _notice_fields(form: dict) -> recalls.NoticeFields:
    """The form as typed; what cannot be read goes along as problems, refused with the rest."""
    problems: list = []
    articles: list[int] = []
    for value in _read(problems, lambda: many(form, "articles")) or []:
        if value.isascii() and value.isdigit() and 0 < int(value) <= INT4_MAX:
            articles.append(int(value))
        else:
            problems.append(("articles", "Välj artiklarna ur artikelregistret."))
            break
    return recalls.NoticeFields(
        title=_read(problems, lambda: text(form, "title", 1000)) or "",
        reference=_read(problems, lambda: text(form, "reference", 1000)) or "",
        manufacturer=_read(problems, lambda: text(form, "manufacturer", 1000)) or "",
        articles=tuple(articles),
        serial_from=_read(problems, lambda: text(form, "serial_from", 1000)) or "",
        serial_to=_read(problems, lambda: text(form, "serial_to", 1000)) or "",
        made_from=_read(problems, lambda: date_field(form, "made_from", required=False)),
        made_to=_read(problems, lambda: date_field(form, "made_to", required=False)),
        lot_numbers=lot_list(_read(problems, lambda: text(form, "lot_numbers", 20000)) or ""),
        action=_read(problems, lambda: text(form, "action", 40)) or "",
        instructions=_read(problems, lambda: text(form, "instructions", 10000)) or "",
        deadline=_read(problems, lambda: date_field(form, "deadline", required=False)),
        problems=tuple(problems))


def _orders_notice(skapade: str | None) -> str | None:
    if skapade is None or not (skapade.isascii() and skapade.isdigit()) or len(skapade) > 9:
        return None
    made = int(skapade)
    if made == 0:
        return "Inga nya arbetsordrar: varje berört hjälpmedel har redan en."
    return f"{made} arbetsorder skapades." if made == 1 else f"{made} arbetsordrar skapades."


class RecallController(Controller):
    path = "/sakerhetsmeddelanden"
    guards = [requires(*STAFF_OVERSIGHT)]

    @get("/")
    async def recalls(self, request: Request) -> Template:
        actor = current_actor(request)
        return Template("recalls/list.html", context={"recalls": await recalls.recalls(actor.organisation)},
                        headers=PRIVATE)

    async def _new_page(self, request: Request, form: dict, error: DomainError | None = None,
                        status: int = 200) -> Template:
        actor = current_actor(request)
        articles = await devices.articles_by_manufacturer(actor.organisation)
        chosen = set(_read([], lambda: many(form, "articles")) or [])
        return Template("recalls/new.html", context={
            "form": form, "error": error, "actions": [(a.value, label) for a, label in RECALL_ACTION_LABELS.items()],
            "articles": articles, "chosen": chosen,
        }, status_code=status, headers=PRIVATE)

    @get("/ny")
    async def new(self, request: Request) -> Template:
        return await self._new_page(request, {"action": "check"})

    @post("/ny")
    async def create(self, request: Request, data: Form) -> Response:
        form = fields(data)
        try:
            recall_id = await recalls.create_recall(current_actor(request), _notice_fields(form), today())
        except DomainError as exc:
            return await self._new_page(request, form, exc, status=400)
        return Redirect(f"/sakerhetsmeddelanden/{recall_id}?klart=skapat", status_code=303)

    async def _page(self, request: Request, recall_id: int, *, page: int = 1, error: DomainError | None = None,
                    notice: str | None = None, status: int = 200) -> Template:
        actor = current_actor(request)
        try:
            found = await recalls.notice(actor.organisation, _recall_id(recall_id), max(1, min(page, 100_000)))
        except recalls.RecallNotFound:
            raise NotFoundException() from None
        return Template("recalls/notice.html", context={
            **found, "error": error, "notice": notice, "placement_labels": recalls.PLACEMENT_LABELS,
            "outcome_labels": recalls.OUTCOME_LABELS}, status_code=status, headers=PRIVATE)

    @get("/{recall_id:int}")
    async def notice(self, request: Request, recall_id: FromPath[int], sida: FromQuery[int] = 1,
                     klart: FromQuery[str | None] = None, skapade: FromQuery[str | None] = None) -> Template:
        message = _orders_notice(skapade) if klart == "ordrar" else NOTICES.get(klart or "")
        return await self._page(request, recall_id, page=sida, notice=message)

    async def _act(self, request: Request, recall_id: int, action, done: str) -> Response:
        try:
            result = await action(_recall_id(recall_id))
        except recalls.RecallNotFound:
            raise NotFoundException() from None
        except DomainError as exc:
            return await self._page(request, recall_id, error=exc, status=400)
        if done == "ordrar" and result is None:
            done = "bakgrund"  # the job queue makes them
        return Redirect(f"/sakerhetsmeddelanden/{recall_id}?klart={done}"
                        + (f"&skapade={result}" if isinstance(result, int) else ""), status_code=303)

    @get("/{recall_id:int}/ordrar-status")
    async def orders_status(self, request: Request, recall_id: FromPath[int]) -> Template:
        """How far the job queue has come with the notice's orders (the notice page polls it while it
        runs); once done, htmx is told to reload the page, which then shows the result."""
        try:
            progress = await recalls.orders_progress(current_actor(request).organisation, _recall_id(recall_id))
        except recalls.RecallNotFound:
            raise NotFoundException() from None
        headers = {**PRIVATE, **({"hx-refresh": "true"} if is_htmx(request) and not progress["running"] else {})}
        return Template("recalls/_orders_progress.html", context={"progress": progress}, headers=headers)

    @post("/{recall_id:int}/arbetsordrar")
    async def create_orders(self, request: Request, recall_id: FromPath[int]) -> Response:
        actor = current_actor(request)

        async def action(rid: int) -> int | None:
            started = await recalls.create_orders(actor, rid)
            return None if started.queued else started.made

        return await self._act(request, recall_id, action, "ordrar")

    @post("/{recall_id:int}/ej-hittad")
    async def not_found(self, request: Request, recall_id: FromPath[int], data: Form) -> Response:
        form = fields(data)
        actor = current_actor(request)

        async def action(rid: int) -> None:
            device = text(form, "device", 20)
            if not (device.isascii() and device.isdigit() and 0 < int(device) <= INT4_MAX):
                raise recalls.RecallError("Välj hjälpmedlet i listan.", "device")
            await recalls.mark_not_found(actor, rid, int(device), text(form, "note", 4000))

        return await self._act(request, recall_id, action, "ej-hittad")

    @post("/{recall_id:int}/stang")
    async def close(self, request: Request, recall_id: FromPath[int], data: Form) -> Response:
        form = fields(data)
        actor = current_actor(request)

        async def action(rid: int) -> None:
            await recalls.close(actor, rid, text(form, "closing_note", 8000))

        return await self._act(request, recall_id, action, "stangt")

    async def _confirmation(self, request: Request, recall_id: int) -> dict:
        try:
            return await recalls.confirmation(current_actor(request).organisation, _recall_id(recall_id))
        except recalls.RecallNotFound:
            raise NotFoundException() from None

    @get("/{recall_id:int}/bekraftelse.pdf")
    async def pdf(self, request: Request, recall_id: FromPath[int]) -> Response:
        content = documents.confirmation_pdf(await self._confirmation(request, recall_id), today())
        return Response(content, media_type="application/pdf", headers={
            **PRIVATE, "content-disposition": f'inline; filename="sakerhetsmeddelande-{recall_id}.pdf"'})

    @get("/{recall_id:int}/bekraftelse.csv")
    async def csv(self, request: Request, recall_id: FromPath[int]) -> Response:
        content = documents.confirmation_csv(await self._confirmation(request, recall_id))
        return Response(content, media_type="text/csv; charset=utf-8", headers={
            **PRIVATE, "content-disposition": f'attachment; filename="sakerhetsmeddelande-{recall_id}.csv"'})
