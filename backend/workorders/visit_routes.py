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
from backend.forms import Form, FormError, FormErrors, MultipartForm, decimal, fields, integer, text
from backend.devices import service as devices
from backend.maintenance import service as maintenance
from backend.maintenance.service import Answer, ChecklistError
from backend.photos import MAX_UPLOAD_BYTES, PhotoRejected, clean_photo
from backend.sync import service as sync
from backend.sync.middleware import idempotent_writes
from backend.web import BadInput
from backend.workdays import today
from backend.workorders import service, visits
from backend.workorders.service import NotAssigned, VersionConflict, WorkOrderError, WorkOrderNotFound

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
}


# Field names as the technician knows them, for showing back what a refused post contained.
FIELD_LABELS = {
    "outcome": "Resultat", "reason": "Anledning", "detail": "Mer om varför",
    "message_to_orderer": "Meddelande till beställaren", "article": "Artikel", "quantity": "Antal",
    "minutes": "Minuter", "fault_found": "Fel som hittades", "action_taken": "Åtgärd som gjordes",
    "note": "Anteckning", "caption": "Bildtext", "item": "Punkt",
}


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
        day_visits = await service.technician_day(actor.id, actor.organisation, day, current)
        await record_patient_reads(actor, [v["patient"] for v in day_visits if v["patient"]], "day_list")
        upcoming = None if day_visits else await service.next_day_with_visits(actor.id, day)
        return Template("workorders/day.html", context={
            "visits": day_visits, "day": day, "today": current, "upcoming": upcoming,
            "previous": day - timedelta(days=1), "next": day + timedelta(days=1),
        })


    @get("/forhandsladdning", cache=False)
    async def day_ahead(self, request: Request) -> Response:
        """The pages today's visits need offline, for the phone to fetch and keep until the day is over."""
        actor = current_actor(request)
        day = today()
        urls = await service.day_ahead(actor.id, actor.organisation, day)
        return Response({"day": day.isoformat(), "urls": urls}, headers={"cache-control": "no-store"})


def _version(form: dict) -> int:
    try:
        return int(text(form, "version"))
    except ValueError:
        raise FormError("Sidan saknar arbetsorderns version. Ladda om sidan och försök igen.") from None


def _version_or_none(form: dict) -> int | None:
    try:
        return int(text(form, "version"))
    except ValueError:
        return None


def _answers(form: dict, checklist: maintenance.Checklist) -> list[Answer]:
    """The checklist form: item-<key> is the answer, -value the measurement, -comment the comment.
    Items left unanswered are skipped, so a checklist can be saved part by part."""
    answers, errors = [], []
    for item in checklist.items:
        name = f"item-{item.key}"
        choice = text(form, name)
        if not choice:
            continue
        try:
            value = decimal(form, f"{name}-value", "Skriv mätvärdet som ett tal, till exempel 24,5.",
                            required=False) if item.measurement else None
        except FormError as exc:
            errors.append((exc.field, exc.message))
            continue
        answers.append(Answer(item.key, choice, value, text(form, f"{name}-comment", 1000)))
    if errors:
        raise FormErrors(errors)
    return answers


def _decisions(form: dict, checklist: maintenance.Checklist) -> dict[str, tuple[str, str]]:
    """Decisions made in the checklist itself (decision-<key>) for safety items failed in it."""
    found = {}
    for item in checklist.items:
        name = f"decision-{item.key}"
        if item.safety_critical and text(form, f"item-{item.key}") == "fail" and text(form, name):
            found[item.key] = (text(form, name), text(form, f"{name}-comment", 1000))
    return found


def _expected_writes(form: dict) -> int | None:
    """How many earlier changes to the visit the phone made before completing it (the outbox fills it in)."""
    value = text(form, "expected_writes")
    return int(value) if value.isdigit() else None


class VisitController(Controller):
    """One visit (/besok/<order id>) and the technician's actions on it."""

    path = "/besok"
    guards = [requires(Role.technician)]
    middleware = [idempotent_writes]  # the outbox's deliveries are applied at most once

    async def _page(self, request: Request, order_id: int, *, error: FormError | None = None,
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
            "max_photo_mb": MAX_UPLOAD_BYTES // (1024 * 1024),
        }, status_code=status)

    async def _act(self, request: Request, order_id: int, form: dict, failed: str, notice: str, action,
                   photo: bytes | None = None) -> Response:
        """Run `action`; on a refusal re-render the visit with the message and the input kept.

        A refused write from the outbox (it carries an Idempotency-Key) is also kept on the
        server in full, as a conflict for a person to resolve."""
        try:
            new_version = await action()
        except WorkOrderNotFound:
            raise NotFoundException() from None
        except (NotAssigned, VersionConflict, service.NotOpen, service.WritesMissing) as exc:
            key = request.headers.get("idempotency-key")
            if key:
                await sync.record_conflict(actor=current_actor(request), work_order_id=order_id, key=key,
                                           path=request.url.path, fields=form, message=exc.message,
                                           base_version=_version_or_none(form), photo=photo)
            if isinstance(exc, NotAssigned):
                kept = [(FIELD_LABELS.get(name, name.removeprefix("item-")), value) for name, value in form.items()
                        if name != "version" and value]
                return Template("workorders/refused.html", context={"message": exc.message, "kept": kept},
                                status_code=409 if key else 403)
            return await self._page(request, order_id, error=FormError(exc.message), form=form, failed=failed,
                                    status=409)
        except (WorkOrderError, ChecklistError) as exc:
            return await self._page(request, order_id, error=FormError(exc.message, exc.field), form=form,
                                    failed=failed, status=400)
        except FormError as exc:
            return await self._page(request, order_id, error=exc, form=form, failed=failed, status=400)
        # A change to the order says its new version, so the outbox can base the phone's next
        # change on it (its own change, not someone else's).
        version = f"&v={new_version}" if isinstance(new_version, int) else ""
        return Redirect(f"/besok/{order_id}?klart={notice}{version}#{failed}", status_code=303)

    @get("/reservdelar")
    async def spare_parts(self, request: Request) -> Template:
        """The parts list for the parts field; the same for every visit, so the browser keeps it an hour."""
        parts = await devices.spare_parts(current_actor(request).organisation)
        return Template("workorders/_spare_parts.html", context={"spare_parts": parts},
                        headers={"cache-control": "private, max-age=3600"})

    @get("/{order_id:int}")
    async def visit(self, request: Request, order_id: FromPath[int], klart: FromQuery[str | None] = None) -> Template:
        return await self._page(request, order_id, notice=NOTICES.get(klart or ""))

    @post("/{order_id:int}/starta")
    async def start(self, request: Request, order_id: FromPath[int], data: Form) -> Response:
        form = fields(data)
        actor = current_actor(request)
        return await self._act(request, order_id, form, "status", "startad",
                               lambda: visits.start_visit(actor, order_id, _version(form)))

    @post("/{order_id:int}/pausa")
    async def pause(self, request: Request, order_id: FromPath[int], data: Form) -> Response:
        form = fields(data)
        actor = current_actor(request)
        return await self._act(request, order_id, form, "status", "pausad",
                               lambda: visits.pause_visit(actor, order_id, _version(form), text(form, "reason", 500)))

    @post("/{order_id:int}/slutfor")
    async def complete(self, request: Request, order_id: FromPath[int], data: Form) -> Response:
        form = fields(data)
        actor = current_actor(request)
        return await self._act(request, order_id, form, "slutfor", "klar",
                               lambda: visits.complete_visit(actor, order_id, _version(form), text(form, "outcome"),
                                                                            _expected_writes(form)))

    @post("/{order_id:int}/ej-utford")
    async def not_completed(self, request: Request, order_id: FromPath[int], data: Form) -> Response:
        form = fields(data)
        actor = current_actor(request)
        return await self._act(request, order_id, form, "ej-utford", "ej-utford", lambda: visits.could_not_complete(
            actor, order_id, _version(form), text(form, "reason"), text(form, "detail", 1000),
            text(form, "message_to_orderer", 2000)))

    @post("/{order_id:int}/checklista")
    async def checklist(self, request: Request, order_id: FromPath[int], data: Form) -> Response:
        form = fields(data)
        actor = current_actor(request)

        async def save() -> None:
            checklist = await maintenance.checklist_for_order(order_id)
            if checklist is None:
                raise WorkOrderError("Det finns ingen checklista för den här arbetsordern.")
            await visits.save_checklist(actor, order_id, _answers(form, checklist), _decisions(form, checklist))

        return await self._act(request, order_id, form, "checklista", "checklista", save)

    @post("/{order_id:int}/sakerhetsbeslut")
    async def safety_decision(self, request: Request, order_id: FromPath[int], data: Form) -> Response:
        form = fields(data)
        actor = current_actor(request)
        item = text(form, "item", 60)
        return await self._act(request, order_id, form, f"beslut-{item}", "beslut", lambda: visits.decide_on_safety_item(
            actor, order_id, item, text(form, f"decision-{item}"), text(form, f"decision-{item}-comment", 1000)))

    @post("/{order_id:int}/delar")
    async def add_part(self, request: Request, order_id: FromPath[int], data: Form) -> Response:
        form = fields(data)
        actor = current_actor(request)
        return await self._act(request, order_id, form, "delar", "del", lambda: visits.add_part(
            actor, order_id, text(form, "article", 300),
            integer(form, "quantity", "Antalet ska vara ett heltal från 1 till 999.")))

    @post("/{order_id:int}/tid")
    async def add_time(self, request: Request, order_id: FromPath[int], data: Form) -> Response:
        form = fields(data)
        actor = current_actor(request)
        return await self._act(request, order_id, form, "tid", "tid", lambda: visits.add_time(
            actor, order_id, integer(form, "minutes", "Skriv tiden i hela minuter, till exempel 45.")))

    @post("/{order_id:int}/rapport")
    async def add_report(self, request: Request, order_id: FromPath[int], data: Form) -> Response:
        form = fields(data)
        actor = current_actor(request)
        report = visits.RepairReport(text(form, "fault_found", 2000), text(form, "action_taken", 2000))
        return await self._act(request, order_id, form, "rapport", "rapport",
                               lambda: visits.add_report(actor, order_id, report))

    @post("/{order_id:int}/anteckning")
    async def add_note(self, request: Request, order_id: FromPath[int], data: Form) -> Response:
        form = fields(data)
        actor = current_actor(request)
        return await self._act(request, order_id, form, "anteckning", "anteckning",
                               lambda: visits.add_note(actor, order_id, text(form, "note", 2000)))

    @post("/{order_id:int}/foton", request_max_body_size=MAX_UPLOAD_BYTES + 2 * 1024 * 1024)
    async def add_photo(self, request: Request, order_id: FromPath[int], data: MultipartForm) -> Response:
        upload = data.get("photo")
        form = {"caption": text(data, "caption", 300)}
        actor = current_actor(request)
        content = await upload.read(MAX_UPLOAD_BYTES + 1) if isinstance(upload, UploadFile) else None

        async def save() -> None:
            if content is None:
                raise FormError("Välj en bild att ladda upp.", "photo")
            try:
                photo = clean_photo(content)
            except PhotoRejected as exc:
                raise FormError(exc.message, "photo") from None
            await visits.add_photo(actor, order_id, photo, form["caption"])

        return await self._act(request, order_id, form, "foton", "foto", save, photo=content)


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
