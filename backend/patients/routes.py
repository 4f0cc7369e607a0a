"""Patients: search (the query goes in the body, never the URL) and the record."""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body, FromPath
from litestar.response import Template

from backend.accounts.tables import Role
from backend.auth import current_actor, requires
from backend.devices import service as devices
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
    async def record(self, request: Request, patient_id: FromPath[int]) -> Template:
        actor = current_actor(request)
        try:
            patient = await service.patient_record(actor, patient_id,
                                                   care_relation=partial(workorders.technician_relation, actor))
        except service.PatientNotVisible:
            raise NotFoundException() from None
        return Template("patients/record.html", context={
            "patient": patient, "devices": await devices.held_by(patient_id),
            "orders": await workorders.patients_recent_orders(patient_id)})
