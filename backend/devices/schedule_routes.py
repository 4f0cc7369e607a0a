"""The FU schedules' pages, the same on a category, an article or one device: a schedule's page
(edit, deactivate, its history), and one device's schedules at /admin/hjalpmedel/{individnummer}/fu
(what applies, its own, its own interval for an inherited one; the rest of the device register is
its own controller). The catalogue's pages (catalogue_routes.py) use the helpers here."""

from __future__ import annotations

from litestar import Controller, Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Response, Template

from backend.accounts.tables import STAFF_OVERSIGHT
from backend.auth import current_actor, requires
from backend.changes import service as changes
from backend.devices import schedules
from backend.devices import service as devices
from backend.devices.schedules import OwnerNotFound, ScheduleNotFound
from backend.errors import DomainError
from backend.forms import INT4_MAX, INT4_MIN, Form, FormError, fields, text
from backend.maintenance import service as maintenance

NOTICES = {
    "skapad": "Sparat. Det nya finns nu i registret.",
    "sparad": "Ändringarna är sparade.",
    "oforandrad": "Inget var ändrat, så inget sparades.",
    "inaktiverad": "Inaktiverad.",
    "aktiverad": "Aktiv igen.",
    "borttagen": "Artikeln är borttagen.",
    "schema-tillagt": "FU-schemat är tillagt.",
    "intervall": "Hjälpmedlets eget intervall är sparat.",
}

YES_NO = {True: "Ja", False: "Nej"}
SCHEDULE_LABELS = {"name": "Namn", "interval_days": "Intervall (dagar)", "checklist_code": "Checklista",
                   "before_new_user": "Även före varje ny brukare", "active": "Aktivt",
                   "overrides": "Eget intervall för"}
INTERVAL_MESSAGE = "Skriv intervallet som ett antal dagar, till exempel 365."


def optional_int(form: dict, name: str, message: str) -> int | None:
    """A whole number, or None when the field is empty."""
    value = text(form, name, 40)
    if not value:
        return None
    try:
        number = int(value)
    except ValueError:
        raise FormError(message, name) from None
    if not INT4_MIN <= number <= INT4_MAX:
        raise FormError(message, name)
    return number


def notice_for(klart: str | None) -> str | None:
    return NOTICES.get(klart or "")


def done(href: str, what: str) -> Redirect:
    return Redirect(f"{href}?klart={what}", status_code=303)


# --- a schedule, the same on each owner -----------------------------------------------------

def schedule_input(form: dict) -> dict:
    return dict(name=text(form, "schedule_name", 1000),
                interval_days=optional_int(form, "interval_days", INTERVAL_MESSAGE),
                checklist_code=text(form, "checklist_code", 100),
                before_new_user=text(form, "before_new_user", 10) == "ja")


async def checklist_codes(owner: schedules.Owner) -> list[str]:
    """The codes of the owner's category's published checklists, one of which a schedule uses."""
    return [c["code"] for c in await maintenance.checklist_choices(owner.category_id)]


def checklists(choices: list[dict]) -> dict:
    """The category's checklists for a page: the select's options and the names by code."""
    return {"checklist_options": [(c["code"], c["name"]) for c in choices],
            "checklist_names": {c["code"]: c["name"] for c in choices}}


async def schedule_page(request: Request, owner: schedules.Owner, href: str, schedule_id: int, *,
                        error: DomainError | None = None, form: dict | None = None, notice: str | None = None,
                        status: int = 200) -> Template:
    try:
        schedule = await schedules.schedule(owner, schedule_id)
    except ScheduleNotFound:
        raise NotFoundException() from None
    choices = await maintenance.checklist_choices(owner.category_id)
    history = await changes.history(owner.organisation, schedules.REGISTER, schedule_id)
    values = {**schedule, "schedule_name": schedule["name"]}
    return Template("devices/schedule_page.html", context={
        "owner": owner, "owner_href": href, "schedule": schedule, **checklists(choices),
        "form": form if form is not None else values, "error": error, "notice": notice, "history": history,
        "labels": SCHEDULE_LABELS,
        "values": {"before_new_user": YES_NO, "active": YES_NO,
                   "checklist_code": {c["code"]: c["name"] for c in choices}},
    }, status_code=status)


async def save_schedule(request: Request, owner: schedules.Owner, href: str, schedule_id: int,
                        data: dict) -> Response:
    form = fields(data)
    try:
        changed = await schedules.update_schedule(
            current_actor(request), owner, schedule_id, **schedule_input(form),
            checklist_codes=await checklist_codes(owner))
    except ScheduleNotFound:
        raise NotFoundException() from None
    except DomainError as exc:
        return await schedule_page(request, owner, href, schedule_id, error=exc, form=form, status=400)
    return done(f"{href}/fu/{schedule_id}", "sparad" if changed else "oforandrad")


async def schedule_active(request: Request, owner: schedules.Owner, href: str, schedule_id: int,
                          active: bool) -> Response:
    try:
        await schedules.set_schedule_active(current_actor(request), owner, schedule_id, active)
    except ScheduleNotFound:
        raise NotFoundException() from None
    return done(f"{href}/fu/{schedule_id}", "aktiverad" if active else "inaktiverad")


# --- one device's schedules ----------------------------------------------------------------------

class DeviceScheduleController(Controller):
    """A device's FU schedules: what applies, its own, and its own interval for inherited ones."""

    path = "/admin/hjalpmedel"
    guards = [requires(*STAFF_OVERSIGHT)]

    async def _owner(self, request: Request, individnummer: str) -> schedules.Owner:
        wanted = devices.normalise_individnummer(individnummer)
        if not (wanted.isascii() and wanted.isalnum() and len(wanted) <= 20):
            raise NotFoundException()
        try:
            return await schedules.device_owner(current_actor(request).organisation, wanted)
        except OwnerNotFound:
            raise NotFoundException() from None

    async def _page(self, request: Request, owner: schedules.Owner, *, error: DomainError | None = None,
                    form: dict | None = None, failed: str | None = None, notice: str | None = None,
                    status: int = 200) -> Template:
        found = await schedules.device_schedules(owner)
        return Template("devices/schedule_device.html", context={
            **found, "owner": owner, "owner_href": f"/admin/hjalpmedel/{owner.label}",
            **checklists(await maintenance.checklist_choices(owner.category_id)), "error": error, "failed": failed,
            "notice": notice, "schedule_form": form if failed == "schedule" else {},
            "override_form": form if failed and failed.startswith("override") else {}}, status_code=status)

    @get("/{individnummer:str}/fu")
    async def page(self, request: Request, individnummer: FromPath[str],
                        klart: FromQuery[str | None] = None) -> Template:
        return await self._page(request, await self._owner(request, individnummer), notice=notice_for(klart))

    @post("/{individnummer:str}/fu")
    async def add_schedule(self, request: Request, individnummer: FromPath[str], data: Form) -> Response:
        owner, form = await self._owner(request, individnummer), fields(data)
        href = f"/admin/hjalpmedel/{owner.label}"
        if "overrides" in form:  # an inherited schedule's interval for this device
            inherited = None
            try:
                inherited = optional_int(form, "overrides", "Välj ett av de ärvda schemana.")
                await schedules.override_interval(
                    current_actor(request), owner, inherited,
                    optional_int(form, "override_interval", INTERVAL_MESSAGE))
            except DomainError as exc:
                return await self._page(request, owner, error=exc, form=form, failed=f"override-{inherited}",
                                        status=400)
            return done(f"{href}/fu", "intervall")
        try:
            await schedules.add_schedule(current_actor(request), owner, **schedule_input(form),
                                         checklist_codes=await checklist_codes(owner))
        except DomainError as exc:
            return await self._page(request, owner, error=exc, form=form, failed="schedule", status=400)
        return done(f"{href}/fu", "schema-tillagt")

    @get("/{individnummer:str}/fu/{schedule_id:int}")
    async def schedule(self, request: Request, individnummer: FromPath[str], schedule_id: FromPath[int],
                       klart: FromQuery[str | None] = None) -> Template:
        owner = await self._owner(request, individnummer)
        return await schedule_page(request, owner, f"/admin/hjalpmedel/{owner.label}", schedule_id,
                                    notice=notice_for(klart))

    @post("/{individnummer:str}/fu/{schedule_id:int}")
    async def save_schedule(self, request: Request, individnummer: FromPath[str], schedule_id: FromPath[int],
                            data: Form) -> Response:
        owner = await self._owner(request, individnummer)
        return await save_schedule(request, owner, f"/admin/hjalpmedel/{owner.label}", schedule_id, data)

    @post("/{individnummer:str}/fu/{schedule_id:int}/inaktivera")
    async def deactivate_schedule(self, request: Request, individnummer: FromPath[str],
                                  schedule_id: FromPath[int]) -> Response:
        owner = await self._owner(request, individnummer)
        return await schedule_active(request, owner, f"/admin/hjalpmedel/{owner.label}", schedule_id, False)

    @post("/{individnummer:str}/fu/{schedule_id:int}/aktivera")
    async def reactivate_schedule(self, request: Request, individnummer: FromPath[str],
                                  schedule_id: FromPath[int]) -> Response:
        owner = await self._owner(request, individnummer)
        return await schedule_active(request, owner, f"/admin/hjalpmedel/{owner.label}", schedule_id, True)
