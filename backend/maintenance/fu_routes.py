"""FU production's pages (coordinators and admins): the due list (/fu) with its counts and the
backlog's trend, generating FU orders for a period (/fu/generera, with a confirmation that shows
the count first, and the daily automatic generation), and a run's progress (/fu/korningar/{id},
polled by htmx every 2 s while it runs). The rules are in due.py and generation.py."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

from litestar import Controller, Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Response, Template

from backend.accounts.tables import Role
from backend.auth import current_actor, requires
from backend.devices import catalogue
from backend.errors import DomainError
from backend.forms import INT4_MAX, Form, FormError, FormErrors, date_field, fields, text
from backend.maintenance import due, generation
from backend.maintenance.due import DueFilter
from backend.maintenance.generation import Period, RunNotFound
from backend.organisations import service as organisations
from backend.web import is_htmx
from backend.workdays import today
from backend.workorders import planning

AUTO_LABELS = {"active": "Automatisk generering", "days_ahead": "Dagar framåt"}
AUTO_VALUES = {"active": {True: "På", False: "Av"}}
NOTICES = {"automatisk": "Inställningen är sparad.", "oforandrad": "Inget var ändrat.",
           "omrakning": "Listan räknas om. Ladda om sidan om en stund för att se de nya siffrorna."}


def _query_id(value: str | None) -> int | None:
    """A filter's id from the address, or None for anything that names no row."""
    value = (value or "").strip()
    return int(value) if value.isascii() and value.isdigit() and int(value) <= INT4_MAX else None


def _query_date(value: str | None, name: str, errors: list) -> date | None:
    """A date from the address; an unreadable one is a refusal of the field."""
    if not value:
        return None
    try:
        return date_field({name: value}, name)
    except FormError as exc:
        errors.extend(exc.errors)
        return None


def _refuse(errors: list) -> None:
    if errors:
        raise FormErrors(errors) if len(errors) > 1 else FormError(errors[0][1], errors[0][0])


async def _choices(organisation_id: int) -> dict:
    categories = await catalogue.category_choices(organisation_id)
    bearers = await organisations.cost_bearer_choices(organisation_id)
    return {"categories": categories, "category_names": dict(categories),
            "cost_bearers": [(b["id"], b["name"]) for b in bearers],
            "cost_bearer_names": {b["id"]: b["name"] for b in bearers}}


def _unfiltered(wanted: DueFilter) -> DueFilter:
    """The list as it is before any filter (its view and horizon kept): the backlog, which is the
    whole organisation's, is shown there."""
    return DueFilter(view="kalender", horizon=wanted.horizon, since=wanted.since, until=wanted.until)


def _schedules(state: dict | None) -> list[tuple[str, str]]:
    """The schedules on the list, by checklist code: the schedule filter's choices."""
    return [(s["code"], f"{s['name']} ({s['code']})") for s in (state["schedules"] if state else [])]


class FuController(Controller):
    path = "/fu"
    guards = [requires(Role.coordinator, Role.admin)]

    # --- the due list --------------------------------------------------------------------------

    async def _due_page(self, request: Request, wanted: DueFilter, page: int, *, errors: list | None = None,
                        refused: DomainError | None = None, notice: str | None = None) -> Template:
        actor = current_actor(request)
        day = today()
        choices = await _choices(actor.organisation)
        technicians = await planning.technicians(actor.organisation)
        context = {"filter": wanted, "technicians": [(t["id"], t["name"]) for t in technicians],
                   "horizons": list(due.HORIZONS.items()), "statuses": list(due.STATUSES.items()),
                   "views": due.VIEWS, "today": day, "window": wanted.window(day), "page": page,
                   "notice": notice, **choices}
        state = await due.state(actor.organisation)
        if errors:  # nothing is computed for an address that cannot be read
            return Template("maintenance/fu_due.html", status_code=400, context={
                **context, "error": FormErrors(errors), "state": state, "schedule_choices": _schedules(state),
                "rows": [], "counts": [], "more": False, "totals": None, "backlog_top": 1, "show_backlog": False})
        if state is None and not refused:  # the first visit: computed here once, then by the job queue
            await due.refresh(actor.organisation, today=day)
            state = await due.state(actor.organisation)
        rows, more = await due.due_page(actor.organisation, wanted, page, day)
        rows = [SimpleNamespace(**row) for row in rows]  # attributes: the template reads many of them
        counts = await due.due_counts(actor.organisation, wanted, day)
        return Template("maintenance/fu_due.html", status_code=400 if refused else 200, context={
            **context, "state": state, "schedule_choices": _schedules(state), "rows": rows, "more": more,
            "counts": counts, "error": refused, "show_backlog": page == 1 and wanted == _unfiltered(wanted),
            "totals": {k: sum(c[k] for c in counts) for k in ("overdue", "due", "ordered", "total")},
            "backlog_top": max([b["overdue"] for b in (state["backlog"] if state else [])] + [1])})

    @get("/")
    async def due_list(self, request: Request, vy: FromQuery[str | None] = None,
                       horisont: FromQuery[str | None] = None, fran: FromQuery[str | None] = None,
                       till: FromQuery[str | None] = None, kategori: FromQuery[str | None] = None,
                       kommun: FromQuery[str | None] = None, tekniker: FromQuery[str | None] = None,
                       schema: FromQuery[str | None] = None, status: FromQuery[str | None] = None,
                       sok: FromQuery[str | None] = None, sida: FromQuery[int] = 1,
                       klart: FromQuery[str | None] = None) -> Template:
        errors: list = []
        since, until = _query_date(fran, "fran", errors), _query_date(till, "till", errors)
        if (horisont or "") == "period" and not errors:
            if since is None or until is None:
                errors.append(("fran" if since is None else "till", "Ange både första och sista dagen."))
            elif until < since:
                errors.append(("till", "Sista dagen kan inte vara före den första."))
            elif until < today():
                errors.append(("till", "Välj en sista dag från och med idag: det som har förfallit visas alltid."))
        search = checklist = ""
        try:
            search = text({"sok": sok or ""}, "sok", 40)
            checklist = text({"schema": schema or ""}, "schema", 40)
        except FormError as exc:
            errors.extend(exc.errors)
        wanted = DueFilter(view=vy or "kalender", horizon=horisont or "manad", since=since, until=until,
                           category=_query_id(kategori), cost_bearer=_query_id(kommun),
                           technician=_query_id(tekniker), checklist=checklist, status=status,
                           search=search).cleaned()
        return await self._due_page(request, wanted, max(1, min(sida, 10_000)), errors=errors,
                                    notice=NOTICES.get(klart or ""))

    @post("/rakna-om")
    async def refresh(self, request: Request, data: Form) -> Response:
        """Compute the list again (in the background). The form carries when the list the person saw
        was computed: an empty or stale one is refused, so a repeated post asks for nothing twice."""
        actor = current_actor(request)
        seen = text(fields(data), "sedan", 60)
        current = await due.refreshed_at(actor.organisation)
        if not seen or current is None or seen != current.isoformat():
            return await self._due_page(request, DueFilter(), 1, refused=FormError(
                "Listan har räknats om sedan sidan visades, eller sidan är gammal. Se siffrorna nedan."))
        await due.request_refresh(actor.organisation)
        return Redirect("/fu?klart=omrakning", status_code=303)

    # --- generating ----------------------------------------------------------------------------

    async def _generate_page(self, request: Request, *, form: dict, error: DomainError | None = None,
                             preview: dict | None = None, auto_form: dict | None = None,
                             auto_error: DomainError | None = None, notice: str | None = None,
                             status: int = 200) -> Template:
        actor = current_actor(request)
        choices = await _choices(actor.organisation)
        setting = await generation.auto_setting(actor.organisation)
        runs = await generation.recent_runs(actor.organisation)
        for run in runs:
            run["filters_text"] = generation.filters_text(run, choices["category_names"])
        return Template("maintenance/fu_generate.html", status_code=status, context={
            **choices, "form": form, "error": error, "preview": preview, "runs": runs,
            "auto": setting, "auto_form": auto_form or {"active": "ja" if setting["active"] else "",
                                                        "days_ahead": str(setting["days_ahead"])},
            "auto_error": auto_error, "auto_history": await generation.auto_history(actor.organisation),
            "auto_labels": AUTO_LABELS, "auto_values": AUTO_VALUES, "notice": notice,
            "auto_days": generation.AUTO_DAYS})

    @staticmethod
    def _period(form: dict) -> Period:
        """The generation form's period and filters; every unreadable field at once."""
        errors: list = []
        start = end = None
        try:
            start = date_field(form, "period_start")
        except FormError as exc:
            errors.extend(exc.errors)
        try:
            end = date_field(form, "period_end")
        except FormError as exc:
            errors.extend(exc.errors)
        chosen = {}
        for name in ("cost_bearer", "category"):
            try:
                value = text(form, name, 20)
            except FormError as exc:
                errors.extend(exc.errors)
                continue
            chosen[name] = _query_id(value) if value else None
            if value and chosen[name] is None:
                errors.append((name, "Välj i listan."))
        _refuse(errors)
        return Period(start, end, cost_bearer=chosen.get("cost_bearer"), category=chosen.get("category"),
                      include_overdue=text(form, "include_overdue", 10) == "ja")

    @get("/generera")
    async def generate_form(self, request: Request, period_start: FromQuery[str | None] = None,
                            period_end: FromQuery[str | None] = None, cost_bearer: FromQuery[str | None] = None,
                            category: FromQuery[str | None] = None, include_overdue: FromQuery[str | None] = None,
                            klart: FromQuery[str | None] = None) -> Template:
        """The proposal (next month); with a period in the address, its count to confirm."""
        actor = current_actor(request)
        day = today()
        if period_start is None and period_end is None:
            proposal = generation.proposal(day)
            return await self._generate_page(request, form={"period_start": proposal.start.isoformat(),
                                                            "period_end": proposal.end.isoformat()},
                                             notice=NOTICES.get(klart or ""))
        form = {"period_start": period_start or "", "period_end": period_end or "", "cost_bearer": cost_bearer or "",
                "category": category or "", "include_overdue": include_overdue or ""}
        try:
            period = self._period(form)
            await generation.check(actor.organisation, period, day)
        except DomainError as exc:
            return await self._generate_page(request, form=form, error=exc, status=400)
        return await self._generate_page(request, form=form,
                                         preview=await generation.preview(actor.organisation, period, day))

    @post("/generera")
    async def generate(self, request: Request, data: Form) -> Response:
        actor = current_actor(request)
        form = fields(data)
        try:
            run_id = await generation.start_run(actor, self._period(form), today())
        except DomainError as exc:
            return await self._generate_page(request, form={k: v for k, v in form.items() if isinstance(v, str)},
                                             error=exc, status=400)
        return Redirect(f"/fu/korningar/{run_id}", status_code=303)

    @post("/generera/automatiskt")
    async def set_automatic(self, request: Request, data: Form) -> Response:
        actor = current_actor(request)
        form = fields(data)
        try:
            raw_days = text(form, "days_ahead", 10)
            days = int(raw_days) if raw_days.isascii() and raw_days.isdigit() and len(raw_days) <= 4 else None
            changed = await generation.set_auto(actor, active=text(form, "active", 10) == "ja", days_ahead=days)
        except DomainError as exc:
            proposal = generation.proposal(today())
            return await self._generate_page(
                request, form={"period_start": proposal.start.isoformat(), "period_end": proposal.end.isoformat()},
                auto_form={k: v for k, v in form.items() if isinstance(v, str)}, auto_error=exc, status=400)
        return Redirect(f"/fu/generera?klart={'automatisk' if changed else 'oforandrad'}", status_code=303)

    # --- a run ---------------------------------------------------------------------------------

    async def _run(self, request: Request, run_id: int) -> dict:
        actor = current_actor(request)
        if not 0 < run_id <= INT4_MAX:
            raise NotFoundException()
        try:
            return await generation.run_page(actor.organisation, run_id)
        except RunNotFound:
            raise NotFoundException() from None

    @get("/korningar/{run_id:int}")
    async def show_run(self, request: Request, run_id: FromPath[int]) -> Template:
        run = await self._run(request, run_id)
        choices = await _choices(current_actor(request).organisation)
        run["filters_text"] = generation.filters_text(run, choices["category_names"])
        return Template("maintenance/fu_run.html", context={"run": run})

    @get("/korningar/{run_id:int}/status")
    async def run_status(self, request: Request, run_id: FromPath[int]) -> Template:
        """The progress while the run works; once it is over, htmx reloads the page with the result."""
        run = await self._run(request, run_id)
        headers = {"hx-refresh": "true"} if is_htmx(request) and not run["running"] else {}
        return Template("maintenance/fu_run_progress.html", context={"run": run}, headers=headers)

