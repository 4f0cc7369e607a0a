"""Fault reports on the web: the public QR pages, the reporter's status page, the coordinators'
triage and label sheets, and prescribers ordering repairs from the device card.

The public routes need no account: they are rate-limited per client address (the shared
limiter) and the report itself also per device token, both counted in PostgreSQL.
"""

from __future__ import annotations

import hashlib
import re

from litestar import Controller, Request, get, post
from litestar.connection import ASGIConnection
from litestar.datastructures import UploadFile
from litestar.exceptions import NotFoundException, TooManyRequestsException
from litestar.handlers.base import BaseRouteHandler
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Response, Template

from backend.accounts.tables import STAFF_OVERSIGHT, Role
from backend.auth import current_actor, requires
from backend.devices.service import normalise_individnummer
from backend.faults import service
from backend.faults.service import AlreadyHandled, FaultError, LabelError, NotFound, ReportInvalid
from backend.forms import Form, FormError, fields, many, text
from backend.photos import MAX_UPLOAD_BYTES
from backend.workorders.service import TYPE_LABELS
from backend.workorders.tables import WorkOrderType

PUBLIC = {"public": True, "rate_limited": True}
# The public report needs no CSRF token: it acts for nobody (no session is used), so a forged
# post could do no more than a direct one, which the limits, checks and honeypot meet; and a
# phone that lost its cookies while the form was open would otherwise lose what was typed.
PUBLIC_POST = {**PUBLIC, "exclude_from_csrf": True}
# A photo and the answers; anything larger is refused (413) before it is read.
MAX_REPORT_BODY = MAX_UPLOAD_BYTES + 256 * 1024
NO_STORE = {"cache-control": "private, no-store"}
# The sticker's landing page names the device's category and the centre's phone, no person;
# the staff redirect above it is sent to a signed-in person and so is never stored.
BRIEFLY = {"cache-control": "public, max-age=300"}
_ORDER_NUMBER = re.compile(r"AO-\d{4}-[A-Z0-9-]{1,12}")
_REPORT_NUMBER = re.compile(r"FA-\d{4}-\d{1,9}")


class TooManyReports(TooManyRequestsException):
    """Too many reports through one sticker within the hour; the detail is Swedish."""

    swedish = True


async def token_rate_limit(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    """At most REPORTS_PER_TOKEN_PER_HOUR reports through one sticker, whatever the address."""
    token = connection.path_params.get("token", "")
    if not service.looks_like_token(token):
        return  # nothing to count: the handler answers 404
    store = connection.app.stores.get("rate_limit")
    key = "fault-report::" + hashlib.sha256(token.encode()).hexdigest()[:32]
    if await store.increment(key, 3600) > service.REPORTS_PER_TOKEN_PER_HOUR:
        raise TooManyReports(
            detail="Många felanmälningar har kommit för det här hjälpmedlet den senaste timmen. "
                   "Vänta en stund och försök igen, eller ring hjälpmedelscentralen.",
            headers={"retry-after": "600"},
        )


def _report_input(form: dict) -> service.ReportInput:
    return service.ReportInput(
        problems=tuple(many(form, "problems"))[:20], description=text(form, "description", 5000),
        where_on_device=text(form, "where_on_device", 500), usable=text(form, "usable", 20),
        can_bring_in=text(form, "can_bring_in", 20), needs_replacement=text(form, "needs_replacement", 20),
        location=text(form, "location", 20) or "usual", address=text(form, "address", 500),
        door_code=text(form, "door_code", 100), contact_name=text(form, "contact_name", 500),
        contact_phone=text(form, "contact_phone", 100), call_times=text(form, "call_times", 500),
        honeypot=text(form, "webbplats", 100),
    )


async def _submitted(request: Request) -> dict:
    """The posted form, multipart or URL-encoded, read only once the route has found its device;
    one value per field, a list for a repeated one."""
    posted = (await request.form()).dict()
    return fields({name: values[0] if len(values) == 1 else values for name, values in posted.items()})


async def _photo_bytes(form: dict) -> bytes | None:
    upload = form.get("photo")
    if isinstance(upload, UploadFile) and upload.filename:
        return await upload.read()
    return None


def _nonce(form: dict) -> str:
    """The form's submission key as sent; a fresh one if it is missing or malformed."""
    value = text(form, "submission", 100)
    return value if service.looks_like_token(value) else service.new_token()


def _form_values(form: dict) -> dict:
    """What was typed, to fill the form in again (files cannot be)."""
    values = {k: v for k, v in form.items() if isinstance(v, str)}
    values["problems"] = many(form, "problems")
    values["submission"] = _nonce(form)
    return values


def _origin(request: Request) -> str:
    return request.app.state["settings"].public_origin


# --- the public pages ----------------------------------------------------------------------


class PublicFaultController(Controller):
    """/f/<token>: the link in a device's QR code."""

    path = "/f"

    async def _device(self, token: str) -> service.PublicDevice:
        device = await service.public_device(token)
        if device is None:
            raise NotFoundException()  # malformed, unknown and replaced tokens look the same
        return device

    @get("/{token:str}", opt=PUBLIC)
    async def device_page(self, request: Request, token: FromPath[str]) -> Template | Redirect:
        device = await self._device(token)
        if request.scope.get("user") is not None:
            # A technician (any staff member) scanning the sticker lands on the device card.
            return Redirect(f"/enheter/{device.individnummer}")
        return Template("faults/device.html", context={"device": device, "token": token}, headers=BRIEFLY)

    @get("/{token:str}/anmal", opt=PUBLIC)
    async def report_form(self, token: FromPath[str]) -> Template:
        device = await self._device(token)
        return Template("faults/report.html", context={
            "device": device, "token": token, "error": None,
            "form": {"location": "usual", "submission": service.new_token()},
        })

    @post("/{token:str}/anmal", opt=PUBLIC_POST, guards=[token_rate_limit], request_max_body_size=MAX_REPORT_BODY)
    async def report(self, request: Request, token: FromPath[str]) -> Template | Redirect:
        device = await self._device(token)
        form = await _submitted(request)
        photo = await _photo_bytes(form)
        try:
            status_token = await service.report_fault(
                device, _report_input(form), submission_key=text(form, "submission", 100), photo_bytes=photo)
        except (ReportInvalid, FormError) as exc:  # FormError: a field that cannot be stored
            return Template("faults/report.html", context={
                "device": device, "token": token, "error": exc, "form": _form_values(form),
                "photo_again": bool(photo) and exc.for_field("photo") is None,
            }, status_code=400)
        return Redirect(f"/arende/{status_token}/kvitto", status_code=303)


class CaseController(Controller):
    """/arende/<status token>: the reporter's private receipt and status page."""

    path = "/arende"

    async def _case(self, token: str) -> dict:
        case = await service.case_status(token)
        if case is None:
            raise NotFoundException()
        return case

    @get("/{token:str}", opt=PUBLIC)
    async def status(self, token: FromPath[str]) -> Template:
        return Template("faults/case.html", context={"case": await self._case(token)}, headers=NO_STORE)

    @get("/{token:str}/kvitto", opt=PUBLIC)
    async def receipt(self, request: Request, token: FromPath[str]) -> Template:
        case = await self._case(token)
        return Template("faults/receipt.html", context={
            "case": case, "link": service.case_link(_origin(request), token)}, headers=NO_STORE)


# --- triage and labels (coordinators) --------------------------------------------------------


TRIAGE_TYPE_CHOICES = [(t.value, TYPE_LABELS[t]) for t in service.TRIAGE_TYPES]


class TriageController(Controller):
    path = "/felanmalningar"
    guards = [requires(*STAFF_OVERSIGHT)]

    @get("/")
    async def queue(self, request: Request, skapad: FromQuery[str | None] = None,
                    avslutad: FromQuery[str | None] = None) -> Template:
        reports = await service.triage_queue(current_actor(request))
        created = skapad if skapad and _ORDER_NUMBER.fullmatch(skapad) else None
        closed = avslutad if avslutad and _REPORT_NUMBER.fullmatch(avslutad) else None
        return Template("faults/queue.html", context={"reports": reports, "created": created, "closed": closed,
                                                       "limit": service.QUEUE_LIMIT})

    async def _page(self, request: Request, report_id: int, *, error: FaultError | None = None,
                    form: dict | None = None, status: int = 200) -> Template:
        try:
            view = await service.triage_report(current_actor(request), report_id)
        except NotFound:
            raise NotFoundException() from None
        return Template("faults/triage.html", context={
            **view, "error": error, "form": {"type": service.default_type(view["report"]), **(form or {})},
            "types": TRIAGE_TYPE_CHOICES,
        }, status_code=status)

    @get("/{report_id:int}")
    async def report(self, request: Request, report_id: FromPath[int]) -> Template:
        return await self._page(request, report_id)

    @get("/{report_id:int}/bild")
    async def photo(self, request: Request, report_id: FromPath[int]) -> Response:
        try:
            content, content_type = await service.report_photo(current_actor(request), report_id)
        except NotFound:
            raise NotFoundException() from None
        return Response(content, media_type=content_type, headers=NO_STORE)

    @post("/{report_id:int}/arbetsorder")
    async def to_work_order(self, request: Request, report_id: FromPath[int], data: Form) -> Template | Redirect:
        form = fields(data)
        try:
            order = await service.triage_to_work_order(
                current_actor(request), report_id, type=text(form, "type", 40),
                urgent=text(form, "urgency", 20) == "urgent", note=text(form, "note", 5000))
        except NotFound:
            raise NotFoundException() from None
        except FaultError as exc:
            status = 409 if isinstance(exc, AlreadyHandled) else 400
            return await self._page(request, report_id, error=exc, form=form, status=status)
        return Redirect(f"/felanmalningar?skapad={order['number']}", status_code=303)

    @post("/{report_id:int}/avsluta")
    async def close(self, request: Request, report_id: FromPath[int], data: Form) -> Template | Redirect:
        form = fields(data)
        try:
            number = await service.close_report(current_actor(request), report_id, text(form, "answer", 5000))
        except NotFound:
            raise NotFoundException() from None
        except FaultError as exc:
            status = 409 if isinstance(exc, AlreadyHandled) else 400
            return await self._page(request, report_id, error=exc, form=form, status=status)
        return Redirect(f"/felanmalningar?avslutad={number}", status_code=303)


class LabelController(Controller):
    path = "/etiketter"
    guards = [requires(*STAFF_OVERSIGHT)]

    @get("/")
    async def choose(self, enheter: FromQuery[str | None] = None) -> Template:
        return Template("faults/labels.html", context={
            "form": {"enheter": enheter or "", "format": service.DEFAULT_FORMAT}, "error": None,
            "formats": service.FORMAT_CHOICES})

    @get("/ark")
    async def sheet(self, request: Request, enheter: FromQuery[str | None] = None,
                    format: FromQuery[str] = service.DEFAULT_FORMAT, ny: FromQuery[str | None] = None) -> Template:
        wanted = service.parse_individnummer_list(enheter or "")
        try:
            sheet = await service.label_sheet(current_actor(request).organisation, wanted, _origin(request), format)
        except LabelError as exc:
            return Template("faults/labels.html", context={
                "form": {"enheter": enheter or "", "format": format}, "error": exc,
                "formats": service.FORMAT_CHOICES}, status_code=400)
        return Template("faults/label_sheet.html", context={**sheet, "replaced": ny == "1"})

    @post("/ny-kod")
    async def replace(self, request: Request, data: Form) -> Template | Redirect:
        form = fields(data)
        number = normalise_individnummer(text(form, "individnummer", 40))
        try:
            await service.replace_device_token(current_actor(request).organisation, number)
        except NotFound as exc:
            return Template("faults/labels.html", context={
                "form": {"enheter": "", "format": service.DEFAULT_FORMAT, "individnummer": number},
                "error": exc, "formats": service.FORMAT_CHOICES}, status_code=400)
        return Redirect(f"/etiketter/ark?enheter={number}&ny=1", status_code=303)


# --- prescribers order repairs -----------------------------------------------------------------


PRESCRIBER_TYPE_CHOICES = [(t.value, TYPE_LABELS[t]) for t in service.PRESCRIBER_TYPES]


class RepairOrderController(Controller):
    guards = [requires(Role.prescriber)]

    async def _page(self, request: Request, individnummer: str, *, form: dict, error: FaultError | None = None,
                    status: int = 200, photo_again: bool = False) -> Template:
        try:
            target = await service.repair_order_target(current_actor(request), normalise_individnummer(individnummer))
        except NotFound:
            raise NotFoundException() from None
        return Template("faults/repair_order.html", context={
            **target, "form": form, "error": error, "types": PRESCRIBER_TYPE_CHOICES, "photo_again": photo_again,
        }, status_code=status)

    @get("/enheter/{individnummer:str}/bestall-reparation")
    async def order_form(self, request: Request, individnummer: FromPath[str]) -> Template:
        return await self._page(request, individnummer, form={
            "location": "usual", "type": WorkOrderType.repair_on_site.value, "submission": service.new_token()})

    @post("/enheter/{individnummer:str}/bestall-reparation", request_max_body_size=MAX_REPORT_BODY)
    async def order(self, request: Request, individnummer: FromPath[str]) -> Template | Redirect:
        form = await _submitted(request)
        photo = await _photo_bytes(form)
        try:
            order = await service.order_repair(
                current_actor(request), normalise_individnummer(individnummer), _report_input(form),
                type=text(form, "type", 40), submission_key=text(form, "submission", 100), photo_bytes=photo)
        except NotFound:
            raise NotFoundException() from None
        except (ReportInvalid, FormError) as exc:  # FormError: a field that cannot be stored
            return await self._page(request, individnummer, form=_form_values(form), error=exc,
                                    status=400, photo_again=bool(photo) and exc.for_field("photo") is None)
        return Redirect(f"/reparationer?bestalld={order['number']}", status_code=303)

    @get("/reparationer")
    async def orders(self, request: Request, bestalld: FromQuery[str | None] = None) -> Template:
        ordered = bestalld if bestalld and _ORDER_NUMBER.fullmatch(bestalld) else None
        return Template("faults/repair_orders.html", context={
            "orders": await service.repair_orders(current_actor(request)), "ordered": ordered})
