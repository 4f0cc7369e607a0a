"""Access-log review (/loggkontroll, admins) and the patient's log extract (/loggutdrag,
coordinators and admins). The rules are in review.py and extract.py; this module also puts together
what the selections need from the domains above the log (`review_sources`)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from litestar import Controller, Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Response, Template

from backend.accounts import service as accounts
from backend.accounts.tables import ROLE_LABELS, STAFF_OVERSIGHT, Role
from backend.audit import documents, extract, review
from backend.auth import current_actor, requires
from backend.db import Sql
from backend.errors import DomainError
from backend.faults import service as faults
from backend.fittings import service as fittings
from backend.forms import EARLIEST_DATE, INT4_MAX, LATEST_DATE, Form, fields, readable, text
from backend.organisations import service as organisations
from backend.patients import service as patients
from backend.workdays import today
from backend.workorders import service as workorders

# The review judges who read what, so it is an admin's task (the care provider's appointed person
# is given the admin role for it); the extract is handed over by a coordinator.
REVIEWERS = (Role.admin,)
PRIVATE = {"cache-control": "private, no-store"}
NOTICES = {
    "bedomd": "Bedömningen är sparad.",
    "avslutad": "Granskningen är avslutad.",
    "skapad": "Granskningen är skapad. Bedöm varje åtkomst och avsluta den med en slutsats.",
}


def _care_relation(staff_user: Sql, patient: Sql, at: Sql, days: int) -> Sql:
    return Sql("(:orders OR :bookings OR :reports)",
               orders=workorders.care_relation_at(staff_user, patient, at, days),
               bookings=fittings.care_relation_at(staff_user, patient, at, days),
               reports=faults.care_relation_at(staff_user, patient, at, days))


def review_sources() -> review.Sources:
    """The patient's facts and the care relations (work and repair orders, fitting bookings, fault
    reports), from their owners, for the log's selections."""
    return review.Sources(patient=patients.review_facts, care_relation=_care_relation)


# --- reading the search form (GET) ----------------------------------------------------------------


def _date(query: dict, name: str, default: date | None) -> date | None:
    value = text(query, name, 20)
    if not value:
        return default
    try:
        parsed = date.fromisoformat(value)
    except ValueError:
        raise review.ReviewError("Skriv datumet som 2026-03-01.", name) from None
    if not EARLIEST_DATE <= parsed <= LATEST_DATE:
        raise review.ReviewError(f"Välj ett datum mellan {EARLIEST_DATE.year} och {LATEST_DATE.year}.", name)
    return parsed


def _int(query: dict, name: str, default: int | None, message: str) -> int | None:
    value = text(query, name, 20)
    if not value:
        return default
    try:
        number = int(value)
    except ValueError:
        raise review.ReviewError(message, name) from None
    if not -INT4_MAX <= number <= INT4_MAX:
        raise review.ReviewError(message, name)
    return number


def _id(query: dict, name: str) -> int | None:
    number = _int(query, name, None, "Välj i listan.")
    return number if number and number > 0 else None


def _many(query: dict, name: str) -> list[str]:
    value = query.get(name)
    values = value if isinstance(value, list) else ([] if value is None else [value])
    return [readable(str(v), name)[:40] for v in values]


def parse_criteria(query: dict, day: date) -> tuple[review.Search, review.Selection]:
    """The search and the selection from the page's form fields (GET or POST)."""
    default = review.Search.last_month(day)
    what = text(query, "vad", 100) or None
    if what is not None and what not in review.WHAT_LABELS:
        raise review.ReviewError("Välj vilken sorts åtkomst i listan.", "vad")
    search = review.Search(
        period_from=_date(query, "fran", default.period_from), period_until=_date(query, "till", default.period_until),
        patient=_id(query, "patient"), staff_user=_id(query, "personal"), care_unit=_id(query, "enhet"), what=what)
    signals = tuple(s for s in review.SIGNALS if s in set(_many(query, "urval")))
    if len(signals) != len(set(_many(query, "urval"))):
        raise review.ReviewError("Välj urval i listan.", "urval")
    selection = review.Selection(
        sample_percent=_int(query, "andel", None, "Skriv andelen som ett heltal 1–100."),
        sample_day=_date(query, "dag", None),
        sample_seed=_int(query, "fro", 0, "Stickprovets nummer ska vara ett heltal.") or 0,
        signals=signals, match="all" if text(query, "kombination", 10) == "alla" else "any",
        day_starts=_int(query, "arbetstid_fran", 7, "Skriv en hel timme 0–24."),
        day_ends=_int(query, "arbetstid_till", 18, "Skriv en hel timme 0–24."),
        many_count=_int(query, "manga_antal", 20, "Skriv antalet som ett heltal."),
        many_minutes=_int(query, "manga_minuter", 10, "Skriv minuterna som ett heltal."),
        relation_days=_int(query, "relation_dagar", 30, "Skriv dagarna som ett heltal."))
    return search, selection


def _query_dict(request: Request) -> dict:
    found: dict = {}
    for key, value in request.query_params.multi_items():
        if key in found:
            found[key] = (found[key] if isinstance(found[key], list) else [found[key]]) + [value]
        else:
            found[key] = value
    return found


def _query_string(query: dict, **changes: object) -> str:
    from urllib.parse import urlencode

    merged = {**{k: v for k, v in query.items() if k != "sida"}, **{k: v for k, v in changes.items()}}
    return urlencode({k: v for k, v in merged.items() if v not in (None, "")}, doseq=True)


async def _with_personal_number(actor, query: dict, search: review.Search) -> review.Search:
    """The search narrowed to the patient whose personnummer was typed (`pnr`)."""
    typed = text(query, "pnr", 20)
    if not typed:
        return search
    found = await patients.search_patients(actor, typed) if len(typed.replace("-", "")) >= 10 else []
    if len(found) != 1 or found[0]["personal_number"].replace("-", "")[-10:] != typed.replace("-", "")[-10:]:
        raise review.ReviewError("Ingen patient har det personnumret. Skriv det som 19401231-1234.", "pnr")
    return replace(search, patient=found[0]["id"])


class LogReviewController(Controller):
    path = "/loggkontroll"
    guards = [requires(*REVIEWERS)]

    async def _choices(self, organisation_id: int) -> dict:
        staff = [(person["id"], f"{person['name']} ({ROLE_LABELS[role]})") for role in Role
                 for person in await accounts.staff_with_role(organisation_id, role)]
        return {
            "staff": sorted(staff, key=lambda choice: choice[1]),
            "units": [(u["id"], u["name"]) for u in await organisations.care_units(organisation_id)],
            "whats": sorted(review.WHAT_LABELS.items(), key=lambda kv: kv[1]),
            "signals": [(s, review.FLAG_LABELS[s]) for s in review.SIGNALS],
            "reasons": list(review.REASON_LABELS.items()),
        }

    @get("/")
    async def search(self, request: Request) -> Template:
        actor = current_actor(request)
        query = _query_dict(request)
        error, found, status = None, {"accesses": [], "total": 0, "more": False}, 200
        search, selection = review.Search.last_month(today()), review.Selection()
        page = 1
        try:
            page = max(1, min(_int(query, "sida", 1, "Sidan ska vara ett heltal.") or 1, 10_000))
            search, selection = parse_criteria(query, today())
            search = await _with_personal_number(actor, query, search)
            found = await review.search_log(actor, search, selection, review_sources(), page)
        except DomainError as exc:
            error, status = exc, 400
        return Template("audit/search.html", context={
            **await self._choices(actor.organisation), "search": search, "selection": selection, "found": found,
            "page": page, "page_size": review.PAGE_SIZE, "error": error, "query": query,
            "query_string": _query_string(query), "reminders": await review.open_reminders(actor.organisation),
            "flag_labels": review.FLAG_LABELS, "described": review.describe(search, selection),
        }, status_code=status, headers=PRIVATE)

    @post("/granskningar")
    async def create(self, request: Request, data: Form) -> Template | Redirect:
        actor = current_actor(request)
        form = fields(data)
        try:
            search, selection = parse_criteria(form, today())
            search = await _with_personal_number(actor, form, search)
            reason = text(form, "skal", 20)
            review_id = await review.create_review(actor, actor.organisation, reason, search, selection,
                                                   review_sources())
        except DomainError as exc:
            return Template("audit/search.html", context={
                **await self._choices(actor.organisation), "search": review.Search.last_month(today()),
                "selection": review.Selection(), "found": {"accesses": [], "total": 0, "more": False}, "page": 1,
                "page_size": review.PAGE_SIZE, "error": exc, "query": form, "query_string": "",
                "reminders": await review.open_reminders(actor.organisation), "flag_labels": review.FLAG_LABELS,
                "described": "",
            }, status_code=400, headers=PRIVATE)
        return Redirect(f"/loggkontroll/granskningar/{review_id}?klart=skapad", status_code=303)

    @get("/granskningar")
    async def reviews(self, request: Request) -> Template:
        actor = current_actor(request)
        return Template("audit/reviews.html", context={"reviews": await review.reviews(actor.organisation)},
                        headers=PRIVATE)

    async def _review_page(self, request: Request, review_id: int, *, error: DomainError | None = None,
                           notice: str | None = None, status: int = 200) -> Template:
        try:
            found = await review.review(current_actor(request), review_id, review_sources())
        except review.ReviewNotFound:
            raise NotFoundException() from None
        return Template("audit/review.html", context={
            "review": found, "error": error, "notice": NOTICES.get(notice or ""),
            "verdicts": list(review.VERDICT_LABELS.items())}, status_code=status, headers=PRIVATE)

    @get("/granskningar/{review_id:int}")
    async def one(self, request: Request, review_id: FromPath[int], klart: FromQuery[str | None] = None) -> Template:
        return await self._review_page(request, review_id, notice=klart)

    @post("/granskningar/{review_id:int}/bedom")
    async def judge(self, request: Request, review_id: FromPath[int], data: Form) -> Template | Redirect:
        form = fields(data)
        item = None
        try:
            item = _id(form, "atkomst")
            if item is None:
                raise review.ReviewError("Välj vilken åtkomst bedömningen gäller.", "bedomning")
            await review.judge(current_actor(request), review_id, item, text(form, "bedomning", 10),
                               text(form, "kommentar", 2000))
        except review.ReviewNotFound:
            raise NotFoundException() from None
        except DomainError as exc:
            if item is not None and exc.field in ("bedomning", "kommentar"):
                exc.field = f"{exc.field}-{item}"  # each access's fields carry its id on the page
            return await self._review_page(request, review_id, error=exc, status=400)
        return Redirect(f"/loggkontroll/granskningar/{review_id}?klart=bedomd#atkomst-{item}", status_code=303)

    @post("/granskningar/{review_id:int}/avsluta")
    async def close(self, request: Request, review_id: FromPath[int], data: Form) -> Template | Redirect:
        form = fields(data)
        try:
            await review.close(current_actor(request), review_id, text(form, "slutsats", 4000))
        except review.ReviewNotFound:
            raise NotFoundException() from None
        except DomainError as exc:
            return await self._review_page(request, review_id, error=exc, status=400)
        return Redirect(f"/loggkontroll/granskningar/{review_id}?klart=avslutad", status_code=303)

    async def _exported(self, request: Request, review_id: int) -> dict:
        actor = current_actor(request)
        try:
            return await review.review(actor, review_id, review_sources(), record="review_export")
        except review.ReviewNotFound:
            raise NotFoundException() from None

    @get("/granskningar/{review_id:int}/loggkontroll.pdf")
    async def pdf(self, request: Request, review_id: FromPath[int]) -> Response:
        content = documents.review_pdf(await self._exported(request, review_id), today())
        return Response(content, media_type="application/pdf", headers={
            **PRIVATE, "content-disposition": f'inline; filename="loggkontroll-{review_id}.pdf"'})

    @get("/granskningar/{review_id:int}/loggkontroll.csv")
    async def csv(self, request: Request, review_id: FromPath[int]) -> Response:
        content = documents.review_csv(await self._exported(request, review_id))
        return Response(content, media_type="text/csv; charset=utf-8", headers={
            **PRIVATE, "content-disposition": f'attachment; filename="loggkontroll-{review_id}.csv"'})


class LogExtractController(Controller):
    path = "/loggutdrag"
    guards = [requires(*STAFF_OVERSIGHT)]

    @get("/")
    async def find(self, request: Request) -> Template:
        actor = current_actor(request)
        query = _query_dict(request)
        words = text(query, "q", 100)
        found = await patients.search_patients(actor, words) if words else []
        return Template("audit/extract.html", context={"q": words, "patients": found}, headers=PRIVATE)

    @get("/{patient_id:int}/loggutdrag.pdf")
    async def pdf(self, request: Request, patient_id: FromPath[int]) -> Response:
        actor = current_actor(request)
        if not 0 < patient_id <= INT4_MAX:
            raise NotFoundException()
        try:
            content = await extract.patient_extract(actor, patient_id, review_sources(), today())
        except extract.PatientNotFound:
            raise NotFoundException() from None
        return Response(content, media_type="application/pdf", headers={
            **PRIVATE, "content-disposition": f'inline; filename="loggutdrag-{patient_id}.pdf"'})
