"""The monthly board report (nämndrapport): a PDF, A4, Swedish, with the centre's name, the period,
and every indicator with its chart, target, monthly figures and the coordinator's comment, made
with fpdf2 from the KPI summary. A period of up to three months is made at once; a longer one by
the job queue (tasks.py), the page showing its progress until it is done."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from fpdf import FPDF

from backend import db
from backend.db import Sql, raw
from backend.errors import DomainError
from backend.jobs import service as jobs
from backend.organisations import service as organisations
from backend.pdftext import latin1
from backend.reports.charts import figure, month_label
from backend.reports.kpi import INDICATORS, Indicator, value_of
from backend.workdays import add_months, month_start

AT_ONCE_MONTHS = 3  # longer periods are made in the background
MAX_MONTHS = 24
COMMENT_LIMIT = 2000


class ReportRefused(DomainError):
    pass


def check_period(first: date, last: date, today: date) -> None:
    if last < first:
        raise ReportRefused("Periodens sista månad kan inte vara före den första.", "till")
    if last > month_start(today):
        raise ReportRefused("Perioden kan inte sluta efter innevarande månad.", "till")
    if (last.year - first.year) * 12 + last.month - first.month >= MAX_MONTHS:
        raise ReportRefused(f"En rapport kan omfatta högst {MAX_MONTHS} månader.", "fran")


def months_between(first: date, last: date) -> list[date]:
    out, m = [], first
    while m <= last:
        out.append(m)
        m = add_months(m, 1)
    return out


async def comments(organisation_id: int, month: date) -> dict[str, str]:
    rows = await db.fetch("SELECT indicator, comment FROM board_comment WHERE organisation = $1 AND month = $2",
                          organisation_id, month)
    return {r["indicator"]: r["comment"] for r in rows}


async def save_comments(organisation_id: int, month: date, texts: dict[str, str]) -> None:
    """The coordinator's comment per indicator for the report of `month` (empty: none)."""
    for code, text in texts.items():
        if len(text) > COMMENT_LIMIT:
            raise ReportRefused(f"En kommentar får vara högst {COMMENT_LIMIT} tecken.", f"kommentar_{code}")
    async with db.transaction():
        for code, text in texts.items():
            if text.strip():
                await db.execute(
                    "INSERT INTO board_comment (organisation, month, indicator, comment) VALUES ($1, $2, $3, $4) "
                    "ON CONFLICT (organisation, month, indicator) DO UPDATE SET comment = excluded.comment, "
                    "updated_at = now()", organisation_id, month, code, text.strip())
            else:
                await db.execute("DELETE FROM board_comment WHERE organisation = $1 AND month = $2 AND indicator = $3",
                                 organisation_id, month, code)


async def figures(organisation_id: int, first: date, last: date, today: date) -> list[dict]:
    """Every indicator over the period, month by month, with its target: what the report prints."""
    from backend.reports.dashboard import targets

    goals = await targets(organisation_id)
    rows = await db.fetch("SELECT indicator, month, hits, total, amount FROM kpi_month "
                          "WHERE organisation = $1 AND month BETWEEN $2 AND $3", organisation_id, first, last)
    by = {(r["indicator"], r["month"]): r for r in rows}
    measured_distance = any(indicator == "korstracka" for indicator, _ in by)
    out = []
    for ind in INDICATORS:
        months = []
        for m in months_between(first, last):
            r = by.get((ind.source, m))
            value = value_of(ind.kind, r["hits"], r["total"], r["amount"]) if r and r["total"] else (
                Decimal(0) if ind.kind in ("count", "sum") else None)
            months.append((m, value))
        measured = ind.code != "korstracka" or measured_distance
        out.append({"ind": ind, "months": months, "target": goals[ind.code], "measured": measured})
    return out


async def start(organisation_id: int, first: date, last: date, today: date) -> int:
    """A new report of the period: made now when short, queued when long. Returns its id."""
    from backend.reports import tasks

    check_period(first, last, today)
    async with db.transaction():
        report_id = await db.fetchval(
            "INSERT INTO board_report (organisation, first_month, last_month, status) VALUES ($1, $2, $3, 'queued') "
            "RETURNING id", organisation_id, first, last)
        if len(months_between(first, last)) > AT_ONCE_MONTHS:
            job = await tasks.request_board_report(report_id, organisation_id)
            await db.execute("UPDATE board_report SET job = $2 WHERE id = $1", report_id, job)
    if len(months_between(first, last)) <= AT_ONCE_MONTHS:
        await make(report_id, today=today)
    return report_id


async def make(report_id: int, *, today: date | None = None) -> str:
    from backend.workdays import today as todays_date

    report = await db.fetchrow("SELECT id, organisation, first_month, last_month FROM board_report WHERE id = $1",
                               report_id)
    if report is None:
        return "gone"
    org = report["organisation"]
    centre = ((await organisations.organisation(org)) or {}).get("name")
    data = await figures(org, report["first_month"], report["last_month"], today or todays_date())
    notes = await comments(org, report["last_month"])
    pdf = render(centre or "Hjälpmedelscentralen", report["first_month"], report["last_month"], data, notes)
    await db.execute("UPDATE board_report SET status = 'done', pdf = $2, finished_at = now() WHERE id = $1",
                     report_id, pdf)
    return "done"


def _status() -> Sql:
    """The report's status, 'failed' when it waits for a job that will not run any more."""
    return Sql("CASE WHEN b.status = 'queued' AND b.job IS NOT NULL AND :stopped THEN 'failed' ELSE b.status END",
               stopped=jobs.stopped_sql(raw("b.job")))


async def report_state(organisation_id: int, report_id: int) -> dict | None:
    row = await db.fetchrow(Sql("SELECT b.id, b.first_month, b.last_month, :status AS status, b.created_at, "
                                "b.finished_at FROM board_report b WHERE b.id = :id AND b.organisation = :org",
                                status=_status(), id=report_id, org=organisation_id))
    return dict(row) if row else None


async def recent(organisation_id: int, limit: int = 5) -> list[dict]:
    rows = await db.fetch(Sql("SELECT b.id, b.first_month, b.last_month, :status AS status, b.created_at "
                              "FROM board_report b WHERE b.organisation = :org ORDER BY b.id DESC LIMIT :limit",
                              status=_status(), org=organisation_id, limit=limit))
    return [dict(r) for r in rows]


async def pdf_of(organisation_id: int, report_id: int) -> bytes | None:
    return await db.fetchval("SELECT pdf FROM board_report WHERE id = $1 AND organisation = $2 AND status = 'done'",
                             report_id, organisation_id)


# --- the PDF ---------------------------------------------------------------------------------------

def _period(first: date, last: date) -> str:
    return month_label(first) if first == last else f"{month_label(first)} – {month_label(last)}"


def _chart(pdf: FPDF, months: list[tuple[date, Decimal | None]], target: Decimal | None, kind: str) -> None:
    """A small line chart: the months as marked points (squares), the target as a dashed line."""
    x0, y0, w, h = pdf.l_margin + 12, pdf.get_y(), pdf.epw - 14, 32
    known = [float(v) for _, v in months if v is not None]
    top = 1.0 if kind == "share" else max(known + ([float(target)] if target is not None else []) + [0]) * 1.1 or 1.0
    pdf.set_draw_color(150)
    pdf.set_line_width(0.2)
    pdf.line(x0, y0 + h, x0 + w, y0 + h)
    pdf.line(x0, y0, x0, y0 + h)
    pdf.set_font("Helvetica", size=7)
    for v in (0, top):
        pdf.text(pdf.l_margin, y0 + h * (1 - v / top) + 1, latin1(figure(v, kind, "")).strip())

    def y(v: float) -> float:
        return y0 + h * (1 - v / top)

    step = w / max(len(months) - 1, 1)
    if target is not None:
        pdf.set_draw_color(0)
        pdf.set_dash_pattern(dash=2, gap=1.5)
        pdf.line(x0, y(float(target)), x0 + w, y(float(target)))
        pdf.set_dash_pattern()
        pdf.text(x0 + w - 14, y(float(target)) - 1, latin1(f"mål {figure(target, kind, '')}"))
    pdf.set_draw_color(11, 83, 148)
    pdf.set_line_width(0.6)
    previous = None
    for i, (m, v) in enumerate(months):
        if v is None:
            previous = None
            continue
        point = (x0 + i * step, y(float(v)))
        if previous:
            pdf.line(*previous, *point)
        pdf.rect(point[0] - 0.8, point[1] - 0.8, 1.6, 1.6, style="F")
        previous = point
    pdf.set_line_width(0.2)
    pdf.set_y(y0 + h + 3)


def render(centre: str, first: date, last: date, data: list[dict], notes: dict[str, str]) -> bytes:
    pdf = FPDF(format="A4", unit="mm")
    pdf.set_margins(18, 16, 18)
    pdf.set_auto_page_break(True, margin=16)
    pdf.set_title(latin1(f"Nämndrapport {centre} {_period(first, last)}"))
    pdf.set_lang("sv")
    pdf.set_creator("Runda")
    pdf.add_page()
    pdf.set_font("Helvetica", style="B", size=16)
    pdf.multi_cell(0, 8, latin1(f"Nämndrapport: {centre}"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=11)
    pdf.multi_cell(0, 6, latin1(f"Period: {_period(first, last)}. Nyckeltal mot mål, månad för månad."),
                   new_x="LMARGIN", new_y="NEXT")
    for item in data:
        ind: Indicator = item["ind"]
        if pdf.get_y() > 200:
            pdf.add_page()
        pdf.ln(4)
        pdf.set_font("Helvetica", style="B", size=12)
        pdf.multi_cell(0, 6, latin1(ind.name), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", size=8)
        pdf.multi_cell(0, 4, latin1(ind.rule), new_x="LMARGIN", new_y="NEXT")
        target = item["target"]
        pdf.set_font("Helvetica", size=9)
        pdf.multi_cell(0, 5, latin1(f"Mål: {figure(target, ind.kind, ind.unit) if target is not None else 'inget satt'}"),
                       new_x="LMARGIN", new_y="NEXT")
        if not item["measured"]:
            pdf.multi_cell(0, 5, latin1("Inte mätt än."), new_x="LMARGIN", new_y="NEXT")
        else:
            pdf.ln(1)
            _chart(pdf, item["months"], target, ind.kind)
            pdf.set_font("Helvetica", size=8)
            line = "   ".join(f"{month_label(m)}: {figure(v, ind.kind, ind.unit)}" for m, v in item["months"])
            pdf.multi_cell(0, 4, latin1(line), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", style="I", size=9)
        pdf.multi_cell(0, 5, latin1("Kommentar: " + (notes.get(ind.code) or "–")), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
