"""The KPI pages under /oversikt: an indicator's detail (trend, filters, split, exports), the
targets, hourly rate and part prices, and the monthly board report. The dashboard itself is
/oversikt (routes.py). Coordinators and admins see every indicator; a prescriber their own unit's
fittings and repairs. The rules are in dashboard.py, facts.py and board.py."""

from __future__ import annotations

import io
import re
from urllib.parse import urlencode
from datetime import date
from decimal import Decimal

from litestar import Controller, Request, get, post
from litestar.exceptions import NotFoundException, PermissionDeniedException
from litestar.params import FromPath
from litestar.response import Redirect, Response, Template

from backend.accounts.tables import STAFF_OVERSIGHT, Role
from backend.auth import current_actor, requires
from backend.devices import service as devices
from backend.errors import DomainError
from backend.forms import Form, FormError, fields, text
from backend.reports import board, charts, dashboard
from backend.reports.dashboard import KpiFilter, KpiRefused
from backend.workdays import add_months, month_start
from backend.reports.charts import TEMPLATE_HELPERS
from backend.reports.kpi import BY_CODE, DIMENSIONS, INDICATORS, Indicator
from backend.reports.sheets import FORMATS, Column, open_sheet
from backend.web import is_htmx
from backend.workdays import today

MONTH = re.compile(r"^\d{4}-\d{2}$")
KPI_ROLES = (Role.prescriber, *STAFF_OVERSIGHT)


def parse_month(value: str | None, name: str) -> date | None:
    if not value:
        return None
    if not isinstance(value, str) or not MONTH.match(value) or not 1 <= int(value[5:]) <= 12 or not 2000 <= int(value[:4]) <= 2100:
        raise KpiRefused("Skriv månaden som 2026-03.", name)
    return date(int(value[:4]), int(value[5:]), 1)


def kpi_filter(ind: Indicator, query, now: date) -> tuple[KpiFilter, str | None]:
    """The filter and split the address asks for; a value the indicator does not offer is refused."""
    first, last = dashboard.default_period(now)
    first = parse_month(query.get("fran"), "fran") or first
    last = parse_month(query.get("till"), "till") or last
    if last < first:
        raise KpiRefused("Periodens sista månad kan inte vara före den första.", "till")
    if (last.year - first.year) * 12 + last.month - first.month >= 36:
        raise KpiRefused("Välj en period på högst 36 månader.", "fran")
    where: dict = {}
    for dim in ind.dimensions:
        value = (query.get(dim) or "").strip()
        if not value:
            continue
        if dim in dashboard.INT_DIMENSIONS:
            if not value.isascii() or not value.isdigit() or len(value) > 9:
                raise KpiRefused("Välj ett värde ur listan.", dim)
            where[dim] = int(value)
        else:
            if len(value) > 20:
                raise KpiRefused("Välj ett värde ur listan.", dim)
            where[dim] = value
    split = query.get("fordelning") or None
    if split is not None and split not in ind.dimensions:
        raise KpiRefused("Välj en fördelning ur listan.", "fordelning")
    return KpiFilter(first=first, last=last, where=where), split


def _indicator(request: Request, code: str) -> Indicator:
    ind = BY_CODE.get(code)
    if ind is None:
        raise NotFoundException()
    if not dashboard.may_see(current_actor(request), ind):
        raise PermissionDeniedException()
    return ind


def _value_text(ind: Indicator, cell: dict) -> str:
    if cell.get("suppressed"):
        return "< 5"
    return charts.figure(cell["value"], ind.kind, ind.unit)


def _count_text(cell: dict) -> str:
    return "< 5" if cell.get("suppressed") else f"{cell['total']:,}".replace(",", " ")


def table_rows(ind: Indicator, result: dict, which: str) -> tuple[list[str], list[list]]:
    """The page's tables as rows of values (the exports write exactly these): 'manader' or 'fordelning'."""
    first_title = "Månad" if which == "manader" else DIMENSIONS[result["split_dimension"]][1]
    headers = [first_title, "Antal"]
    if ind.kind == "share":
        headers += ["Inom regeln", "Andel (%)"]
    elif ind.kind == "mean":
        headers += ["Kostnad (kr)", "Per order (kr)"]
    elif ind.kind == "sum":
        headers = [first_title, "Antal hjälpmedel"]
    rows = []
    cells = result["months"] if which == "manader" else result["split"]
    for cell in cells:
        label = cell["month"].strftime("%Y-%m") if which == "manader" else cell["label"]
        if cell.get("suppressed"):
            rows.append([label] + ["< 5"] * (len(headers) - 1))
            continue
        if ind.kind == "sum":
            rows.append([label, int(cell["amount"] or 0)])
            continue
        row = [label, cell["total"]]
        if ind.kind == "share":
            row += [cell["hits"] or 0,
                    None if cell["value"] is None else float((cell["value"] * 100).quantize(Decimal("0.1")))]
        elif ind.kind == "mean":
            row += [None if cell["amount"] is None else float(cell["amount"]),
                    None if cell["value"] is None else float(cell["value"])]
        rows.append(row)
    return headers, rows


class KpiController(Controller):
    path = "/oversikt/kpi"
    guards = [requires(*KPI_ROLES)]

    @get("/{code:str}")
    async def detail(self, request: Request, code: FromPath[str]) -> Template:
        actor = current_actor(request)
        ind = _indicator(request, code)
        now = today()
        try:
            wanted, split = kpi_filter(ind, request.query_params, now)
            error, status = None, 200
        except DomainError as exc:
            (first, last), wanted, split = dashboard.default_period(now), None, None
            wanted = KpiFilter(first=first, last=last)
            error, status = exc, 400
        split = split or (ind.dimensions[0] if ind.dimensions else None)
        context = await self._context(actor, ind, wanted, split)
        params = {"fran": f"{wanted.first:%Y-%m}", "till": f"{wanted.last:%Y-%m}", "fordelning": split or "",
                  **{dim: str(value) for dim, value in wanted.where.items()}}
        context.update(TEMPLATE_HELPERS, error=error, visible=dashboard.visible_indicators(actor),
                       dimension_choices=[(d, DIMENSIONS[d][1]) for d in ind.dimensions],
                       export_url=f"/oversikt/kpi/{ind.code}/export?{urlencode(params)}")
        return Template("reports/kpi.html", context=context, status_code=status)

    async def _context(self, actor, ind: Indicator, wanted: KpiFilter, split: str | None) -> dict:
        goals = await dashboard.targets(actor.organisation)
        target = goals[ind.code]
        context = {"ind": ind, "wanted": wanted, "split": split, "target": target, "dimensions": DIMENSIONS,
                   "target_text": charts.figure(target, ind.kind, ind.unit) if target is not None else None}
        if ind.code == "korstracka" or not ind.splittable and ind.kind not in ("count",):
            context.update(result=None, choices={})
            return context
        if ind.code == "fu_skuld":
            dash = await dashboard.dashboard(actor, today())
            tile = next(t for t in dash["tiles"] if t["ind"].code == ind.code)
            months = [{"month": p["month"], "total": int(p["value"] or 0), "hits": None, "amount": None,
                       "value": p["value"], "suppressed": False} for p in tile["months"]]
            result = {"months": months, "split": [], "split_dimension": None,
                      "total": None}
            context.update(result=result, choices={})
        else:
            result = await dashboard.detail(actor, ind, wanted, split)
            context.update(result=result, choices=await dashboard.choices(actor, ind, wanted))
        target_f = float(target) if target is not None else None
        context["trend_svg"] = charts.trend(
            f"trend-{ind.code}", f"{ind.name} per månad" + (f", mål {context['target_text']}" if target is not None else ""),
            [(m["month"], None if m["value"] is None or m.get("suppressed") else float(m["value"]))
             for m in result["months"]], target_f, ind.kind, ind.unit)
        if result["split"]:
            context["split_svg"] = charts.bars(
                f"split-{ind.code}", f"{ind.name} per {DIMENSIONS[split][1].lower()}",
                [(p["label"], None if p["value"] is None or p["suppressed"] else float(p["value"]), _value_text(ind, p))
                 for p in result["split"]], target_f if ind.kind == "share" else None, ind.kind, ind.unit)
        context["month_table"] = table_rows(ind, result, "manader")
        if ind.code == "digital":
            growth = await dashboard.year_on_year(actor.organisation, ind, wanted.first, wanted.last)
            context["growth_table"] = (["Månad", "Digitala ärenden", "Samma månad året innan", "Förändring (%)"],
                                       [[g["month"].strftime("%Y-%m"), g["now"], g["before"],
                                         None if g["change"] is None else float(g["change"])] for g in growth])
        if result["split"]:
            context["split_table"] = table_rows(ind, result, "fordelning")
        return context

    @get("/{code:str}/export")
    async def export(self, request: Request, code: FromPath[str]) -> Response:
        actor = current_actor(request)
        ind = _indicator(request, code)
        query = request.query_params
        try:
            wanted, split = kpi_filter(ind, query, today())
            format, which = query.get("format"), query.get("tabell") or "manader"
            if format not in FORMATS:
                raise KpiRefused("Välj format: Excel eller CSV.", "format")
            if which not in ("manader", "fordelning") or (which == "fordelning" and not ind.dimensions):
                raise KpiRefused("Välj tabell: per månad eller fördelning.", "tabell")
            if ind.code in ("korstracka",):
                raise KpiRefused("Körsträckan exporteras från ruttplaneringens sida.", "tabell")
        except DomainError as exc:
            return Response(exc.message, status_code=400, media_type="text/plain; charset=utf-8")
        split = split or (ind.dimensions[0] if ind.dimensions else None)
        context = await self._context(actor, ind, wanted, split)
        headers, rows = context["month_table"] if which == "manader" else context.get("split_table", ([], []))
        if not headers:
            headers, rows = table_rows(ind, {**context["result"], "split_dimension": split}, "fordelning")
        buffer = io.BytesIO()
        sheet = open_sheet(format, buffer, [Column(h, 24 if i == 0 else 14) for i, h in enumerate(headers)], ind.name)
        sheet.write(rows)
        sheet.close()
        name = f"{ind.code}-{which}-{wanted.first:%Y-%m}-{wanted.last:%Y-%m}.{format}"
        return Response(buffer.getvalue(), media_type=FORMATS[format],
                        headers={"content-disposition": f'attachment; filename="{name}"'})


class KpiSettingsController(Controller):
    path = "/oversikt"
    guards = [requires(*STAFF_OVERSIGHT)]

    async def _settings_page(self, request: Request, form: dict | None = None, error: DomainError | None = None,
                             status: int = 200) -> Template:
        org = current_actor(request).organisation
        goals = await dashboard.targets(org)
        prices = await dashboard.part_prices(org)
        parts = await devices.spare_parts(org)
        from backend.reports import facts

        rate = await facts.hourly_rate(org)
        shown = {}
        for ind in INDICATORS:
            goal = goals[ind.code]
            shown[ind.code] = "" if goal is None else (
                f"{goal * 100:.1f}".replace(".", ",") if ind.kind == "share" else f"{goal.normalize():f}".replace(".", ","))
        return Template("reports/targets.html", status_code=status, context={**TEMPLATE_HELPERS,
            "indicators": [i for i in INDICATORS if i.code != "korstracka"], "values": form or shown,
            "rate": (form or {}).get("timpris", "" if rate is None else f"{rate:f}".replace(".", ",")),
            "parts": parts, "prices": {p: f"{v:f}".replace(".", ",") for p, v in prices.items()},
            "error": error, "form": form or {}})

    @get("/mal")
    async def settings(self, request: Request) -> Template:
        return await self._settings_page(request)

    @post("/mal")
    async def save_settings(self, request: Request, data: Form) -> Response:
        org = current_actor(request).organisation
        form = fields(data)
        try:
            wanted = {}
            for ind in INDICATORS:
                if ind.code == "korstracka":
                    continue
                wanted[ind.code] = dashboard.parse_decimal(text(form, f"mal_{ind.code}", 20), f"mal_{ind.code}",
                                                           percent=ind.kind == "share")
            rate = dashboard.parse_decimal(text(form, "timpris", 20), "timpris", maximum=Decimal("100000"))
            prices = {}
            for part in await devices.spare_parts(org):
                name = f"pris_{part['id']}"
                if name in form:
                    prices[part["id"]] = dashboard.parse_decimal(text(form, name, 20), name)
            await dashboard.set_targets(org, wanted, rate)
            current = await dashboard.part_prices(org)
            for article, price in prices.items():
                if current.get(article) != price:
                    await dashboard.set_part_price(org, article, price)
        except DomainError as exc:
            return await self._settings_page(request, form, exc, 400)
        return Redirect("/oversikt/mal?sparat=1", status_code=303)

    @post("/uppdatera")
    async def refresh(self, request: Request) -> Redirect:
        from backend.reports import tasks

        await tasks.request_refresh(current_actor(request).organisation)
        return Redirect("/oversikt?uppdateras=1", status_code=303)

    # --- the board report -------------------------------------------------------------------------

    async def _board_page(self, request: Request, form: dict | None = None, error: DomainError | None = None,
                          status: int = 200) -> Template:
        org = current_actor(request).organisation
        now = today()
        last = add_months(month_start(now), -1)
        month = last
        if form and form.get("manad"):
            try:
                month = parse_month(form.get("manad"), "manad") or last
            except DomainError:
                month = last
        return Template("reports/board.html", status_code=status, context={**TEMPLATE_HELPERS,
            "indicators": INDICATORS, "month": month, "comments": await board.comments(org, month),
            "reports": await board.recent(org), "form": form or {}, "error": error,
            "first": add_months(month, -11), "at_once": board.AT_ONCE_MONTHS})

    @get("/rapport")
    async def board_page(self, request: Request) -> Template:
        return await self._board_page(request, dict(request.query_params))

    @post("/rapport/kommentarer")
    async def save_comments(self, request: Request, data: Form) -> Response:
        org = current_actor(request).organisation
        form = fields(data)
        try:
            month = parse_month(text(form, "manad", 10), "manad")
            if month is None:
                raise FormError("Välj månad.", "manad")
            await board.save_comments(org, month, {i.code: text(form, f"kommentar_{i.code}", 4000) for i in INDICATORS})
        except DomainError as exc:
            return await self._board_page(request, form, exc, 400)
        return Redirect(f"/oversikt/rapport?manad={month:%Y-%m}&sparat=1", status_code=303)

    @post("/rapport")
    async def make_report(self, request: Request, data: Form) -> Response:
        org = current_actor(request).organisation
        form = fields(data)
        try:
            first = parse_month(text(form, "fran", 10), "fran")
            last = parse_month(text(form, "till", 10), "till")
            if first is None or last is None:
                raise FormError("Välj periodens första och sista månad.", "fran" if first is None else "till")
            report_id = await board.start(org, first, last, today())
        except DomainError as exc:
            return await self._board_page(request, form, exc, 400)
        return Redirect(f"/oversikt/rapport/{report_id}", status_code=303)

    @get("/rapport/{report_id:int}")
    async def report(self, request: Request, report_id: FromPath[int]) -> Template:
        state = await board.report_state(current_actor(request).organisation, report_id)
        if state is None:
            raise NotFoundException()
        headers = {"hx-refresh": "true"} if is_htmx(request) and state["status"] != "queued" else {}
        name = "reports/_board_progress.html" if is_htmx(request) else "reports/board_report.html"
        return Template(name, context={"report": state}, headers=headers)

    @get("/rapport/{report_id:int}/pdf")
    async def report_pdf(self, request: Request, report_id: FromPath[int]) -> Response:
        pdf = await board.pdf_of(current_actor(request).organisation, report_id)
        if pdf is None:
            raise NotFoundException()
        return Response(pdf, media_type="application/pdf",
                        headers={"content-disposition": f'attachment; filename="namndrapport-{report_id}.pdf"'})
