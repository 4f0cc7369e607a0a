"""Fittings on the web, around the bookings: consultants' availability, calendar feeds and the
service level. The bookings themselves are in routes.py; the same four steps here (parse,
check who asks, call backend.fittings.service, render), and a refusal goes to the template as it is.
"""

from __future__ import annotations

from datetime import datetime, timezone

from litestar import Controller, Request, get, post
from litestar.exceptions import NotFoundException, PermissionDeniedException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Response, Template

from backend.accounts.service import Actor
from backend.accounts.tables import STAFF_OVERSIGHT, Role
from backend.auth import current_actor, requires
from backend.errors import DomainError
from backend.fittings import service
from backend.fittings.service import NotAllowed, NotFound
from backend.forms import Form, FormError
from backend.forms import date_field as _date
from backend.forms import fields as _form
from backend.forms import integer as _int
from backend.forms import many as _many
from backend.forms import text as _text
from backend.forms import time_field as _time
from backend.settings import Settings
from backend.workdays import today as _today

AVAILABILITY_ROLES = (Role.consultant, Role.coordinator)
FEED_ROLES = (Role.consultant, Role.prescriber)
WEEKDAYS = ["Måndag", "Tisdag", "Onsdag", "Torsdag", "Fredag", "Lördag", "Söndag"]
NOTICES = {
    "mall": "Tillgängligheten är publicerad.",
    "avslutad": "Mallen är avslutad.",
    "franvaro": "Frånvaron är registrerad.",
    "borttagen": "Frånvaron är borttagen.",
}


def _now() -> datetime:
    return datetime.now(timezone.utc)


# --- availability (the consultant, or a coordinator for them) ----------------------------


class AvailabilityController(Controller):
    path = "/utprovningar/tillganglighet"
    guards = [requires(*AVAILABILITY_ROLES)]

    async def _consultant(self, actor: Actor, requested: int | str | None) -> dict:
        """The consultant whose availability this is: oneself, or the coordinator's choice."""
        consultants = await service.list_consultants(actor.organisation)
        if actor.role is Role.consultant:
            return next((c for c in consultants if c["id"] == actor.id), {"id": actor.id, "name": actor.name})
        try:
            wanted = int(requested) if requested not in (None, "") else None
        except (TypeError, ValueError):
            wanted = None
        chosen = next((c for c in consultants if c["id"] == wanted), None)
        if chosen is None and wanted is not None:
            raise NotFoundException()
        return chosen or (consultants[0] if consultants else {})

    async def _page(self, request: Request, consultant: dict, *, form: dict | None = None,
                    error: DomainError | None = None, absence_form: dict | None = None,
                    absence_error: DomainError | None = None, notice: str | None = None,
                    status: int = 200) -> Template:
        actor = current_actor(request)
        areas = await service.list_product_areas(actor.organisation)
        templates = await service.list_templates(consultant["id"]) if consultant else []
        today = _today()
        places = service.place_labels()
        return Template("fittings/availability.html", context={
            "actor": actor, "consultant": consultant,
            "consultants": await service.list_consultants(actor.organisation) if actor.role is Role.coordinator else [],
            "areas": areas, "area_names": {a.id: a.name for a in areas},
            "resources": await service.list_resources(actor.organisation),
            "templates": [t for t in templates if t.valid_to is None or t.valid_to >= today],
            "ended": [t for t in templates if t.valid_to is not None and t.valid_to < today],
            "exceptions": await service.list_exceptions(consultant["id"], since=_now()) if consultant else [],
            "weekdays": WEEKDAYS, "places": list(places.items()), "place_labels": places,
            "slot_minutes": service.SLOT_MINUTES, "today": today,
            "form": form or {"valid_from": today.isoformat(), "slot_minutes": "90", "place": "hmc",
                             "buffer_before": "0", "buffer_after": "15", "start_time": "09:00", "end_time": "12:00"},
            "error": error, "absence_form": absence_form or {}, "absence_error": absence_error,
            "notice": notice,
        }, status_code=status)

    def _back(self, actor: Actor, consultant: dict, notice: str) -> Redirect:
        suffix = f"&konsulent={consultant['id']}" if actor.role is Role.coordinator else ""
        return Redirect(f"/utprovningar/tillganglighet?andring={notice}{suffix}", status_code=303)

    @get("/")
    async def availability(self, request: Request, konsulent: FromQuery[str | None] = None,
                           andring: FromQuery[str | None] = None) -> Template:
        consultant = await self._consultant(current_actor(request), konsulent)
        return await self._page(request, consultant, notice=NOTICES.get(andring or ""))

    @post("/mallar")
    async def publish(self, request: Request, data: Form) -> Template | Redirect:
        actor = current_actor(request)
        form = _form(data)
        consultant = await self._consultant(actor, _text(form, "consultant"))
        if not consultant:
            raise NotFoundException()
        try:
            weekday = _int(form, "weekday", "Välj veckodag.")
            slot_minutes = _int(form, "slot_minutes", "Välj tidslängd.")
            buffer_before = _int(form, "buffer_before", "Skriv bufferten i minuter, t.ex. 15.")
            buffer_after = _int(form, "buffer_after", "Skriv bufferten i minuter, t.ex. 15.")
            try:
                area_ids = [int(v) for v in _many(form, "product_areas")]
                resource_ids = [int(v) for v in _many(form, "resources")]
            except ValueError:
                raise FormError("Ogiltigt val.", "product_areas") from None
            await service.publish_template(
                organisation_id=actor.organisation, consultant_id=consultant["id"], weekday=weekday,
                start_time=_time(form, "start_time"), end_time=_time(form, "end_time"),
                product_area_ids=area_ids, place=_text(form, "place"), slot_minutes=slot_minutes,
                valid_from=_date(form, "valid_from"), valid_to=_date(form, "valid_to", required=False),
                buffer_before_minutes=buffer_before, buffer_after_minutes=buffer_after, resource_ids=resource_ids,
            )
        except NotAllowed as exc:
            raise PermissionDeniedException(exc.message) from None
        except DomainError as exc:
            return await self._page(request, consultant, form=form, error=exc, status=400)
        return self._back(actor, consultant, "mall")

    @post("/mallar/{template_id:int}/avsluta")
    async def end(self, request: Request, template_id: FromPath[int], data: Form) -> Template | Redirect:
        actor = current_actor(request)
        template = await service.get_template(template_id)
        if template is None or template.organisation_id != actor.organisation or (
            actor.role is Role.consultant and template.consultant_id != actor.id
        ):
            raise NotFoundException()
        consultant = await self._consultant(actor, template.consultant_id)
        form = _form(data)
        try:
            last_day = _date(form, "last_day", required=False) or _today()
        except FormError as exc:
            return await self._page(request, consultant, error=exc, status=400)
        await service.end_template(template.id, last_day)
        return self._back(actor, consultant, "avslutad")

    @post("/franvaro")
    async def add_absence(self, request: Request, data: Form) -> Template | Redirect:
        actor = current_actor(request)
        form = _form(data)
        consultant = await self._consultant(actor, _text(form, "consultant"))
        if not consultant:
            raise NotFoundException()
        try:
            first_day = _date(form, "first_day")
            await service.add_exception_days(
                organisation_id=actor.organisation, consultant_id=consultant["id"], first_day=first_day,
                last_day=_date(form, "last_day", required=False) or first_day,
                reason=_text(form, "absence_reason", 200),
            )
        except NotAllowed as exc:
            raise PermissionDeniedException(exc.message) from None
        except DomainError as exc:
            return await self._page(request, consultant, absence_form=form, absence_error=exc, status=400)
        return self._back(actor, consultant, "franvaro")

    @post("/franvaro/{exception_id:int}/ta-bort")
    async def remove_absence(self, request: Request, exception_id: FromPath[int], data: Form) -> Redirect:
        actor = current_actor(request)
        consultant = await self._consultant(actor, _text(_form(data), "consultant"))
        if not consultant:
            raise NotFoundException()
        try:
            await service.remove_exception(actor.organisation, consultant["id"], exception_id)
        except NotFound:
            raise NotFoundException() from None
        return self._back(actor, consultant, "borttagen")


# --- calendar feeds ----------------------------------------------------------------------


class CalendarFeedController(Controller):
    path = "/utprovningar/kalender"
    guards = [requires(*FEED_ROLES)]

    @get("/")
    async def feed_page(self) -> Template:
        return Template("fittings/feed.html", context={"link": None, "revoked": False})

    @post("/", status_code=200)
    async def create(self, request: Request) -> Template:
        token = await service.create_feed_token(current_actor(request).id)
        settings: Settings = request.app.state["settings"]
        link = f"{settings.public_origin}/kalender/{token}.ics"
        return Template("fittings/feed.html", context={"link": link, "revoked": False})

    @post("/stang", status_code=200)
    async def revoke(self, request: Request) -> Template:
        await service.revoke_feed_token(current_actor(request).id)
        return Template("fittings/feed.html", context={"link": None, "revoked": True})


class PublicFeedController(Controller):
    """The feed a calendar app fetches: the token is the only key, so it is long and secret."""

    path = "/kalender"

    # A calendar app keeps no cookies and posts nothing: neither a session (auth.session_config
    # excludes /kalender/) nor a CSRF cookie is set on it.
    @get("/{feed:str}", opt={"public": True, "rate_limited": True, "exclude_from_csrf": True})
    async def feed(self, feed: FromPath[str]) -> Response:
        token = feed[: -len(".ics")] if feed.endswith(".ics") else ""
        staff_user_id = await service.staff_user_for_feed_token(token) if token else None
        if staff_user_id is None:
            raise NotFoundException()
        return Response(
            content=await service.calendar_feed(staff_user_id),
            media_type="text/calendar",  # Litestar adds "; charset=utf-8" to every text/* type
            headers={"cache-control": "private, no-store"},
        )


# --- service level (coordinators) --------------------------------------------------------


class ServiceLevelController(Controller):
    path = "/utprovningar/serviceniva"
    guards = [requires(*STAFF_OVERSIGHT)]

    @get("/")
    async def service_level(self, request: Request) -> Template:
        report = await service.service_level_report(current_actor(request).organisation, _today())
        return Template("fittings/service_level.html", context={"report": report})
