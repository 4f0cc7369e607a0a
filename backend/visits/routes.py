"""The technician's pages: the day, one visit, and every action on a visit.

Each action is a plain form post to its own URL, so the offline outbox can replay it
later. A refused post re-renders the visit with the message next to the field and what
was typed still in the form.
"""

from __future__ import annotations

from datetime import date, timedelta

from litestar import Controller, Request, get, post
from litestar.datastructures import UploadFile
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Response, Template

from backend.accounts.tables import Role
from backend.audit.service import record_patient_reads
from backend.auth import current_actor, requires
from backend.devices import service as devices
from backend.deviations import service as deviation_labels
from backend.errors import DomainError
from backend.forms import Form, FormError, MultipartForm, date_field, decimal, fields, text
from backend.maintenance import service as maintenance
from backend.photos import MAX_UPLOAD_BYTES
from backend.routing import kpi as driving
from backend.routing import views as routes_of_days
from backend.sync import service as sync
from backend.sync.middleware import delivery_of, idempotent_writes, key_reused, replayed
from backend.visits import service as visits
from backend.visits.service import ACTION_LABELS, ACTIONS, kept_fields, version_or_none
from backend.web import BadInput, error_page
from backend.workdays import today
from backend.workorders import service
from backend.workorders.service import NotAssigned, OrderMovedOn, WorkOrderNotFound

NOTICES = {
    "startad": "Besöket är påbörjat.",
    "pausad": "Besöket är pausat.",
    "klar": "Besöket är slutfört.",
    "ej-utford": "Besöket är markerat som ej utfört. Samordnaren tar över.",
    "checklista": "Checklistan är sparad.",
    "beslut": "Beslutet är sparat.",
    "del": "Reservdelen är tillagd.",
    "tid": "Tiden är sparad.",
    "rapport": "Rapporten är sparad.",
    "anteckning": "Anteckningen är sparad.",
    "foto": "Fotot är sparat.",
    "avvikelse": "Avvikelsen är registrerad. Samordnaren tar hand om rapporteringen.",
}


PHOTO_TOO_LARGE = "foto-for-stort"


def photo_too_large(request: Request, exc: Exception) -> Response:
    """A photo so large that the request was stopped before it was read: back to the visit,
    with the message next to the photo field. The outbox (a keyed write) gets the plain 413,
    which it shows as refused, so nothing is taken off the phone as if it had been saved."""
    if request.headers.get("idempotency-key"):
        return error_page(request, exc)
    order_id = request.path_params.get("order_id")
    return Redirect(f"/besok/{order_id}?fel={PHOTO_TOO_LARGE}#foton", status_code=303)


class DayController(Controller):
    path = "/min-dag"
    guards = [requires(Role.technician)]

    @get("/")
    async def day(self, request: Request, dag: FromQuery[str | None] = None,
                  klart: FromQuery[str | None] = None) -> Template:
        current = today()
        try:
            day = date.fromisoformat(dag) if dag else current
        except ValueError:
            raise BadInput("Datumet ska skrivas som 2026-03-01.") from None
        return await self._day_page(request, day, notice="Körda km är sparade." if klart == "km" else None)

    async def _day_page(self, request: Request, day: date, *, error: DomainError | None = None,
                        form: dict | None = None, notice: str | None = None, status: int = 200) -> Template:
        current = today()
        actor = current_actor(request)
        day_visits = await service.technician_day(actor.id, actor.organisation, day, current)
        await record_patient_reads(actor, [v["patient"] for v in day_visits if v["patient"]], "day_list")
        upcoming = None if day_visits else await service.next_day_with_visits(actor.id, day)
        # The route: estimated arrivals and km from the previous stop (routing.days, the board's
        # reading of the plan); and the km driven, which the technician may enter for recent days.
        route = await routes_of_days.technician_route(actor.organisation, actor.id, day) if day_visits else None
        mileage_open = current - timedelta(days=driving.MILEAGE_DAYS_BACK) <= day <= current
        return Template("workorders/day.html", status_code=status, context={
            "visits": day_visits, "day": day, "today": current, "upcoming": upcoming,
            "previous": day - timedelta(days=1), "next": day + timedelta(days=1), "route": route,
            "mileage_open": mileage_open, "mileage": await driving.mileage(actor.id, day) if mileage_open else None,
            "error": error, "form": form or {}, "notice": notice,
        })

    @post("/korda-km")
    async def enter_mileage(self, request: Request, data: Form) -> Response:
        """The km driven on a day ("Körda km idag"), from the day page through the outbox. Entering
        again replaces the figure, so a delivery the phone repeats changes nothing."""
        actor = current_actor(request)
        form = fields(data)
        try:
            day = date_field(form, "dag")
            km = decimal(form, "km", "Skriv antalet km som en siffra, t.ex. 84 eller 84,5.")
            await driving.enter_mileage(actor.id, actor.organisation, day, km, today=today())
        except DomainError as exc:
            shown = today()
            try:
                shown = date_field(form, "dag")
            except DomainError:
                pass
            return await self._day_page(request, shown, error=exc, status=400,
                                        form={"km": text(form, "km", 40)})
        location = f"/min-dag?dag={day.isoformat()}&klart=km#korda-km"
        if "application/json" in request.headers.get("accept", ""):
            return Response({"location": location}, status_code=200)  # the outbox's acknowledgement
        return Redirect(location, status_code=303)

    @get("/forhandsladdning", cache=False)
    async def day_ahead(self, request: Request) -> Response:
        """The pages today's visits need offline, for the phone to fetch and keep until the day is over."""
        actor = current_actor(request)
        day = today()
        urls = await visits.day_ahead(actor.id, actor.organisation, day)
        return Response({"day": day.isoformat(), "urls": urls}, headers={"cache-control": "no-store"})


class VisitController(Controller):
    """One visit (/besok/<order id>) and the technician's actions on it."""

    path = "/besok"
    guards = [requires(Role.technician)]
    middleware = [idempotent_writes]  # the outbox's deliveries are applied at most once

    async def _page(self, request: Request, order_id: int, *, error: DomainError | None = None,
                    form: dict | None = None, failed: str | None = None, status: int = 200,
                    notice: str | None = None) -> Template:
        try:
            data = await visits.visit(current_actor(request), order_id)
        except WorkOrderNotFound:
            raise NotFoundException() from None
        return Template("workorders/visit.html", context={
            **data, "error": error, "form": form or {}, "failed": failed, "notice": notice,
            "answer_labels": maintenance.ANSWER_LABELS, "decision_labels": maintenance.DECISION_LABELS,
            "outcomes": [(o.value, label) for o, label in service.OUTCOME_LABELS.items()],
            "not_completed_reasons": [(r.value, label) for r, label in service.NOT_COMPLETED_LABELS.items()],
            "max_photo_mb": MAX_UPLOAD_BYTES // (1024 * 1024), "action_labels": ACTION_LABELS,
            "consequences": list(deviation_labels.CONSEQUENCE_LABELS.items()),  # the deviation form
        }, status_code=status)

    async def _run(self, request: Request, order_id: int, slug: str, form: dict,
                   photo: bytes | None = None) -> Response:
        """Run the visit action `slug` through sync.apply_or_keep (a write from the outbox is
        applied at most once, or kept in full as a conflict when the order had moved on); on a
        refusal re-render the visit with the message and the input kept."""
        action = ACTIONS[slug]
        failed = action.anchor_for(form)
        actor = current_actor(request)
        new_version: list[int | None] = [None]

        async def apply() -> str:
            new_version[0] = await action.run(actor, order_id, form, photo)
            # A change to the order says its new version, so the outbox can base the phone's next
            # change on it (its own change, not someone else's).
            version = f"&v={new_version[0]}" if isinstance(new_version[0], int) else ""
            return f"/besok/{order_id}?klart={action.notice}{version}#{failed}"

        delivery = delivery_of(request.scope)
        try:
            outcome = await sync.apply_or_keep(actor, delivery, work_order_id=order_id, fields=form, photo=photo,
                                               base_version=version_or_none(form), apply=apply)
        except WorkOrderNotFound:
            raise NotFoundException() from None
        except sync.KeyReused:
            return key_reused()
        except NotAssigned as exc:
            return self._refused(slug, form, exc, kept=False)
        except OrderMovedOn as exc:
            return await self._page(request, order_id, error=exc, form=form, failed=failed,
                                    status=409)
        except DomainError as exc:
            return await self._page(request, order_id, error=exc, form=form, failed=failed, status=400)
        if isinstance(outcome, sync.Replayed):
            return replayed(outcome.receipt)
        if isinstance(outcome, sync.Kept):
            if isinstance(outcome.reason, NotAssigned):
                return self._refused(slug, form, outcome.reason, kept=True)
            return await self._page(request, order_id, error=outcome.reason, form=form,
                                    failed=failed, status=409)
        return Redirect(outcome.location, status_code=303)

    @staticmethod
    def _refused(slug: str, form: dict, exc: NotAssigned, *, kept: bool) -> Template:
        """The visit is no longer theirs: no visit page to show, only what was sent (and kept)."""
        return Template("workorders/refused.html", context={
            "message": exc.message, "kept": kept_fields(slug, form), "kept_as_conflict": kept},
            status_code=409 if kept else 403)

    @get("/reservdelar")
    async def spare_parts(self, request: Request) -> Template:
        """The parts list for the parts field; the same for every visit, so the browser keeps it an hour."""
        parts = await devices.spare_parts(current_actor(request).organisation)
        return Template("workorders/_spare_parts.html", context={"spare_parts": parts},
                        headers={"cache-control": "private, max-age=3600"})

    @get("/{order_id:int}")
    async def visit(self, request: Request, order_id: FromPath[int], klart: FromQuery[str | None] = None,
                    fel: FromQuery[str | None] = None) -> Template:
        if fel == PHOTO_TOO_LARGE:
            return await self._page(request, order_id, error=FormError(
                f"Bilden är större än {MAX_UPLOAD_BYTES // (1024 * 1024)} MB och kunde inte tas emot. Ta ett nytt "
                "foto med lägre upplösning eller välj en mindre bild.", "photo"), failed="foton")
        return await self._page(request, order_id, notice=NOTICES.get(klart or ""))

    # One handler per action, so each URL is a route of its own (and a row in the access table).
    @post("/{order_id:int}/starta")
    async def start(self, request: Request, order_id: FromPath[int], data: Form) -> Response:
        return await self._run(request, order_id, "starta", fields(data))

    @post("/{order_id:int}/pausa")
    async def pause(self, request: Request, order_id: FromPath[int], data: Form) -> Response:
        return await self._run(request, order_id, "pausa", fields(data))

    @post("/{order_id:int}/slutfor")
    async def complete(self, request: Request, order_id: FromPath[int], data: Form) -> Response:
        return await self._run(request, order_id, "slutfor", fields(data))

    @post("/{order_id:int}/ej-utford")
    async def not_completed(self, request: Request, order_id: FromPath[int], data: Form) -> Response:
        return await self._run(request, order_id, "ej-utford", fields(data))

    @post("/{order_id:int}/checklista")
    async def checklist(self, request: Request, order_id: FromPath[int], data: Form) -> Response:
        return await self._run(request, order_id, "checklista", fields(data))

    @post("/{order_id:int}/sakerhetsbeslut")
    async def safety_decision(self, request: Request, order_id: FromPath[int], data: Form) -> Response:
        return await self._run(request, order_id, "sakerhetsbeslut", fields(data))

    @post("/{order_id:int}/delar")
    async def add_part(self, request: Request, order_id: FromPath[int], data: Form) -> Response:
        return await self._run(request, order_id, "delar", fields(data))

    @post("/{order_id:int}/tid")
    async def add_time(self, request: Request, order_id: FromPath[int], data: Form) -> Response:
        return await self._run(request, order_id, "tid", fields(data))

    @post("/{order_id:int}/rapport")
    async def add_report(self, request: Request, order_id: FromPath[int], data: Form) -> Response:
        return await self._run(request, order_id, "rapport", fields(data))

    @post("/{order_id:int}/anteckning")
    async def add_note(self, request: Request, order_id: FromPath[int], data: Form) -> Response:
        return await self._run(request, order_id, "anteckning", fields(data))

    @post("/{order_id:int}/foton", request_max_body_size=MAX_UPLOAD_BYTES + 2 * 1024 * 1024,
          exception_handlers={413: photo_too_large})
    async def add_photo(self, request: Request, order_id: FromPath[int], data: MultipartForm) -> Response:
        upload = data.get("photo")
        content = await upload.read(MAX_UPLOAD_BYTES + 1) if isinstance(upload, UploadFile) else None
        return await self._run(request, order_id, "foton", {"caption": text(data, "caption", 300)}, content)


class ProtocolController(Controller):
    path = "/protokoll"
    guards = [requires(Role.technician, Role.coordinator, Role.admin)]

    @get("/{order_id:int}")
    async def protocol(self, request: Request, order_id: FromPath[int]) -> Template:
        try:
            data = await visits.protocol(current_actor(request), order_id)
        except WorkOrderNotFound:
            raise NotFoundException() from None
        return Template("workorders/protocol.html", context={
            **data, "answer_labels": maintenance.ANSWER_LABELS, "decision_labels": maintenance.DECISION_LABELS})


class PhotoController(Controller):
    path = "/foton"
    guards = [requires(Role.technician, Role.coordinator, Role.admin)]

    @get("/{photo_id:int}")
    async def photo(self, request: Request, photo_id: FromPath[int]) -> Response:
        try:
            content, content_type = await visits.photo(current_actor(request), photo_id)
        except WorkOrderNotFound:
            raise NotFoundException() from None
        # Photos may show a patient's home: never in a shared cache.
        return Response(content, media_type=content_type, headers={"cache-control": "private, max-age=86400"})
