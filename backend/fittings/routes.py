"""Fittings on the web: availability, booking for a patient, the bookings, feeds and service level.

Thin as the other domains' routes: parse the form, check who asks, call one function of
backend.fittings.service, render. Patient ids travel in form bodies, never in URLs.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

from litestar import Controller, Request, get, post
from litestar.exceptions import NotFoundException, PermissionDeniedException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Response, Template

from backend.accounts.service import Actor
from backend.accounts.tables import Role
from backend.auth import STAFF_OVERSIGHT, current_actor, requires
from backend.fittings import service
from backend.forms import Form, FormError
from backend.forms import date_field as _date
from backend.forms import fields as _form
from backend.forms import integer as _int
from backend.forms import many as _many
from backend.forms import text as _text
from backend.forms import time_field as _time
from backend.fittings.service import FittingError, InvalidInput, NotAllowed, NotFound, SlotTaken
from backend.patients import service as patients
from backend.settings import Settings
from backend.web import STOCKHOLM

FITTING_ROLES = (Role.prescriber, Role.consultant, Role.coordinator, Role.admin)
AVAILABILITY_ROLES = (Role.consultant, Role.coordinator)
FEED_ROLES = (Role.consultant, Role.prescriber)
WEEKDAYS = ["Måndag", "Tisdag", "Onsdag", "Torsdag", "Fredag", "Lördag", "Söndag"]
NOTICES = {
    "bokad": "Utprovningen är bokad.",
    "flyttad": "Tiden är flyttad.",
    "avbokad": "Utprovningen är avbokad.",
    "mall": "Tillgängligheten är publicerad.",
    "avslutad": "Mallen är avslutad.",
    "franvaro": "Frånvaron är registrerad.",
    "borttagen": "Frånvaron är borttagen.",
}
# Domain messages that belong to one form field, so the error shows next to it.
FIELD_OF_MESSAGE = {
    "Beskriv problemet i remissen": "problem",
    "Beskriv målet med utprovningen": "goal",
    "Remissdatumet kan inte vara i framtiden": "referral_date",
    "Ange språk för tolken": "interpreter_language",
    "Ange varför tiden flyttas": "reason",
    "Ange varför tiden avbokas": "reason",
    "Sluttiden måste vara efter starttiden": "end_time",
    "Välj minst ett produktområde": "product_areas",
    "Slutdatumet måste vara efter startdatumet": "valid_to",
    "Bufferttiden ska vara 0–240 minuter": "buffer_before",
    "Tidslängden ska vara 60, 90 eller 120 minuter": "slot_minutes",
    "Slutet måste vara efter början": "last_day",
}


def _form_error(exc: FittingError) -> FormError:
    return FormError(exc.message, FIELD_OF_MESSAGE.get(exc.message))


def settings_of(request: Request) -> Settings:
    return request.app.state["settings"]


def _window(request: Request) -> dict:
    settings = settings_of(request)
    return {"min_notice_hours": settings.fitting_min_notice_hours, "horizon_days": settings.fitting_horizon_days}


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _today() -> date:
    return datetime.now(STOCKHOLM).date()


def slot_value(slot: service.FittingSlot) -> str:
    """A slot as one form value: the consultant and the start (Unix seconds, UTC)."""
    return f"{slot.consultant_id}_{int(slot.starts_at.timestamp())}"


def _parse_slot(value: str) -> tuple[int, datetime]:
    try:
        consultant, seconds = value.split("_", 1)
        return int(consultant), datetime.fromtimestamp(int(seconds), timezone.utc)
    except (ValueError, OverflowError, OSError):
        raise FormError("Välj en tid.", "slot") from None


def _epoch(value: str) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(value), timezone.utc) if value else None
    except (ValueError, OverflowError, OSError):
        return None


async def _booking_to_change(actor: Actor, booking_id: int) -> service.Booking:
    booking = await _booking_for(actor, booking_id)
    if not service.actor_may_change(booking, actor):
        raise PermissionDeniedException("Du kan inte ändra den här bokningen.")
    return booking


async def _booking_for(actor: Actor, booking_id: int) -> service.Booking:
    try:
        booking = await service.get_booking(booking_id)
    except NotFound:
        raise NotFoundException() from None
    if not service.may_view(booking, actor):
        raise NotFoundException()  # never say whether someone else's booking exists
    return booking


# --- the bookings: lists and one booking ------------------------------------------------


class FittingController(Controller):
    path = "/utprovningar"
    guards = [requires(*FITTING_ROLES)]

    @get("/")
    async def index(self, request: Request, konsulent: FromQuery[int | None] = None) -> Template:
        actor = current_actor(request)
        consultants, chosen = [], None
        since = _now() - timedelta(days=1)
        if actor.role is Role.prescriber:
            bookings = await service.bookings_for_care_unit(actor.care_unit, since=since)
        elif actor.role is Role.consultant:
            bookings = [b for b in await service.bookings_for_staff(actor.id, since=since) if b.consultant_id == actor.id]
        else:
            consultants = await service.list_consultants(actor.organisation)
            chosen = next((c for c in consultants if c["id"] == konsulent), None)
            bookings = []
            if chosen:
                bookings = [b for b in await service.bookings_for_staff(chosen["id"], since=since)
                            if b.consultant_id == chosen["id"]]
        bookings = [b for b in bookings if b.ends_at >= _now()]
        return Template("fittings/index.html", context={
            "actor": actor, "bookings": bookings, "consultants": consultants, "chosen": chosen,
            "patients": await service.booking_patients(actor, bookings, "fitting_list"),
            "places": _place_labels(),
        })

    async def _booking_page(self, request: Request, booking: service.Booking, *, error: FormError | None = None,
                            form: dict | None = None, status: int = 200, taken: bool = False,
                            notice: str | None = None, from_day: date | None = None) -> Template:
        actor = current_actor(request)
        can_change = (booking.status == "booked" and booking.starts_at > _now()
                      and service.actor_may_change(booking, actor))
        alternatives: list[service.FittingSlot] = []
        if can_change:
            from_time = service.local_to_utc(from_day, time(0)) if from_day else None
            alternatives = [
                s for s in await service.find_slots(
                    booking.organisation_id, booking.product_area_id, booking.place, from_time=from_time,
                    referral_date=booking.referral.referral_date, exclude_booking=booking.id, limit=10,
                    **_window(request),
                )
                if not (s.consultant_id == booking.consultant_id and s.starts_at == booking.starts_at)
            ]
        patients_by_id = await service.booking_patients(actor, [booking], "fitting_booking")
        return Template("fittings/booking.html", context={
            "actor": actor, "booking": booking, "patient": patients_by_id.get(booking.patient_id),
            "history": await service.booking_history(booking.id), "labels": service.EVENT_LABELS,
            "places": _place_labels(), "can_change": can_change, "alternatives": alternatives,
            "slot_value": slot_value, "error": error, "form": form or {}, "taken": taken, "notice": notice,
            "from_day": from_day,
        }, status_code=status)

    @get("/bokningar/{booking_id:int}")
    async def booking(self, request: Request, booking_id: FromPath[int], andring: FromQuery[str | None] = None,
                      fran: FromQuery[str | None] = None) -> Template:
        booking = await _booking_for(current_actor(request), booking_id)
        try:
            from_day = date.fromisoformat(fran) if fran else None
        except ValueError:
            from_day = None
        return await self._booking_page(request, booking, notice=NOTICES.get(andring or ""), from_day=from_day)

    @post("/bokningar/{booking_id:int}/flytta")
    async def reschedule(self, request: Request, booking_id: FromPath[int], data: Form) -> Template | Redirect:
        actor = current_actor(request)
        booking = await _booking_to_change(actor, booking_id)
        form = _form(data)
        try:
            consultant_id, starts_at = _parse_slot(_text(form, "slot"))
            await service.reschedule_fitting(
                booking_id=booking.id, actor_id=actor.id, starts_at=starts_at, reason=_text(form, "reason"),
                consultant_id=consultant_id, **_window(request),
            )
        except FormError as exc:
            return await self._booking_page(request, booking, error=exc, form=form, status=400)
        except SlotTaken:
            return await self._booking_page(request, booking, form=form, status=409, taken=True)
        except NotAllowed as exc:  # cancelled or passed meanwhile: permission was checked above
            return await self._booking_page(request, booking, error=FormError(exc.message), form=form, status=409)
        except FittingError as exc:
            return await self._booking_page(request, booking, error=_form_error(exc), form=form, status=400)
        return Redirect(f"/utprovningar/bokningar/{booking.id}?andring=flyttad", status_code=303)

    @post("/bokningar/{booking_id:int}/avboka")
    async def cancel(self, request: Request, booking_id: FromPath[int], data: Form) -> Template | Redirect:
        actor = current_actor(request)
        booking = await _booking_to_change(actor, booking_id)
        form = _form(data)
        try:
            await service.cancel_fitting(booking_id=booking.id, actor_id=actor.id, reason=_text(form, "cancel_reason"))
        except NotAllowed as exc:  # cancelled or passed meanwhile: permission was checked above
            return await self._booking_page(request, booking, error=FormError(exc.message), form=form, status=409)
        except FittingError as exc:
            error = FormError(exc.message, "cancel_reason" if isinstance(exc, InvalidInput) else None)
            return await self._booking_page(request, booking, error=error, form=form, status=400)
        return Redirect(f"/utprovningar/bokningar/{booking.id}?andring=avbokad", status_code=303)


def _place_labels() -> dict[str, str]:
    return {place.value: label for place, label in service.PLACE_LABELS.items()}


# --- booking for a patient (the prescriber) ----------------------------------------------


class BookingFlowController(Controller):
    """Boka utprovning: area, patient and place; the earliest times; the referral; confirm."""

    path = "/utprovningar/boka"
    guards = [requires(Role.prescriber)]

    async def _choose_page(self, request: Request, form: dict, *, results: list | None = None,
                           patient: dict | None = None, error: FormError | None = None, status: int = 200) -> Template:
        actor = current_actor(request)
        return Template("fittings/book.html", context={
            "form": form, "results": results, "patient": patient, "error": error,
            "areas": [(a.id, a.name) for a in await service.list_product_areas(actor.organisation)],
            "places": list(_place_labels().items()), "today": _today(),
        }, status_code=status)

    async def _times_page(self, request: Request, form: dict, choice: dict, *, error: FormError | None = None,
                          taken: list | None = None, status: int = 200) -> Template:
        """The earliest free times and the referral form; after a lost race, the fresh alternatives."""
        actor = current_actor(request)
        if taken is not None:
            slots = taken
        else:
            slots = await service.find_slots(
                actor.organisation, choice["area"].id, choice["place"], from_time=_epoch(_text(form, "from")),
                referral_date=choice["referral_date"], limit=8, **_window(request),
            )
        if slots and not _text(form, "first_offered"):
            # The service level is measured on the earliest time shown at the first look.
            form = {**form, "first_offered": str(int(slots[0].starts_at.timestamp()))}
        return Template("fittings/book_times.html", context={
            "form": form, "choice": choice, "slots": slots, "slot_value": slot_value, "error": error,
            "taken": taken is not None, "places": _place_labels(),
            "later": str(int(slots[-1].starts_at.timestamp()) + 60) if slots else "",
        }, status_code=status)

    async def _choice(self, request: Request, form: dict) -> dict:
        """Area, place, patient and referral date, checked; FormError names the field."""
        actor = current_actor(request)
        areas = {a.id: a for a in await service.list_product_areas(actor.organisation)}
        try:
            area = areas[int(_text(form, "product_area"))]
        except (KeyError, ValueError):
            raise FormError("Välj produktområde.", "product_area") from None
        place = _text(form, "place")
        if place not in _place_labels():
            raise FormError("Välj plats.", "place")
        referral_date = _date(form, "referral_date", "Skriv remissdatumet som 2026-03-01.")
        if referral_date > _today():
            raise FormError("Remissdatumet kan inte vara i framtiden.", "referral_date")
        if referral_date < _today() - timedelta(days=365):
            raise FormError("Remissdatumet kan inte vara mer än ett år bakåt.", "referral_date")
        patient = await self._patient(actor, form)
        return {"area": area, "place": place, "referral_date": referral_date, "patient": patient}

    async def _patient(self, actor: Actor, form: dict) -> dict:
        try:
            patient_id = int(_text(form, "patient"))
        except ValueError:
            raise FormError("Sök och välj patienten.", "q") from None
        try:
            return await patients.patient_brief(actor, patient_id, "fitting_booking")
        except patients.PatientNotVisible:
            # Another unit's patient, or none at all: the same answer for both.
            raise NotFoundException("Patienten finns inte bland dina patienter.") from None

    @get("/")
    async def start(self, request: Request) -> Template:
        return await self._choose_page(request, {"referral_date": _today().isoformat(), "place": "hmc"})

    @post("/sok", status_code=200)
    async def search(self, request: Request, data: Form) -> Template:
        form = _form(data)
        query = _text(form, "q", 100)
        if len(query) < 2:
            return await self._choose_page(request, form, error=FormError("Skriv minst två tecken.", "q"), status=400)
        results = await patients.search_patients(current_actor(request), query)
        return await self._choose_page(request, form, results=results)

    @post("/tider", status_code=200)
    async def times(self, request: Request, data: Form) -> Template:
        form = _form(data)
        try:
            choice = await self._choice(request, form)
        except FormError as exc:
            patient = None
            if exc.field != "q" and _text(form, "patient"):
                try:
                    patient = await self._patient(current_actor(request), form)
                except NotFoundException:
                    patient = None
            return await self._choose_page(request, form, patient=patient, error=exc, status=400)
        return await self._times_page(request, form, choice)

    @post("/bekrafta", status_code=200)
    async def confirm(self, request: Request, data: Form) -> Template | Redirect:
        actor = current_actor(request)
        form = _form(data)
        try:
            choice = await self._choice(request, form)
        except FormError as exc:
            return await self._choose_page(request, form, error=exc, status=400)
        try:
            if not _text(form, "slot"):
                raise FormError("Välj en tid.", "slot")
            consultant_id, starts_at = _parse_slot(_text(form, "slot"))
            first_offered = _epoch(_text(form, "first_offered"))
            if first_offered is None or first_offered > starts_at:
                first_offered = starts_at
            interpreter = _text(form, "interpreter_needed") == "ja"
            booking = await service.book_fitting(
                organisation_id=actor.organisation, prescriber_id=actor.id, patient_id=choice["patient"]["id"],
                product_area_id=choice["area"].id, place=choice["place"], consultant_id=consultant_id,
                starts_at=starts_at, first_offered_at=first_offered,
                referral=service.Referral(
                    referral_date=choice["referral_date"], problem=_text(form, "problem"),
                    goal=_text(form, "goal"), current_devices=_text(form, "current_devices"),
                    attendees=_text(form, "attendees", 500), interpreter_needed=interpreter,
                    interpreter_language=_text(form, "interpreter_language", 60) if interpreter else "",
                    access_notes=_text(form, "access_notes"),
                ),
                **_window(request),
            )
        except FormError as exc:
            return await self._times_page(request, form, choice, error=exc, status=400)
        except SlotTaken as exc:
            form = {k: v for k, v in form.items() if k != "slot"}
            return await self._times_page(request, form, choice, taken=exc.alternatives, status=409)
        except NotAllowed as exc:
            raise PermissionDeniedException(exc.message) from None
        except FittingError as exc:
            return await self._times_page(request, form, choice, error=_form_error(exc), status=400)
        return Redirect(f"/utprovningar/bokningar/{booking.id}?andring=bokad", status_code=303)


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

    async def _page(self, request: Request, consultant: dict, *, form: dict | None = None, error: FormError | None = None,
                    absence_form: dict | None = None, absence_error: FormError | None = None,
                    notice: str | None = None, status: int = 200) -> Template:
        actor = current_actor(request)
        areas = await service.list_product_areas(actor.organisation)
        templates = await service.list_templates(consultant["id"]) if consultant else []
        today = _today()
        return Template("fittings/availability.html", context={
            "actor": actor, "consultant": consultant,
            "consultants": await service.list_consultants(actor.organisation) if actor.role is Role.coordinator else [],
            "areas": areas, "area_names": {a.id: a.name for a in areas},
            "resources": await service.list_resources(actor.organisation),
            "templates": [t for t in templates if t.valid_to is None or t.valid_to >= today],
            "ended": [t for t in templates if t.valid_to is not None and t.valid_to < today],
            "exceptions": await service.list_exceptions(consultant["id"], since=_now()) if consultant else [],
            "weekdays": WEEKDAYS, "places": list(_place_labels().items()), "place_labels": _place_labels(),
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
            if not 0 <= weekday <= 6:
                raise FormError("Välj veckodag.", "weekday")
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
        except FormError as exc:
            return await self._page(request, consultant, form=form, error=exc, status=400)
        except NotAllowed as exc:
            raise PermissionDeniedException(exc.message) from None
        except FittingError as exc:
            return await self._page(request, consultant, form=form, error=_form_error(exc), status=400)
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
            last_day = _date(form, "last_day", required=False) or first_day
            if last_day < first_day:
                raise FormError("Sista dagen måste vara samma dag som eller efter första dagen.", "last_day")
            reason = _text(form, "absence_reason", 200)
            if not reason:
                raise FormError("Skriv anledningen, t.ex. semester eller kurs.", "absence_reason")
            await service.add_exception_days(organisation_id=actor.organisation, consultant_id=consultant["id"],
                                             first_day=first_day, last_day=last_day, reason=reason)
        except FormError as exc:
            return await self._page(request, consultant, absence_form=form, absence_error=exc, status=400)
        except NotAllowed as exc:
            raise PermissionDeniedException(exc.message) from None
        except FittingError as exc:
            return await self._page(request, consultant, absence_form=form, absence_error=_form_error(exc), status=400)
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
        link = f"{settings_of(request).public_origin}/kalender/{token}.ics"
        return Template("fittings/feed.html", context={"link": link, "revoked": False})

    @post("/stang", status_code=200)
    async def revoke(self, request: Request) -> Template:
        await service.revoke_feed_token(current_actor(request).id)
        return Template("fittings/feed.html", context={"link": None, "revoked": True})


class PublicFeedController(Controller):
    """The feed a calendar app fetches: the token is the only key, so it is long and secret."""

    path = "/kalender"

    @get("/{feed:str}", opt={"public": True, "rate_limited": True})
    async def feed(self, feed: FromPath[str]) -> Response:
        token = feed[: -len(".ics")] if feed.endswith(".ics") else ""
        staff_user_id = await service.staff_user_for_feed_token(token) if token else None
        if staff_user_id is None:
            raise NotFoundException()
        return Response(
            content=await service.calendar_feed(staff_user_id),
            media_type="text/calendar; charset=utf-8",
            headers={"cache-control": "private, no-store"},
        )


# --- service level (coordinators) --------------------------------------------------------


class ServiceLevelController(Controller):
    path = "/utprovningar/serviceniva"
    guards = [requires(*STAFF_OVERSIGHT)]

    @get("/")
    async def service_level(self, request: Request) -> Template:
        actor = current_actor(request)
        today = _today()
        first = date(today.year - (today.month <= 11), (today.month - 12) % 12 + 1, 1)  # 12 months back
        rows = await service.fitting_service_level(actor.organisation, first, today)
        referrals = sum(r.referrals for r in rows)
        offered = sum(r.offered_within for r in rows)
        booked = sum(r.booked_within for r in rows)
        return Template("fittings/service_level.html", context={
            "rows": rows, "referrals": referrals, "offered_within": offered, "booked_within": booked,
            "offered_share": offered / referrals if referrals else None,
            "booked_share": booked / referrals if referrals else None,
            "target_days": await service.fitting_target_days(actor.organisation), "first_month": first,
            "target_share": 0.8,
        })
