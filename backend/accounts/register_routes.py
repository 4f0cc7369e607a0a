"""The staff register on the web (admins only; coordinators keep /admin/inbjudningar): the list of
the organisation's people, and one person's page to change their role, care unit and HSA-id,
deactivate or reactivate them, see their passkeys and history, and give them a link for a new
passkey; a technician's page also sets their area (the municipalities they cover, accounts/areas.py).
Parse, check who asks, call accounts.service, render: a refusal goes back to its form with a 400, a
change redirects with a notice."""

from __future__ import annotations

from litestar import Controller, Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from backend.accounts import areas, service
from backend.accounts.service import StaffNotFound
from backend.accounts.tables import ROLE_LABELS, Role
from backend.auth import current_actor, requires
from backend.changes import service as changes
from backend.errors import DomainError
from backend.forms import INT4_MAX, Form, FormError, fields, many, readable, text
from backend.organisations import service as organisations

BASE = "/admin/personal"

NOTICES = {
    "sparad": "Ändringarna är sparade.",
    "inaktiverad": "Personen är inaktiverad. Alla personens inloggningar är avslutade.",
    "aktiverad": "Personen är aktiv igen och kan logga in med sina passkeys.",
    "omraden": "Områdena är sparade.",
}
STATUS_OPTIONS = [("active", "Aktiva"), ("inactive", "Inaktiva"), ("all", "Alla")]
ROLE_OPTIONS = [(r.value, ROLE_LABELS[r]) for r in Role]
HISTORY_LABELS = {"name": "Namn", "role": "Roll", "care_unit": "Vårdenhet", "hsa_id": "HSA-id", "active": "Status",
                  "areas": "Kommuner (område)"}
HISTORY_VALUES = {"role": {r.value: ROLE_LABELS[r] for r in Role}, "active": {True: "Aktiv", False: "Inaktiv"}}


def _choice(value: str) -> int | None:
    """A chosen row's id from a select, or None for no (or no possible) choice."""
    return int(value) if value.isascii() and value.isdigit() and int(value) <= INT4_MAX else None


async def _areas_context(organisation_id: int, person: dict, chosen: list[str] | None) -> dict:
    """What the person page's areas section needs: only a technician has one."""
    if person["role"] != Role.technician.value:
        return {"areas": None}
    held = await areas.areas_of(organisation_id, person["id"])
    options = await areas.municipalities(organisation_id)
    known = {o["id"] for o in options}
    options += [{"id": a["id"], "name": f"{a['name']} (inaktiv)"} for a in held if a["id"] not in known]
    return {"areas": held, "area_options": options,
            "areas_chosen": chosen if chosen is not None else [str(a["id"]) for a in held]}


def _done(staff_id: int, notice: str) -> Redirect:
    return Redirect(f"{BASE}/{staff_id}?klart={notice}", status_code=303)


class StaffRegisterController(Controller):
    path = BASE
    guards = [requires(Role.admin)]

    @get("/")
    async def index(self, request: Request, sok: FromQuery[str] = "", roll: FromQuery[str] = "",
                    status: FromQuery[str] = "active", sida: FromQuery[int] = 1) -> Template:
        actor = current_actor(request)
        error = None
        try:
            search = readable(sok, "sok").strip()[:100]
        except FormError as exc:
            search, error = "", exc
        role = roll if roll in dict(ROLE_OPTIONS) else ""
        status = status if status in dict(STATUS_OPTIONS) else "active"
        page = max(1, min(sida, 1000))
        people, more = await service.list_staff(actor.organisation, search=search, role=role or None,
                                                status=status, page=page)
        return Template("accounts/staff_list.html", context={
            "people": people, "more": more, "search": search, "role": role, "status": status, "page": page,
            "roles": ROLE_OPTIONS, "statuses": STATUS_OPTIONS, "error": error,
        }, status_code=400 if error else 200)

    async def _page(self, request: Request, staff_id: int, *, form: dict | None = None,
                    error: DomainError | None = None, notice: str | None = None, link: str | None = None,
                    status: int = 200, areas_chosen: list[str] | None = None) -> Template:
        actor = current_actor(request)
        person = await service.staff_person(actor.organisation, staff_id)
        if person is None:
            raise NotFoundException()
        # The active units, and the person's own should it have been deactivated since: it stays theirs.
        units = [(u["id"], u["name"]) for u in await organisations.care_units(actor.organisation)]
        if person["care_unit"] is not None and all(unit != person["care_unit"] for unit, _ in units):
            units.append((person["care_unit"], f"{person['care_unit_name']} (inaktiv)"))
        return Template("accounts/staff_person.html", context={
            "person": person, "is_self": person["id"] == actor.id, "error": error, "link": link,
            "notice": NOTICES.get(notice or ""), "roles": ROLE_OPTIONS, "care_units": units,
            "form": form if form is not None else {
                "name": person["name"], "role": person["role"], "care_unit": person["care_unit"] or "",
                "hsa_id": person["hsa_id"] or ""},
            "passkeys": await service.passkeys_of(staff_id),
            # A technician's municipalities: the active ones, and any of theirs deactivated since.
            **(await _areas_context(actor.organisation, person, areas_chosen)),
            "history": await changes.history(actor.organisation, "staff", staff_id),
            "labels": HISTORY_LABELS, "values": HISTORY_VALUES,
        }, status_code=status)

    @get("/{staff_id:int}")
    async def person(self, request: Request, staff_id: FromPath[int], klart: FromQuery[str | None] = None) -> Template:
        return await self._page(request, staff_id, notice=klart)

    @post("/{staff_id:int}")
    async def save(self, request: Request, staff_id: FromPath[int], data: Form) -> Template | Redirect:
        actor = current_actor(request)
        form = fields(data)
        typed = {}
        try:
            typed = {"name": text(form, "name", 1000), "role": text(form, "role", 40),
                     "care_unit": text(form, "care_unit", 20), "hsa_id": text(form, "hsa_id", 200)}
            await service.update_person(
                actor.organisation, staff_id, name=typed["name"], role=typed["role"],
                care_unit_id=_choice(typed["care_unit"]), hsa_id_text=typed["hsa_id"], actor=actor)
        except StaffNotFound:
            raise NotFoundException() from None
        except DomainError as exc:
            return await self._page(request, staff_id, form=typed, error=exc, status=400)
        return _done(staff_id, "sparad")

    @post("/{staff_id:int}/omraden")
    async def save_areas(self, request: Request, staff_id: FromPath[int], data: Form) -> Template | Redirect:
        """A technician's municipalities (checkboxes `areas`, the cost bearers' ids)."""
        actor = current_actor(request)
        chosen: list[str] | None = None  # unreadable: the page shows the person's areas as they are
        try:
            chosen = many(fields(data), "areas")
            ids = [_choice(value) for value in chosen]
            if None in ids:
                raise FormError(areas.UNKNOWN_MUNICIPALITY, areas.FIELD)
            await areas.set_areas(actor, staff_id, [i for i in ids if i is not None])
        except StaffNotFound:
            raise NotFoundException() from None
        except DomainError as exc:
            return await self._page(request, staff_id, error=exc, status=400, areas_chosen=chosen)
        return _done(staff_id, "omraden")

    @post("/{staff_id:int}/inaktivera")
    async def deactivate(self, request: Request, staff_id: FromPath[int]) -> Template | Redirect:
        return await self._set_active(request, staff_id, False)

    @post("/{staff_id:int}/aktivera")
    async def reactivate(self, request: Request, staff_id: FromPath[int]) -> Template | Redirect:
        return await self._set_active(request, staff_id, True)

    async def _set_active(self, request: Request, staff_id: int, active: bool) -> Template | Redirect:
        actor = current_actor(request)
        try:
            await service.set_active(actor.organisation, staff_id, active, actor=actor)
        except StaffNotFound:
            raise NotFoundException() from None
        except DomainError as exc:
            return await self._page(request, staff_id, error=exc, status=400)
        return _done(staff_id, "aktiverad" if active else "inaktiverad")

    @post("/{staff_id:int}/ny-passkey")
    async def new_passkey_link(self, request: Request, staff_id: FromPath[int]) -> Template:
        """A one-time link for the person to add a passkey (a lost or new phone); shown only now."""
        actor = current_actor(request)
        if await service.staff_person(actor.organisation, staff_id) is None:
            raise NotFoundException()
        try:
            token, _ = await service.create_invitation(organisation_id=actor.organisation, name="", role="",
                                                       staff_user_id=staff_id, invited_by=actor)
        except DomainError as exc:
            return await self._page(request, staff_id, error=exc, status=400)
        origin = request.app.state["settings"].public_origin
        return await self._page(request, staff_id, link=f"{origin}/inbjudan/{token}")
