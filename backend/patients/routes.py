"""Patients: search (the query goes in the body, never the URL) and the record."""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Redirect, Response, Template

from backend.accounts.tables import Role
from backend.auth import current_actor, requires
from backend.devices import service as devices
from backend.errors import DomainError
from backend.forms import fields, text
from backend.patients import service
from backend.workorders import service as workorders
from backend.web import is_htmx

Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]


class PatientController(Controller):
    path = "/patienter"

    @get("/", guards=[requires(Role.prescriber, Role.coordinator, Role.admin)])
    async def search_page(self) -> Template:
        return Template("patients/search.html", context={"query": "", "results": None})

    @post("/sok", guards=[requires(Role.prescriber, Role.coordinator, Role.admin)], status_code=200)
    async def search(self, request: Request, data: Form) -> Template:
        query = str(data.get("q", "")).strip()[:100]
        results = await service.search_patients(current_actor(request), query)
        template = "patients/_results.html" if is_htmx(request) else "patients/search.html"
        return Template(template, context={"query": query, "results": results})

    @get("/{patient_id:int}", guards=[requires(Role.prescriber, Role.coordinator, Role.admin, Role.technician)])
    async def record(self, request: Request, patient_id: FromPath[int], klart: FromQuery[str | None] = None) -> Template:
        actor = current_actor(request)
        try:
            patient = await service.patient_record(actor, patient_id,
                                                   care_relation=partial(workorders.technician_relation, actor))
        except service.PatientNotVisible:
            raise NotFoundException() from None
        return Template("patients/record.html", context={
            "patient": patient, "devices": await devices.held_by(patient_id),
            "orders": await workorders.patients_recent_orders(patient_id),
            **await _notice_context(actor, patient_id, notice=NOTICES.get(klart or ""))})

    @post("/{patient_id:int}/avisering", guards=[requires(Role.coordinator, Role.admin)])
    async def notice_preference(self, request: Request, patient_id: FromPath[int], data: Form) -> Response:
        """How the patient is told of visits (backend/notices): the channel and the e-mail address."""
        form = fields(data)
        actor = current_actor(request)
        try:
            await service.set_notice_preference(actor, patient_id, text(form, "notice_channel", 10),
                                                text(form, "email", 300))
        except service.PatientNotVisible:
            raise NotFoundException() from None
        except DomainError as exc:
            try:
                patient = await service.patient_record(actor, patient_id)
            except service.PatientNotVisible:
                raise NotFoundException() from None
            return Template("patients/record.html", context={
                "patient": {**patient, "notice_channel": form.get("notice_channel"), "email": form.get("email")},
                "devices": await devices.held_by(patient_id),
                "orders": await workorders.patients_recent_orders(patient_id),
                **await _notice_context(actor, patient_id, error=exc)}, status_code=400)
        return Redirect(f"/patienter/{patient_id}?klart=avisering", status_code=303)


NOTICES = {"avisering": "Aviseringssättet är sparat."}


async def _notice_context(actor, patient_id: int, *, notice: str | None = None, error: DomainError | None = None) -> dict:
    """The notice preference's part of the record page: the choices, and its history for those who may change it."""
    may_change = actor.role in (Role.coordinator, Role.admin)
    return {"notice_channels": list(service.NOTICE_CHANNELS.items()), "may_change_notice": may_change,
            "notice_history": await service.notice_preference_history(actor.organisation, patient_id) if may_change else [],
            "notice_labels": service.NOTICE_FIELD_LABELS, "notice_values": {"notice_channel": service.NOTICE_CHANNELS},
            "notice": notice, "error": error}
