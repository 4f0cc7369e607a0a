"""The export pages (admins and coordinators): what each export holds and its filters, and the file
itself, the answer to the form's POST. Only filters travel in the form (and in a link that fills
it in), never personal data. The rules and the files are in exports.py."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from litestar import Controller, Request, get, post
from litestar.params import FromQuery
from litestar.response import Response, Stream, Template

from backend.accounts.tables import STAFF_OVERSIGHT
from backend.auth import current_actor, requires
from backend.devices import register
from backend.devices.register import DeviceFilter
from backend.devices.tables import DEVICE_STATUS_LABELS, DeviceStatus
from backend.errors import DomainError
from backend.forms import INT4_MAX, Form, FormError, FormErrors, date_field, fields, integer, text
from backend.reports import exports
from backend.reports.exports import ExportFile, FuFilter
from backend.reports.sheets import FORMATS
from backend.workdays import today
from backend.workorders import planning
from backend.workorders.selection import DATED_BY, OPEN, OrderFilter
from backend.workorders.tables import STATUS_LABELS, TYPE_LABELS, WorkOrderStatus, WorkOrderType

KINDS = {
    "arbetsordrar": dict(title="Arbetsordrar", text="Arbetsordrar med resultat: kontrollpunkter, reservdelar, tid, "
                         "utfall, datum och om servicenivån hölls."),
    "hjalpmedel": dict(title="Hjälpmedel", text="Hjälpmedel med artikel, kategori, serienummer, UDI, status, ägare "
                       "och FU-datum."),
    "fu-status": dict(title="FU-status", text="Varje hjälpmedel med FU: senaste och nästa FU, hur många dagar det "
                      "är försenat och den öppna FU-ordern."),
}
FORMAT_CHOICES = [("xlsx", "Excel (.xlsx)"), ("csv", "CSV, semikolonseparerad (öppnas i Excel med svenska inställningar)")]
ORDER_STATUSES = [(OPEN, "Alla öppna"), *((s.value, STATUS_LABELS[s]) for s in WorkOrderStatus)]
ORDER_TYPES = [(t.value, TYPE_LABELS[t]) for t in WorkOrderType]
DATED_BY_CHOICES = [("mottagen", "Mottagen"), ("slutford", "Slutförd")]
DEVICE_STATUSES = [(s.value, DEVICE_STATUS_LABELS[s]) for s in DeviceStatus]
READ_CHUNK = 1 << 20


def _read(errors: list, read):
    """`read()`, or None with its refusal added to `errors`: a form shows every wrong field at once."""
    try:
        return read()
    except FormError as exc:
        errors.extend(exc.errors)
        return None


def _choice(form: dict, name: str, choices: list[tuple], message: str) -> str | None:
    """One of `choices` (by value), None for none chosen; a value the page does not offer is refused."""
    value = text(form, name, 40)
    if not value:
        return None
    if value not in {str(v) for v, _ in choices}:
        raise FormError(message, name)
    return value


def _optional_id(form: dict, name: str, message: str) -> int | None:
    return integer(form, name, message) if text(form, name, 40) else None


def _refuse(errors: list) -> None:
    if len(errors) > 1:
        raise FormErrors(errors)
    if errors:
        raise FormError(errors[0][1], errors[0][0])


def _format(form: dict, errors: list) -> str | None:
    value = _read(errors, lambda: text(form, "format", 10))
    if value not in FORMATS:
        errors.append(("format", "Välj format: Excel eller CSV."))
        return None
    return value


def _owner(form: dict, errors: list) -> str | None:
    value = _read(errors, lambda: text(form, "agare", 20)) or None
    if value is not None and value != register.HMC_OWNER and not (value.isascii() and value.isdigit()
                                                                  and int(value) <= INT4_MAX):
        errors.append(("agare", "Välj ägare ur listan."))
        return None
    return value


def _ticked(form: dict, name: str) -> bool:
    return text(form, name, 10) == "ja"


def _download(export: ExportFile) -> Stream:
    """The finished file, read from its (nameless) temporary file a megabyte at a time."""
    async def chunks() -> AsyncIterator[bytes]:
        try:
            while chunk := await asyncio.to_thread(export.content.read, READ_CHUNK):
                yield chunk
        finally:
            export.content.close()

    return Stream(chunks(), media_type=export.media_type, headers={
        "content-disposition": f'attachment; filename="{export.filename}"', "content-length": str(export.size)})


def _prefilled(**values: str | None) -> dict:
    """A form filled in from a link's filters (say, from a list): what is no filter's value is left out."""
    return {name: value for name, value in values.items() if value and value.isprintable() and len(value) <= 40}


class ExportController(Controller):
    path = "/admin/export"
    guards = [requires(*STAFF_OVERSIGHT)]

    async def _page(self, request: Request, kind: str | None, form: dict | None = None,
                    error: DomainError | None = None, status: int = 200) -> Template:
        organisation = current_actor(request).organisation
        context = {"kind": kind, "kinds": KINDS, "form": form or {}, "error": error, "formats": FORMAT_CHOICES}
        if kind == "arbetsordrar":
            context.update(statuses=ORDER_STATUSES, types=ORDER_TYPES, dated_by=DATED_BY_CHOICES,
                           technicians=[(t["id"], t["name"]) for t in await planning.technicians(organisation)])
        elif kind:
            context.update(statuses=DEVICE_STATUSES,
                           categories=[(c["id"], c["name"]) for c in await register.category_choices(organisation)],
                           owners=[(register.HMC_OWNER, exports.HMC_NAME),
                                   *((o["id"], o["name"]) for o in await register.owner_choices(organisation))])
        return Template("reports/export.html", context=context, status_code=status)

    @get("/")
    async def index(self, request: Request) -> Template:
        return await self._page(request, None)

    # --- work orders ------------------------------------------------------------------------------

    @get("/arbetsordrar")
    async def work_orders_form(self, request: Request, status: FromQuery[str | None] = None,
                               type: FromQuery[str | None] = None, tekniker: FromQuery[str | None] = None,
                               fran: FromQuery[str | None] = None, till: FromQuery[str | None] = None,
                               datum: FromQuery[str | None] = None) -> Template:
        return await self._page(request, "arbetsordrar", _prefilled(
            status=status, type=type, tekniker=tekniker, fran=fran, till=till, datum=datum))

    @post("/arbetsordrar", status_code=200)
    async def work_orders(self, request: Request, data: Form) -> Response:
        form = fields(data)
        try:
            errors: list = []
            format = _format(form, errors)
            status = _read(errors, lambda: _choice(form, "status", ORDER_STATUSES, "Välj en status ur listan."))
            type = _read(errors, lambda: _choice(form, "type", ORDER_TYPES, "Välj en typ ur listan."))
            technician = _read(errors, lambda: _optional_id(form, "tekniker", "Välj en tekniker ur listan."))
            dated_by = _read(errors, lambda: _choice(form, "datum", DATED_BY_CHOICES, "Välj vilket datum perioden gäller."))
            since = _read(errors, lambda: date_field(form, "fran", required=False))
            until = _read(errors, lambda: date_field(form, "till", required=False))
            with_patients = _read(errors, lambda: _ticked(form, "patienter"))
            _refuse(errors)
            wanted = OrderFilter(status=status, type=type, technician=technician, since=since, until=until,
                                 dated_by=dated_by if dated_by in DATED_BY else "mottagen")
            export = await exports.export_work_orders(current_actor(request), wanted, format,
                                                      with_patients=with_patients, today=today())
        except DomainError as exc:
            return await self._page(request, "arbetsordrar", form, exc, 400)
        return _download(export)

    # --- devices ----------------------------------------------------------------------------------

    @get("/hjalpmedel")
    async def devices_form(self, request: Request, kategori: FromQuery[str | None] = None,
                           status: FromQuery[str | None] = None, agare: FromQuery[str | None] = None) -> Template:
        return await self._page(request, "hjalpmedel", _prefilled(kategori=kategori, status=status, agare=agare))

    @post("/hjalpmedel", status_code=200)
    async def devices(self, request: Request, data: Form) -> Response:
        form = fields(data)
        try:
            errors: list = []
            format = _format(form, errors)
            category = _read(errors, lambda: _optional_id(form, "kategori", "Välj en kategori ur listan."))
            status = _read(errors, lambda: _choice(form, "status", DEVICE_STATUSES, "Välj en status ur listan."))
            owner = _owner(form, errors)
            with_patients = _read(errors, lambda: _ticked(form, "patienter"))
            _refuse(errors)
            export = await exports.export_devices(current_actor(request),
                                                  DeviceFilter(category=category, status=status, owner=owner),
                                                  format, with_patients=with_patients, today=today())
        except DomainError as exc:
            return await self._page(request, "hjalpmedel", form, exc, 400)
        return _download(export)

    # --- FU status --------------------------------------------------------------------------------

    @get("/fu-status")
    async def fu_status_form(self, request: Request, kategori: FromQuery[str | None] = None,
                             agare: FromQuery[str | None] = None) -> Template:
        return await self._page(request, "fu-status", _prefilled(kategori=kategori, agare=agare))

    @post("/fu-status", status_code=200)
    async def fu_status(self, request: Request, data: Form) -> Response:
        form = fields(data)
        try:
            errors: list = []
            format = _format(form, errors)
            category = _read(errors, lambda: _optional_id(form, "kategori", "Välj en kategori ur listan."))
            owner = _owner(form, errors)
            overdue_only = _read(errors, lambda: _ticked(form, "forsenade"))
            _refuse(errors)
            export = await exports.export_fu_status(current_actor(request),
                                                    FuFilter(category=category, owner=owner, overdue_only=overdue_only),
                                                    format, today=today())
        except DomainError as exc:
            return await self._page(request, "fu-status", form, exc, 400)
        return _download(export)
