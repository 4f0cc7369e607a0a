"""The organisation register on the web (admin): the HMC's name and phone number, the work-order
clocks, opening hours and calendar overrides, care units and cost bearers, each with its change
history. The four steps only: parse, check who asks (admins), call organisations.service, render
(a refusal goes back to its form with a 400; a change redirects with a notice)."""

from __future__ import annotations

from litestar import Controller, Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from backend.accounts.tables import Role
from backend.auth import current_actor, requires
from backend.changes import service as changes
from backend.errors import DomainError
from backend.forms import INT4_MAX, Form, FormError, date_field, fields, readable, text
from backend.organisations import service
from backend.workdays import today
from backend.workorders.service import DEFAULT_CLOCKS, TYPE_LABELS, WorkOrderType

BASE = "/admin/organisation"

NOTICES = {
    "sparad": "Ändringen är sparad.",
    "tillagd": "Den är tillagd.",
    "inaktiverad": "Den är inaktiverad. Den finns kvar med sin historik men erbjuds inte för nytt.",
    "aktiverad": "Den är aktiv igen.",
    "borttagen": "Den är borttagen.",
}
STATUS_OPTIONS = [("active", "Aktiva"), ("inactive", "Inaktiva"), ("all", "Alla")]
ACTIVE_WORDS = {True: "Aktiv", False: "Inaktiv"}
INCOMPLETE = "Formuläret är ofullständigt. Ladda om sidan och försök igen."
KEY_LABELS = {"start": "påbörjad inom", "finish": "klar inom"}


def _clock_defaults() -> dict[str, dict[str, int]]:
    return {t.value: dict(DEFAULT_CLOCKS.get(t, {})) for t in WorkOrderType}


def _history_labels() -> dict[str, str]:
    labels = {"name": "Namn", "phone": "Telefonnummer"}
    for t in WorkOrderType:
        for key, label in KEY_LABELS.items():
            labels[f"{t.value}.{key}"] = f"{TYPE_LABELS[t]}: {label} (arbetsdagar)"
    return labels


def _choice(value: str) -> int | None:
    """A chosen row's id from a select, or None for no (or no possible) choice."""
    return int(value) if value.isascii() and value.isdigit() and int(value) <= INT4_MAX else None


def _search(sok: str) -> tuple[str, FormError | None]:
    try:
        return readable(sok, "sok").strip()[:100], None
    except FormError as exc:
        return "", exc


def _done(path: str, notice: str) -> Redirect:
    return Redirect(f"{path}?klart={notice}", status_code=303)


class OrganisationController(Controller):
    """The HMC itself: name and phone, clocks, opening hours and calendar."""

    path = BASE
    guards = [requires(Role.admin)]

    # --- name and phone -----------------------------------------------------------------------

    async def _overview(self, request: Request, *, form: dict | None = None, error: DomainError | None = None,
                        notice: str | None = None, status: int = 200) -> Template:
        actor = current_actor(request)
        organisation = await service.organisation(actor.organisation)
        return Template("organisations/overview.html", context={
            "organisation": organisation, "form": form or organisation, "error": error,
            "notice": NOTICES.get(notice or ""), "labels": _history_labels(),
            "history": await changes.history(actor.organisation, "organisation", actor.organisation),
        }, status_code=status)

    @get("/")
    async def overview(self, request: Request, klart: FromQuery[str | None] = None) -> Template:
        return await self._overview(request, notice=klart)

    @post("/")
    async def save_details(self, request: Request, data: Form) -> Template | Redirect:
        actor = current_actor(request)
        form = fields(data)
        try:
            typed = {"name": text(form, "name", 1000), "phone": text(form, "phone", 200)}
            await service.update_details(actor.organisation, **typed, actor_id=actor.id, actor_name=actor.name)
        except DomainError as exc:
            return await self._overview(request, form=_typed(form), error=exc, status=400)
        return _done(BASE, "sparad")

    # --- work-order clocks ----------------------------------------------------------------------

    async def _clocks(self, request: Request, *, form: dict | None = None, error: DomainError | None = None,
                      notice: str | None = None, status: int = 200) -> Template:
        actor = current_actor(request)
        organisation = await service.organisation(actor.organisation)
        own = organisation["clocks"] if isinstance(organisation["clocks"], dict) else {}
        defaults = _clock_defaults()
        rows = []
        for t in WorkOrderType:
            clock = own.get(t.value, {})
            rows.append({"type": t.value, "label": TYPE_LABELS[t], "default": defaults[t.value], "own": clock,
                         "fields": {key: service.clock_field(t.value, key) for key in KEY_LABELS}})
        values = form if form is not None else {
            service.clock_field(r["type"], key): r["own"].get(key, "") for r in rows for key in KEY_LABELS}
        return Template("organisations/clocks.html", context={
            "rows": rows, "values": values, "error": error, "notice": NOTICES.get(notice or ""),
            "clock_max": service.CLOCK_MAX, "labels": _history_labels(),
            "history": await changes.history(actor.organisation, "organisation", actor.organisation),
        }, status_code=status)

    @get("/tidsgranser")
    async def clocks(self, request: Request, klart: FromQuery[str | None] = None) -> Template:
        return await self._clocks(request, notice=klart)

    @post("/tidsgranser")
    async def save_clocks(self, request: Request, data: Form) -> Template | Redirect:
        actor = current_actor(request)
        form = fields(data)
        defaults = _clock_defaults()
        try:
            names = [service.clock_field(t, key) for t in defaults for key in KEY_LABELS]
            if any(name not in form for name in names):
                raise FormError(INCOMPLETE)
            entered = {t: {key: text(form, service.clock_field(t, key), 40) for key in KEY_LABELS} for t in defaults}
            await service.set_clocks(actor.organisation, entered, defaults, actor_id=actor.id, actor_name=actor.name)
        except DomainError as exc:
            return await self._clocks(request, form=_typed(form), error=exc, status=400)
        return _done(f"{BASE}/tidsgranser", "sparad")

    # --- opening hours and calendar overrides -----------------------------------------------------

    async def _hours(self, request: Request, *, form: dict | None = None, day_form: dict | None = None,
                     error: DomainError | None = None, day_error: DomainError | None = None,
                     notice: str | None = None, status: int = 200) -> Template:
        actor = current_actor(request)
        week = await service.opening_hours(actor.organisation)
        values = form if form is not None else {
            service.hours_field(d["weekday"], which): (f"{d[which]:%H:%M}" if d[which] else "")
            for d in week for which in ("opens", "closes")}
        return Template("organisations/hours.html", context={
            "week": week, "values": values, "error": error, "day_form": day_form or {}, "day_error": day_error,
            "days": await service.calendar_days(actor.organisation, today()),
            "kinds": list(service.CALENDAR_KIND_LABELS.items()), "notice": NOTICES.get(notice or ""),
            "labels": {f"weekday_{n}": name for n, name in service.WEEKDAY_NAMES.items()},
            "history": await changes.history(actor.organisation, "calendar", actor.organisation),
        }, status_code=status)

    @get("/arbetstider")
    async def hours(self, request: Request, klart: FromQuery[str | None] = None) -> Template:
        return await self._hours(request, notice=klart)

    @post("/arbetstider")
    async def save_hours(self, request: Request, data: Form) -> Template | Redirect:
        actor = current_actor(request)
        form = fields(data)
        try:
            names = [service.hours_field(d, w) for d in service.WEEKDAY_NAMES for w in ("opens", "closes")]
            if any(name not in form for name in names):
                raise FormError(INCOMPLETE)
            entered = {d: {w: text(form, service.hours_field(d, w), 40) for w in ("opens", "closes")}
                       for d in service.WEEKDAY_NAMES}
            await service.set_opening_hours(actor.organisation, entered, actor_id=actor.id, actor_name=actor.name)
        except DomainError as exc:
            return await self._hours(request, form=_typed(form), error=exc, status=400)
        return _done(f"{BASE}/arbetstider", "sparad")

    @post("/arbetstider/dagar")
    async def add_day(self, request: Request, data: Form) -> Template | Redirect:
        actor = current_actor(request)
        form = fields(data)
        try:
            await service.add_calendar_day(
                actor.organisation, day=date_field(form, "day", required=False), kind=text(form, "kind", 20),
                note=text(form, "note", 1000), today=today(), actor_id=actor.id, actor_name=actor.name)
        except DomainError as exc:
            return await self._hours(request, day_form=_typed(form), day_error=exc, status=400)
        return _done(f"{BASE}/arbetstider", "tillagd")

    @post("/arbetstider/dagar/{day_id:int}/ta-bort")
    async def remove_day(self, request: Request, day_id: FromPath[int]) -> Redirect:
        actor = current_actor(request)
        try:
            await service.remove_calendar_day(actor.organisation, day_id, actor_id=actor.id, actor_name=actor.name)
        except service.NotFound:
            raise NotFoundException() from None
        return _done(f"{BASE}/arbetstider", "borttagen")


class CareUnitController(Controller):
    """Vårdenheter: list, add, change, deactivate and reactivate, delete only what nothing names."""

    path = f"{BASE}/vardenheter"
    guards = [requires(Role.admin)]

    @get("/")
    async def index(self, request: Request, sok: FromQuery[str] = "", status: FromQuery[str] = "active",
                   sida: FromQuery[int] = 1, klart: FromQuery[str | None] = None) -> Template:
        actor = current_actor(request)
        search, error = _search(sok)
        status = status if status in dict(STATUS_OPTIONS) else "active"
        page = max(1, min(sida, 1000))
        units, more = await service.list_care_units(actor.organisation, search=search, status=status, page=page)
        return Template("organisations/care_units.html", context={
            "units": units, "more": more, "search": search, "status": status, "page": page, "error": error,
            "statuses": STATUS_OPTIONS, "notice": NOTICES.get(klart or ""),
        }, status_code=400 if error else 200)

    async def _page(self, request: Request, unit_id: int | None, *, form: dict | None = None,
                    error: DomainError | None = None, notice: str | None = None, status: int = 200) -> Template:
        actor = current_actor(request)
        unit = None
        if unit_id is not None:
            unit = await service.care_unit(actor.organisation, unit_id)
            if unit is None:
                raise NotFoundException()
        return Template("organisations/care_unit.html", context={
            "unit": unit, "form": form if form is not None else (unit or {}), "error": error,
            "notice": NOTICES.get(notice or ""),
            "bearers": await service.cost_bearer_choices(actor.organisation, unit["cost_bearer"] if unit else None),
            "history": await changes.history(actor.organisation, "care_unit", unit_id) if unit else [],
            "labels": {"name": "Namn", "phone": "Telefonnummer", "cost_bearer": "Kostnadsbärare", "active": "Status"},
            "values": {"active": ACTIVE_WORDS},
        }, status_code=status)

    @get("/ny")
    async def new(self, request: Request) -> Template:
        return await self._page(request, None)

    @post("/")
    async def create(self, request: Request, data: Form) -> Template | Redirect:
        actor = current_actor(request)
        form = fields(data)
        try:
            unit_id = await service.create_care_unit(
                actor.organisation, name=text(form, "name", 1000), phone=text(form, "phone", 200),
                cost_bearer_id=_choice(text(form, "cost_bearer", 20)), actor_id=actor.id, actor_name=actor.name)
        except DomainError as exc:
            return await self._page(request, None, form=_typed(form), error=exc, status=400)
        return _done(f"{BASE}/vardenheter/{unit_id}", "tillagd")

    @get("/{unit_id:int}")
    async def unit(self, request: Request, unit_id: FromPath[int], klart: FromQuery[str | None] = None) -> Template:
        return await self._page(request, unit_id, notice=klart)

    @post("/{unit_id:int}")
    async def save(self, request: Request, unit_id: FromPath[int], data: Form) -> Template | Redirect:
        actor = current_actor(request)
        form = fields(data)
        try:
            await service.update_care_unit(
                actor.organisation, unit_id, name=text(form, "name", 1000), phone=text(form, "phone", 200),
                cost_bearer_id=_choice(text(form, "cost_bearer", 20)), actor_id=actor.id, actor_name=actor.name)
        except service.NotFound:
            raise NotFoundException() from None
        except DomainError as exc:
            return await self._page(request, unit_id, form=_typed(form), error=exc, status=400)
        return _done(f"{BASE}/vardenheter/{unit_id}", "sparad")

    @post("/{unit_id:int}/inaktivera")
    async def deactivate(self, request: Request, unit_id: FromPath[int]) -> Redirect:
        return await self._activate(request, unit_id, False)

    @post("/{unit_id:int}/aktivera")
    async def reactivate(self, request: Request, unit_id: FromPath[int]) -> Redirect:
        return await self._activate(request, unit_id, True)

    async def _activate(self, request: Request, unit_id: int, active: bool) -> Redirect:
        actor = current_actor(request)
        try:
            await service.set_care_unit_active(actor.organisation, unit_id, active, actor_id=actor.id,
                                               actor_name=actor.name)
        except service.NotFound:
            raise NotFoundException() from None
        return _done(f"{BASE}/vardenheter/{unit_id}", "aktiverad" if active else "inaktiverad")

    @post("/{unit_id:int}/ta-bort")
    async def delete(self, request: Request, unit_id: FromPath[int]) -> Template | Redirect:
        actor = current_actor(request)
        try:
            await service.delete_care_unit(actor.organisation, unit_id, actor_id=actor.id, actor_name=actor.name)
        except service.NotFound:
            raise NotFoundException() from None
        except DomainError as exc:
            return await self._page(request, unit_id, error=exc, status=400)
        return _done(f"{BASE}/vardenheter", "borttagen")


class CostBearerController(Controller):
    """Kostnadsbärare: the municipalities and the region's own units."""

    path = f"{BASE}/kostnadsbarare"
    guards = [requires(Role.admin)]

    @get("/")
    async def index(self, request: Request, sok: FromQuery[str] = "", status: FromQuery[str] = "active",
                   sida: FromQuery[int] = 1, klart: FromQuery[str | None] = None) -> Template:
        actor = current_actor(request)
        search, error = _search(sok)
        status = status if status in dict(STATUS_OPTIONS) else "active"
        page = max(1, min(sida, 1000))
        bearers, more = await service.list_cost_bearers(actor.organisation, search=search, status=status, page=page)
        return Template("organisations/cost_bearers.html", context={
            "bearers": bearers, "more": more, "search": search, "status": status, "page": page, "error": error,
            "statuses": STATUS_OPTIONS, "notice": NOTICES.get(klart or ""),
        }, status_code=400 if error else 200)

    async def _page(self, request: Request, bearer_id: int | None, *, form: dict | None = None,
                    error: DomainError | None = None, notice: str | None = None, status: int = 200) -> Template:
        actor = current_actor(request)
        bearer = None
        if bearer_id is not None:
            bearer = await service.cost_bearer(actor.organisation, bearer_id)
            if bearer is None:
                raise NotFoundException()
        return Template("organisations/cost_bearer.html", context={
            "bearer": bearer, "form": form if form is not None else (bearer or {}), "error": error,
            "notice": NOTICES.get(notice or ""), "kinds": list(service.KIND_LABELS.items()),
            "history": await changes.history(actor.organisation, "cost_bearer", bearer_id) if bearer else [],
            "labels": {"name": "Namn", "kind": "Typ", "code": "Kod", "active": "Status"},
            "values": {"kind": service.KIND_LABELS, "active": ACTIVE_WORDS},
        }, status_code=status)

    @get("/ny")
    async def new(self, request: Request) -> Template:
        return await self._page(request, None)

    @post("/")
    async def create(self, request: Request, data: Form) -> Template | Redirect:
        actor = current_actor(request)
        form = fields(data)
        try:
            bearer_id = await service.create_cost_bearer(
                actor.organisation, name=text(form, "name", 1000), kind=text(form, "kind", 20),
                code=text(form, "code", 200), actor_id=actor.id, actor_name=actor.name)
        except DomainError as exc:
            return await self._page(request, None, form=_typed(form), error=exc, status=400)
        return _done(f"{BASE}/kostnadsbarare/{bearer_id}", "tillagd")

    @get("/{bearer_id:int}")
    async def bearer(self, request: Request, bearer_id: FromPath[int], klart: FromQuery[str | None] = None) -> Template:
        return await self._page(request, bearer_id, notice=klart)

    @post("/{bearer_id:int}")
    async def save(self, request: Request, bearer_id: FromPath[int], data: Form) -> Template | Redirect:
        actor = current_actor(request)
        form = fields(data)
        try:
            await service.update_cost_bearer(
                actor.organisation, bearer_id, name=text(form, "name", 1000), kind=text(form, "kind", 20),
                code=text(form, "code", 200), actor_id=actor.id, actor_name=actor.name)
        except service.NotFound:
            raise NotFoundException() from None
        except DomainError as exc:
            return await self._page(request, bearer_id, form=_typed(form), error=exc, status=400)
        return _done(f"{BASE}/kostnadsbarare/{bearer_id}", "sparad")

    @post("/{bearer_id:int}/inaktivera")
    async def deactivate(self, request: Request, bearer_id: FromPath[int]) -> Redirect:
        return await self._activate(request, bearer_id, False)

    @post("/{bearer_id:int}/aktivera")
    async def reactivate(self, request: Request, bearer_id: FromPath[int]) -> Redirect:
        return await self._activate(request, bearer_id, True)

    async def _activate(self, request: Request, bearer_id: int, active: bool) -> Redirect:
        actor = current_actor(request)
        try:
            await service.set_cost_bearer_active(actor.organisation, bearer_id, active, actor_id=actor.id,
                                                 actor_name=actor.name)
        except service.NotFound:
            raise NotFoundException() from None
        return _done(f"{BASE}/kostnadsbarare/{bearer_id}", "aktiverad" if active else "inaktiverad")

    @post("/{bearer_id:int}/ta-bort")
    async def delete(self, request: Request, bearer_id: FromPath[int]) -> Template | Redirect:
        actor = current_actor(request)
        try:
            await service.delete_cost_bearer(actor.organisation, bearer_id, actor_id=actor.id, actor_name=actor.name)
        except service.NotFound:
            raise NotFoundException() from None
        except DomainError as exc:
            return await self._page(request, bearer_id, error=exc, status=400)
        return _done(f"{BASE}/kostnadsbarare", "borttagen")


def _typed(form: dict) -> dict:
    """What the person typed, to show again in a refused form (a repeated field: its last value)."""
    typed = {}
    for name, value in form.items():
        if isinstance(value, list):
            value = value[-1] if value else ""
        typed[name] = value if isinstance(value, str) else ""
    return typed
