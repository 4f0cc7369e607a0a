"""Patients: search (the query goes in the body, never the URL) and the record."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body, FromPath
from litestar.response import Template

from backend.accounts.tables import Role
from backend.auth import current_actor, requires
from backend.patients import service
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
        try:
            record = await service.patient_record(current_actor(request), patient_id)
        except service.PatientNotVisible:
            raise NotFoundException() from None
        return Template("patients/record.html", context=record)
