"""Technicians as planning resources, for coordinators and admins: the list (/planering/tekniker)
with the device categories that need a skill, one technician's start and end place, week, lunch,
driving limit, skills and absences (/planering/tekniker/{id}), and the default time on site per
work-order type (/planering/besokstider). The rules are in resources.py and durations.py."""

from __future__ import annotations

from datetime import time, timedelta

from litestar import Controller, Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Response, Template

from backend.accounts import areas
from backend.accounts.tables import STAFF_OVERSIGHT
from backend.auth import current_actor, requires
from backend.devices import catalogue
from backend.errors import DomainError
from backend.forms import Form, FormError, FormErrors, date_field, decimal, fields, integer, many, text, time_field
from backend.routing import durations, resources
from backend.routing.resources import WEEKDAY_NAMES, ResourceError, ResourceInput
from backend.workdays import today
from backend.workorders.tables import TYPE_LABELS

NOTICES = {
    "sparad": "Teknikerns uppgifter är sparade.",
    "behorigheter": "Kategorierna som kräver behörighet är sparade.",
    "franvaro": "Frånvaron är sparad.",
    "borttagen": "Frånvaron är borttagen.",
    "besokstid": "Besökstiden är sparad.",
}


RESOURCE_FIELDS = ("start_label", "start_latitude", "start_longitude", "end_label", "end_latitude", "end_longitude",
                   "lunch_earliest", "lunch_latest", "lunch_minutes", "max_drive_km", "skills",
                   *(f"{kind}_{weekday}" for weekday in range(7) for kind in ("works", "starts", "ends")))


def _shown(form: dict, names) -> dict:
    """What was typed, to show again beside the errors (a field that cannot be read comes back empty)."""
    shown = {}
    for name in names:
        try:
            shown[name] = many(form, name) if name == "skills" else text(form, name, 200)
        except FormError:
            shown[name] = [] if name == "skills" else ""
    return shown


def _clock(value: time | None) -> str:
    return value.strftime("%H:%M") if value else ""


def _place(form: dict, prefix: str, required: bool, problems: list) -> tuple[float, float] | None:
    lat_raw, lon_raw = text(form, f"{prefix}_latitude", 40), text(form, f"{prefix}_longitude", 40)
    if not required and not lat_raw and not lon_raw:
        return None
    try:
        latitude = decimal(form, f"{prefix}_latitude", "Skriv latituden som ett tal, t.ex. 59,6162.")
        longitude = decimal(form, f"{prefix}_longitude", "Skriv longituden som ett tal, t.ex. 16,4981.")
    except FormError as error:
        problems.append((error.field, error.message))
        return None
    return float(latitude), float(longitude)


def read_resource(form: dict) -> ResourceInput:
    """The technician's form as a ResourceInput; every field that cannot be read at once."""
    problems: list[tuple[str | None, str]] = []

    def attempt(read, default):
        try:
            return read()
        except FormError as error:
            problems.append((error.field, error.message))
            return default

    start = _place(form, "start", True, problems)
    end = _place(form, "end", False, problems)
    lunch_earliest = attempt(lambda: time_field(form, "lunch_earliest"), time(11, 30))
    lunch_latest = attempt(lambda: time_field(form, "lunch_latest"), time(13))
    lunch_minutes = attempt(lambda: integer(form, "lunch_minutes", "Skriv lunchens längd i minuter."), 30)
    limit_raw = text(form, "max_drive_km", 10)
    max_drive_km = attempt(lambda: integer(form, "max_drive_km", "Skriv gränsen i hela km, eller lämna tomt."),
                           None) if limit_raw else None
    hours = {}
    for weekday in range(7):
        if text(form, f"works_{weekday}", 4) == "ja":
            starts = attempt(lambda: time_field(form, f"starts_{weekday}"), None)
            ends = attempt(lambda: time_field(form, f"ends_{weekday}"), None)
            if starts and ends:
                hours[weekday] = (starts, ends)
    skills = []
    for value in many(form, "skills"):
        if not value.isdigit() or len(value) > 9:
            problems.append(("skills", "Välj kategorier ur listan."))
            break
        skills.append(int(value))
    if problems:
        raise FormErrors(problems)
    return ResourceInput(text(form, "start_label", 200), start or (0.0, 0.0), text(form, "end_label", 200) or None,
                         end, lunch_earliest, lunch_latest, lunch_minutes, max_drive_km, hours, skills)


def resource_form(r: resources.Resource) -> dict:
    form = {
        "start_label": r.start_label, "start_latitude": f"{r.start[0]:.6f}", "start_longitude": f"{r.start[1]:.6f}",
        "end_label": r.end_label or "", "end_latitude": f"{r.end[0]:.6f}" if r.end else "",
        "end_longitude": f"{r.end[1]:.6f}" if r.end else "", "lunch_earliest": _clock(r.lunch_earliest),
        "lunch_latest": _clock(r.lunch_latest), "lunch_minutes": str(r.lunch_minutes),
        "max_drive_km": str(r.max_drive_km) if r.max_drive_km is not None else "",
        "skills": [str(c) for c in r.skills],
    }
    for weekday in range(7):
        hours = r.hours.get(weekday)
        form[f"works_{weekday}"] = "ja" if hours else ""
        form[f"starts_{weekday}"] = _clock(hours[0]) if hours else "07:30"
        form[f"ends_{weekday}"] = _clock(hours[1]) if hours else "16:00"
    return form


class ResourceController(Controller):
    path = "/planering/tekniker"
    guards = [requires(*STAFF_OVERSIGHT)]

    async def _list(self, request: Request, *, error: DomainError | None = None, notice: str | None = None,
                    status: int = 200) -> Template:
        actor = current_actor(request)
        register = await resources.register(actor.organisation)
        categories = await catalogue.category_choices(actor.organisation)
        restricted = await resources.restricted_categories(actor.organisation)
        names = dict(categories)
        return Template("routing/resources.html", status_code=status, context={
            "technicians": register, "categories": categories, "restricted": restricted, "names": names,
            "weekdays": WEEKDAY_NAMES, "error": error, "notice": notice, "clock": _clock,
        })

    @get("/")
    async def register(self, request: Request, klart: FromQuery[str | None] = None) -> Template:
        return await self._list(request, notice=NOTICES.get(klart or ""))

    @post("/behorigheter")
    async def set_restricted(self, request: Request, data: Form) -> Response:
        actor = current_actor(request)
        form = fields(data)
        try:
            chosen = many(form, "categories")
            if not all(c.isdigit() and len(c) <= 9 for c in chosen):
                raise ResourceError("Välj kategorier ur listan.", "categories")
            await resources.set_restricted_categories(actor.organisation, [int(c) for c in chosen])
        except DomainError as error:
            return await self._list(request, error=error, status=400)
        return Redirect("/planering/tekniker?klart=behorigheter", status_code=303)

    async def _page(self, request: Request, staff_id: int, *, form: dict | None = None,
                    error: DomainError | None = None, absence_form: dict | None = None,
                    notice: str | None = None, status: int = 200) -> Template:
        actor = current_actor(request)
        try:
            resource = await resources.resource(actor.organisation, staff_id)
        except ResourceError:
            raise NotFoundException() from None
        categories = await catalogue.category_choices(actor.organisation)
        restricted = await resources.restricted_categories(actor.organisation)
        return Template("routing/resources_edit.html", status_code=status, context={
            "resource": resource, "form": form or resource_form(resource), "error": error,
            "absence_form": absence_form or {}, "notice": notice, "weekdays": WEEKDAY_NAMES,
            "skill_choices": [(c, n) for c, n in categories if c in restricted or c in resource.skills],
            "absences": await resources.absences(staff_id, today()),
            "areas": await areas.areas_of(actor.organisation, staff_id),
        })

    @get("/{staff_id:int}")
    async def technician(self, request: Request, staff_id: FromPath[int], klart: FromQuery[str | None] = None) -> Template:
        return await self._page(request, staff_id, notice=NOTICES.get(klart or ""))

    @post("/{staff_id:int}")
    async def save(self, request: Request, staff_id: FromPath[int], data: Form) -> Response:
        actor = current_actor(request)
        form = fields(data)
        try:
            await resources.resource(actor.organisation, staff_id)
        except ResourceError:
            raise NotFoundException() from None
        try:
            await resources.save_resource(actor.organisation, staff_id, read_resource(form))
        except DomainError as error:
            return await self._page(request, staff_id, form=_shown(form, RESOURCE_FIELDS), error=error, status=400)
        return Redirect(f"/planering/tekniker/{staff_id}?klart=sparad", status_code=303)

    @post("/{staff_id:int}/franvaro")
    async def add_absence(self, request: Request, staff_id: FromPath[int], data: Form) -> Response:
        actor = current_actor(request)
        form = fields(data)
        try:
            await resources.resource(actor.organisation, staff_id)
        except ResourceError:
            raise NotFoundException() from None
        try:
            first = date_field(form, "first_day")
            last = date_field(form, "last_day", required=False) or first
            if last - first > timedelta(days=366):
                raise ResourceError("En frånvaro är högst ett år. Lägg in längre frånvaro i flera delar.", "last_day")
            await resources.add_absence(actor.organisation, staff_id, first, last, text(form, "absence_reason", 200))
        except DomainError as error:
            return await self._page(request, staff_id, absence_form=_shown(form, ("first_day", "last_day", "absence_reason")),
                                    error=error, status=400)
        return Redirect(f"/planering/tekniker/{staff_id}?klart=franvaro", status_code=303)

    @post("/{staff_id:int}/franvaro/{absence_id:int}/ta-bort")
    async def remove_absence(self, request: Request, staff_id: FromPath[int], absence_id: FromPath[int]) -> Response:
        actor = current_actor(request)
        try:
            await resources.remove_absence(actor.organisation, staff_id, absence_id)
        except ResourceError:
            raise NotFoundException() from None
        return Redirect(f"/planering/tekniker/{staff_id}?klart=borttagen", status_code=303)


class DurationController(Controller):
    path = "/planering/besokstider"
    guards = [requires(*STAFF_OVERSIGHT)]

    async def _page(self, request: Request, *, form: dict | None = None, error: DomainError | None = None,
                    notice: str | None = None, status: int = 200) -> Template:
        actor = current_actor(request)
        categories = await catalogue.category_choices(actor.organisation)
        return Template("routing/resources_durations.html", status_code=status, context={
            "rows": await durations.duration_rows(actor.organisation), "categories": categories,
            "names": dict(categories), "types": [(t.value, TYPE_LABELS[t]) for t in durations.PLANNED_TYPES],
            "built_in": [(TYPE_LABELS[t], durations.BUILT_IN[t.value]) for t in durations.PLANNED_TYPES],
            "learn_from": durations.LEARN_FROM, "form": form or {}, "error": error, "notice": notice,
        })

    @get("/")
    async def durations(self, request: Request, klart: FromQuery[str | None] = None) -> Template:
        return await self._page(request, notice=NOTICES.get(klart or ""))

    @post("/")
    async def set_duration(self, request: Request, data: Form) -> Response:
        actor = current_actor(request)
        form = fields(data)
        try:
            category_raw = text(form, "category", 12)
            category = integer(form, "category", "Välj en kategori ur listan.") if category_raw else None
            minutes_raw = text(form, "minutes", 12)
            minutes = integer(form, "minutes", "Skriv tiden i hela minuter, eller lämna tomt för att ta bort.") \
                if minutes_raw else None
            known = {c for c, _ in await catalogue.category_choices(actor.organisation)}
            await durations.set_duration(actor.organisation, text(form, "type", 30), category, minutes, known)
        except DomainError as error:
            return await self._page(request, form=_shown(form, ("type", "category", "minutes")), error=error, status=400)
        return Redirect("/planering/besokstider?klart=besokstid", status_code=303)
