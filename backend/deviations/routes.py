"""Deviations: the technician's from a visit (/besok/<order>/avvikelse, through the outbox) and the
coordinator's pages (/avvikelser: the list, raising one from an order or a device, the case, the
report for Läkemedelsverket and the manufacturer as PDF and JSON)."""

from __future__ import annotations

from datetime import date

from litestar import Controller, Request, get, post
from litestar.datastructures import UploadFile
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Response, Template

from backend.accounts.tables import Role
from backend.auth import current_actor, requires
from backend.deviations import report as documents
from backend.deviations import service as deviations
from backend.devices import register
from backend.devices.service import DeviceNotFound
from backend.errors import DomainError
from backend.forms import EARLIEST_DATE, INT4_MAX, LATEST_DATE, Form, fields, text
from backend.photos import MAX_UPLOAD_BYTES, Photo, PhotoRejected, clean_photo
from backend.sync import service as sync
from backend.sync.middleware import delivery_of, idempotent_writes, key_reused, replayed
from backend.web import BadInput, error_page
from backend.workdays import today
from backend.workorders.service import NotAssigned, WorkOrderNotFound

PRIVATE = {"cache-control": "private, no-store"}
# The form's photo and caption, named apart from the visit's own photo form on the same page.
PHOTO, CAPTION = "deviation_photo", "deviation_caption"
UPLOAD_LIMIT = MAX_UPLOAD_BYTES + 2 * 1024 * 1024
NOTICES = {"rapporterad": "Avvikelsen är registrerad.", "sparad": "Ärendet är sparat."}
FIELD_LABELS = deviations.FIELD_LABELS


def _form_fields(data: dict) -> dict:
    """The submitted text fields (the photo apart), as the outbox sent them: what a kept
    submission keeps."""
    return {k: v for k, v in fields(data).items()
            if k != PHOTO and (isinstance(v, str) or (isinstance(v, list) and all(isinstance(x, str) for x in v)))}


async def _upload(data: dict) -> bytes | None:
    upload = data.get("deviation_photo")  # PHOTO, spelled out so the hostile-input suite finds the field
    if not isinstance(upload, UploadFile):
        return None
    content = await upload.read(MAX_UPLOAD_BYTES + 1)
    return content or None


async def _either_form(request: Request) -> dict:
    """The posted form, multipart or url-encoded: the outbox sends a deviation without a photo
    url-encoded (as the form itself would), and its CSRF token in a header, so the body is read
    here rather than declared as one kind. Repeated fields become lists, as in `fields`."""
    posted = await request.form()
    return {name: values if len(values) > 1 else values[0] for name, values in posted.dict().items()}


async def _cleaned(content: bytes | None) -> Photo | None:
    """The photo checked and cleaned like every stored photo; a refusal names this form's field."""
    if content is None:
        return None
    try:
        return await clean_photo(content)
    except PhotoRejected as exc:
        raise PhotoRejected(exc.message, PHOTO) from None


def _choices() -> dict:
    return {"consequences": list(deviations.CONSEQUENCE_LABELS.items()),
            "classifications": list(deviations.CLASSIFICATION_LABELS.items()),
            "statuses": list(deviations.STATUS_LABELS.items()), "deadline_days": deviations.DEADLINE_DAYS,
            "max_photo_mb": MAX_UPLOAD_BYTES // (1024 * 1024), "today": today()}


class VisitDeviationController(Controller):
    """A technician's deviation from the visit, through the outbox: applied at most once."""

    path = "/besok"
    guards = [requires(Role.technician)]
    middleware = [idempotent_writes]

    @post("/{order_id:int}/avvikelse", request_max_body_size=UPLOAD_LIMIT, exception_handlers={413: error_page})
    async def raise_deviation(self, request: Request, order_id: FromPath[int]) -> Response:
        actor = current_actor(request)
        data = await _either_form(request)
        form, content = _form_fields(data), await _upload(data)

        async def apply() -> str:
            photo = await _cleaned(content)
            await deviations.raise_from_visit(actor, order_id, form, photo)
            return f"/besok/{order_id}?klart=avvikelse#avvikelse"

        try:
            outcome = await sync.apply_or_keep(actor, delivery_of(request.scope), work_order_id=order_id, fields=form,
                                               photo=content, base_version=None, apply=apply)
        except WorkOrderNotFound:
            raise NotFoundException() from None
        except sync.KeyReused:
            return key_reused()
        except NotAssigned as exc:
            return self._refused(form, exc, kept=False)
        except DomainError as exc:
            return Template("deviations/visit_refused.html", status_code=400, context={
                **_choices(), "order_id": order_id, "error": exc, "form": form})
        if isinstance(outcome, sync.Replayed):
            return replayed(outcome.receipt)
        if isinstance(outcome, sync.Kept):
            return self._refused(form, outcome.reason, kept=True)
        return Redirect(outcome.location, status_code=303)

    @staticmethod
    def _refused(form: dict, exc: DomainError, *, kept: bool) -> Template:
        shown = [(FIELD_LABELS.get(name, name), _shown(value)) for name, value in form.items() if _shown(value)]
        return Template("workorders/refused.html", context={
            "message": exc.message, "kept": shown, "kept_as_conflict": kept}, status_code=409 if kept else 403)


def _month(value: str | None) -> date | None:
    if not value:
        return None
    try:
        month = date.fromisoformat(f"{value}-01")
    except ValueError:
        raise BadInput("Skriv månaden som 2026-03.") from None
    if not EARLIEST_DATE <= month <= LATEST_DATE:
        raise BadInput(f"Välj en månad mellan {EARLIEST_DATE.year} och {LATEST_DATE.year}.")
    return month


def _shown(value: object) -> str:
    """A submitted value as it can be shown back (the last of repeated ones; unreadable ones empty)."""
    if isinstance(value, list):
        value = value[-1] if value else ""
    if not isinstance(value, str):
        return ""
    try:
        return text({"v": value}, "v", 8000)
    except DomainError:
        return ""


def _id(value: str, message: str) -> int:
    if not value.isdigit() or int(value) > INT4_MAX:
        raise BadInput(message)
    return int(value)


class DeviationController(Controller):
    """The coordinator's deviations: every one in the organisation."""

    path = "/avvikelser"
    guards = [requires(Role.coordinator, Role.admin)]

    @get("/")
    async def list(self, request: Request, status: FromQuery[str | None] = None,
                   manad: FromQuery[str | None] = None) -> Template:
        if status and status not in deviations.STATUS_LABELS:
            raise BadInput("Välj en status i listan.")
        month = _month(manad)
        rows = await deviations.list_deviations(current_actor(request), status=status or None, month=month)
        return Template("deviations/list.html", context={
            **_choices(), "deviations": rows, "status": status or "", "month": manad if month else ""})

    async def _origin(self, request: Request, arbetsorder: str, hjalpmedel: str) -> dict:
        """What the new deviation is raised from: an order (its device and patient) or a device."""
        actor = current_actor(request)
        try:
            if arbetsorder:
                order = await deviations.order_for_deviation(
                    actor, _id(arbetsorder, "Arbetsordern finns inte."))
                device_id = order["device"]
            elif hjalpmedel:
                order, device_id = None, await register.device_id(actor.organisation, hjalpmedel)
            else:
                raise BadInput("Öppna en arbetsorder eller ett hjälpmedel och rapportera avvikelsen därifrån.")
        except (WorkOrderNotFound, DeviceNotFound):
            raise NotFoundException() from None
        registered = await deviations.device_identity(actor, device_id)
        return {"order": order, "device_id": device_id, "registered": registered,
                "arbetsorder": str(order["id"]) if order else "", "hjalpmedel": registered["individnummer"]}

    @get("/ny")
    async def new(self, request: Request, arbetsorder: FromQuery[str | None] = None,
                  hjalpmedel: FromQuery[str | None] = None) -> Template:
        origin = await self._origin(request, _shown(arbetsorder or ""), _shown(hjalpmedel or ""))
        identity = deviations.identity_of(origin["registered"])
        form = {**{name: getattr(identity, name) for name in deviations.IDENTITY_FIELDS},
                "manufacturing_date": identity.manufacturing_date.isoformat() if identity.manufacturing_date else "",
                "occurred_on": today().isoformat()}
        return Template("deviations/new.html", context={**_choices(), **origin, "form": form, "error": None})

    @post("/ny", request_max_body_size=UPLOAD_LIMIT)
    async def create(self, request: Request) -> Response:
        actor = current_actor(request)
        data = await _either_form(request)
        form, content = _form_fields(data), await _upload(data)
        origin = await self._origin(request, text(form, "arbetsorder", 40), text(form, "hjalpmedel", 40))
        try:
            errors: list = []
            event = deviations.read_event(form, errors, today())
            identity = deviations.read_identity(form, errors)
            caption = text(form, CAPTION, 300)
            deviations.refuse_any(errors)
            photo = await _cleaned(content)
            order = origin["order"]
            created = await deviations.raise_deviation(
                actor, device_id=origin["device_id"], event=event, keep_device=deviations.keeps_device(form),
                work_order_id=order["id"] if order else None, patient_id=order["patient"] if order else None,
                identity=identity, photo=photo, caption=caption)
        except DomainError as exc:
            return Template("deviations/new.html", status_code=400, context={
                **_choices(), **origin, "form": form, "error": exc})
        return Redirect(f"/avvikelser/{created['id']}?klart=rapporterad", status_code=303)

    async def _case(self, request: Request, deviation_id: int, *, error: DomainError | None = None,
                    form: dict | None = None, notice: str | None = None, status: int = 200) -> Template:
        try:
            found = await deviations.case(current_actor(request), deviation_id)
        except deviations.DeviationNotFound:
            raise NotFoundException() from None
        if form is None:
            form = {k: found[k] for k in ("description", "consequence", "classification", "investigation", "status",
                                          "authority_reference", "manufacturer_reference",
                                          *deviations.IDENTITY_FIELDS)}
            form.update(occurred_on=found["occurred_on"].isoformat(), aware_on=found["aware_on"].isoformat(),
                        manufacturing_date=found["manufacturing_date"].isoformat()
                        if found["manufacturing_date"] else "",
                        serious={True: "ja", False: "nej"}.get(found["serious_harm"], ""),
                        version=str(found["version"]), classification=found["classification"] or "")
        return Template("deviations/case.html", status_code=status, headers=PRIVATE, context={
            **_choices(), "d": found, "form": form, "error": error, "notice": notice})

    @get("/{deviation_id:int}")
    async def case(self, request: Request, deviation_id: FromPath[int],
                   klart: FromQuery[str | None] = None) -> Template:
        return await self._case(request, deviation_id, notice=NOTICES.get(klart or ""))

    @post("/{deviation_id:int}")
    async def update(self, request: Request, deviation_id: FromPath[int], data: Form) -> Response:
        form = fields(data)
        try:
            version, update = deviations.read_case(form)
            await deviations.update_case(current_actor(request), deviation_id, version, update)
        except deviations.DeviationNotFound:
            raise NotFoundException() from None
        except deviations.DeviationChanged as exc:
            return await self._case(request, deviation_id, error=exc, form=form, status=409)
        except DomainError as exc:
            return await self._case(request, deviation_id, error=exc, form={k: _shown(form[k]) for k in form},
                                    status=400)
        return Redirect(f"/avvikelser/{deviation_id}?klart=sparad", status_code=303)

    async def _report(self, request: Request, deviation_id: int) -> dict:
        try:
            return await deviations.report(current_actor(request), deviation_id)
        except deviations.DeviationNotFound:
            raise NotFoundException() from None

    @get("/{deviation_id:int}/rapport.pdf")
    async def report_pdf(self, request: Request, deviation_id: FromPath[int]) -> Response:
        content = await self._report(request, deviation_id)
        return Response(documents.report_pdf(content), media_type="application/pdf", headers={
            **PRIVATE, "content-disposition": f'attachment; filename="{content["report"]["centre_reference"]}.pdf"'})

    @get("/{deviation_id:int}/rapport.json")
    async def report_json(self, request: Request, deviation_id: FromPath[int]) -> Response:
        content = await self._report(request, deviation_id)
        return Response(documents.report_json(content), media_type="application/json", headers={
            **PRIVATE, "content-disposition": f'attachment; filename="{content["report"]["centre_reference"]}.json"'})

    @get("/{deviation_id:int}/foton/{photo_id:int}")
    async def photo(self, request: Request, deviation_id: FromPath[int], photo_id: FromPath[int]) -> Response:
        try:
            content, content_type = await deviations.photo(current_actor(request), deviation_id, photo_id)
        except deviations.DeviationNotFound:
            raise NotFoundException() from None
        return Response(content, media_type=content_type, headers={"cache-control": "private, max-age=86400"})
