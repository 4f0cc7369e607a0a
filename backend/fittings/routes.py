"""Fittings on the web, the bookings: the lists, one booking (move, cancel), and booking for a patient.

Thin as the other domains' routes: parse the form, check who asks, call one function of
backend.fittings.service, render; a refusal goes to the template as it is, naming its field.
Patient ids travel in form bodies, never in URLs. Availability, calendar feeds and the
service level are in availability_routes.py.
"""

from __future__ import annotations

from datetime import date, datetime, timezone

from litestar import Controller, Request, get, post
from litestar.exceptions import NotFoundException, PermissionDeniedException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from backend.accounts.service import Actor
from backend.accounts.tables import Role
from backend.auth import current_actor, requires
from backend.errors import DomainError
from backend.fittings import service
from backend.fittings.service import FittingError, NotAllowed, NotFound, SlotTaken
from backend.forms import Form, FormError
from backend.forms import date_field as _date
from backend.forms import fields as _form
from backend.forms import text as _text
from backend.patients import service as patients
from backend.settings import Settings
from backend.workdays import today as _today

FITTING_ROLES = (Role.prescriber, Role.consultant, Role.coordinator, Role.admin)
NOTICES = {
    "bokad": "Utprovningen är bokad.",
    "flyttad": "Tiden är flyttad.",
    "avbokad": "Utprovningen är avbokad.",
}


def _window(request: Request) -> dict:
    """The booking window the installation is set to: minimum notice and horizon."""
    settings: Settings = request.app.state["settings"]
    return {"min_notice_hours": settings.fitting_min_notice_hours, "horizon_days": settings.fitting_horizon_days}


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


async def _booking_for(actor: Actor, booking_id: int) -> service.Booking:
    try:
        booking = await service.get_booking(booking_id)
    except NotFound:
        raise NotFoundException() from None
    if not service.may_view(booking, actor):
        raise NotFoundException()  # never say whether someone else's booking exists
    return booking


async def _booking_to_change(actor: Actor, booking_id: int) -> service.Booking:
    booking = await _booking_for(actor, booking_id)
    if not service.actor_may_change(booking, actor):
        raise PermissionDeniedException("Du kan inte ändra den här bokningen.")
    return booking


# --- the bookings: lists and one booking ------------------------------------------------


class FittingController(Controller):
    path = "/utprovningar"
    guards = [requires(*FITTING_ROLES)]

    @get("/")
    async def index(self, request: Request, konsulent: FromQuery[int | None] = None) -> Template:
        actor = current_actor(request)
        consultants, chosen = [], None
        if actor.role not in (Role.prescriber, Role.consultant):
            consultants = await service.list_consultants(actor.organisation)
            chosen = next((c for c in consultants if c["id"] == konsulent), None)
        bookings = await service.upcoming_bookings(actor, consultant_id=chosen["id"] if chosen else None)
        return Template("fittings/index.html", context={
            "actor": actor, "bookings": bookings, "consultants": consultants, "chosen": chosen,
            "patients": await service.booking_patients(actor, bookings, "fitting_list"),
            "places": service.place_labels(),
        })

    async def _booking_page(self, request: Request, booking: service.Booking, *, error: DomainError | None = None,
                            form: dict | None = None, status: int = 200, taken: bool = False,
                            notice: str | None = None, from_day: date | None = None) -> Template:
        actor = current_actor(request)
        can_change = service.can_change_now(booking, actor)
        alternatives = (await service.times_to_move_to(booking, from_day=from_day, **_window(request))
                        if can_change else [])
        patients_by_id = await service.booking_patients(actor, [booking], "fitting_booking")
        return Template("fittings/booking.html", context={
            "actor": actor, "booking": booking, "patient": patients_by_id.get(booking.patient_id),
            "history": await service.booking_history(booking.id), "labels": service.EVENT_LABELS,
            "places": service.place_labels(), "can_change": can_change, "alternatives": alternatives,
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
        except SlotTaken:
            return await self._booking_page(request, booking, form=form, status=409, taken=True)
        except NotAllowed as exc:  # cancelled or passed meanwhile: permission was checked above
            return await self._booking_page(request, booking, error=exc, form=form, status=409)
        except DomainError as exc:
            return await self._booking_page(request, booking, error=exc, form=form, status=400)
        return Redirect(f"/utprovningar/bokningar/{booking.id}?andring=flyttad", status_code=303)

    @post("/bokningar/{booking_id:int}/avboka")
    async def cancel(self, request: Request, booking_id: FromPath[int], data: Form) -> Template | Redirect:
        actor = current_actor(request)
        booking = await _booking_to_change(actor, booking_id)
        form = _form(data)
        try:
            await service.cancel_fitting(booking_id=booking.id, actor_id=actor.id, reason=_text(form, "cancel_reason"))
        except NotAllowed as exc:  # cancelled or passed meanwhile: permission was checked above
            return await self._booking_page(request, booking, error=exc, form=form, status=409)
        except FittingError as exc:
            return await self._booking_page(request, booking, error=exc, form=form, status=400)
        return Redirect(f"/utprovningar/bokningar/{booking.id}?andring=avbokad", status_code=303)


# --- booking for a patient (the prescriber) ----------------------------------------------


class BookingFlowController(Controller):
    """Boka utprovning: area, patient and place; the earliest times; the referral; confirm."""

    path = "/utprovningar/boka"
    guards = [requires(Role.prescriber)]

    async def _choose_page(self, request: Request, form: dict, *, results: list | None = None,
                           patient: dict | None = None, error: DomainError | None = None,
                           status: int = 200) -> Template:
        actor = current_actor(request)
        return Template("fittings/book.html", context={
            "form": form, "results": results, "patient": patient, "error": error,
            "areas": [(a.id, a.name) for a in await service.list_product_areas(actor.organisation)],
            "places": list(service.place_labels().items()), "today": _today(),
        }, status_code=status)

    async def _times_page(self, request: Request, form: dict, choice: dict, *, error: DomainError | None = None,
                          taken: list | None = None, status: int = 200) -> Template:
        """The earliest free times and the referral form; after a lost race, the fresh alternatives.
        A referral date the times cannot be offered for sends the prescriber back to the first step."""
        actor = current_actor(request)
        if taken is not None:
            slots = taken
        else:
            try:
                slots = await service.times_for_referral(
                    actor.organisation, choice["area"].id, choice["place"], choice["referral_date"],
                    from_time=_epoch(_text(form, "from")), **_window(request),
                )
            except FittingError as exc:
                return await self._choose_page(request, form, patient=choice["patient"], error=exc, status=400)
        if slots and not _text(form, "first_offered"):
            # The service level is measured on the earliest time shown at the first look.
            form = {**form, "first_offered": str(int(slots[0].starts_at.timestamp()))}
        return Template("fittings/book_times.html", context={
            "form": form, "choice": choice, "slots": slots, "slot_value": slot_value, "error": error,
            "taken": taken is not None, "places": service.place_labels(),
            "later": str(int(slots[-1].starts_at.timestamp()) + 60) if slots else "",
        }, status_code=status)

    async def _choice(self, request: Request, form: dict) -> dict:
        """Area, place, patient and referral date, read; FormError names the field."""
        actor = current_actor(request)
        areas = {a.id: a for a in await service.list_product_areas(actor.organisation)}
        try:
            area = areas[int(_text(form, "product_area"))]
        except (KeyError, ValueError):
            raise FormError("Välj produktområde.", "product_area") from None
        place = _text(form, "place")
        if place not in service.place_labels():
            raise FormError("Välj plats.", "place")
        referral_date = _date(form, "referral_date", "Skriv remissdatumet som 2026-03-01.")
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
                except (NotFoundException, FormError):  # no such patient, or not a number at all
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
            interpreter = _text(form, "interpreter_needed") == "ja"
            booking = await service.book_fitting(
                organisation_id=actor.organisation, prescriber_id=actor.id, patient_id=choice["patient"]["id"],
                product_area_id=choice["area"].id, place=choice["place"], consultant_id=consultant_id,
                starts_at=starts_at, first_offered_at=_epoch(_text(form, "first_offered")),
                referral=service.Referral(
                    referral_date=choice["referral_date"], problem=_text(form, "problem"),
                    urgent=_text(form, "urgent") == "ja",
                    goal=_text(form, "goal"), current_devices=_text(form, "current_devices"),
                    attendees=_text(form, "attendees", 500), interpreter_needed=interpreter,
                    interpreter_language=_text(form, "interpreter_language", 60) if interpreter else "",
                    access_notes=_text(form, "access_notes"),
                ),
                **_window(request),
            )
        except SlotTaken as exc:
            form = {k: v for k, v in form.items() if k != "slot"}
            return await self._times_page(request, form, choice, taken=exc.alternatives, status=409)
        except NotAllowed as exc:
            raise PermissionDeniedException(exc.message) from None
        except DomainError as exc:
            return await self._times_page(request, form, choice, error=exc, status=400)
        return Redirect(f"/utprovningar/bokningar/{booking.id}?andring=bokad", status_code=303)
