"""Reading the KPI summary for the pages: the dashboard (every indicator, this month and the last
12, against its target, with its trend) and an indicator's detail (filtered, split, with small
cells suppressed). Targets, the hourly rate and part prices are set here too."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from backend import db
from backend.accounts.service import Actor
from backend.accounts.tables import Role
from backend.db import Sql, raw
from backend.errors import DomainError
from backend.reports import facts
from backend.workdays import add_months, month_start
from backend.reports.kpi import (
    AGE_BANDS,
    BY_CODE,
    DIMENSIONS,
    INDICATORS,
    PATIENT_DIMENSIONS,
    SEX_LABELS,
    Indicator,
    meets,
    suppressed,
    value_of,
)
from backend.workorders.tables import TYPE_LABELS, WorkOrderType

TREND_MONTHS = 12
TYPE_NAMES = {t.value: TYPE_LABELS[t] for t in WorkOrderType}
INT_DIMENSIONS = frozenset({"kommun", "omrade", "personal", "vardenhet"})


class KpiRefused(DomainError):
    """A filter, target or price that cannot be used."""


@dataclass(frozen=True)
class KpiFilter:
    first: date  # the first month shown
    last: date  # the last month shown (inclusive)
    where: dict[str, str | int] = field(default_factory=dict)  # dimension -> value

    @property
    def by_patient(self) -> bool:
        return any(d in PATIENT_DIMENSIONS for d in self.where)


def default_period(today: date) -> tuple[date, date]:
    last = month_start(today)
    return add_months(last, -(TREND_MONTHS - 1)), last


def visible_indicators(actor: Actor) -> list[Indicator]:
    """Coordinators and admins see every indicator; a prescriber their own unit's fittings and repairs."""
    if actor.role == Role.prescriber:
        return [i for i in INDICATORS if i.prescriber]
    return list(INDICATORS)


def may_see(actor: Actor, ind: Indicator) -> bool:
    return ind in visible_indicators(actor)


async def targets(organisation_id: int) -> dict[str, Decimal | None]:
    rows = await db.fetch("SELECT indicator, target FROM kpi_target WHERE organisation = $1", organisation_id)
    own = {r["indicator"]: r["target"] for r in rows}
    return {i.code: own.get(i.code, i.target) for i in INDICATORS}


def _cell(ind: Indicator, hits, total, amount, patients, *, suppress: bool) -> dict:
    hidden = suppress and ind.patient_linked and suppressed(patients)
    return {"hits": hits, "total": total, "amount": amount, "patients": patients, "suppressed": hidden,
            "value": None if hidden else value_of(ind.kind, hits, total, amount)}


def _arrow(values: list[Decimal | None], ind: Indicator) -> tuple[str, str]:
    """The trend from the month before to this one: (symbol, words)."""
    known = [v for v in values[-2:] if v is not None]
    if len(known) < 2 or values[-1] is None:
        return "–", "ingen jämförelse"
    before, now = known
    if now == before:
        return "→", "oförändrat"
    better = (now > before) == ind.higher_is_better
    return ("↑" if now > before else "↓"), ("bättre" if better else "sämre") + " än månaden före"


async def distance_target(organisation_id: int) -> Decimal | None:
    """Route planning's own target for km per device (set on its page), when it is there."""
    try:
        from backend.routing import kpi as routing_kpi
    except ImportError:
        return None
    return await routing_kpi.target(organisation_id) if hasattr(routing_kpi, "target") else None


async def dashboard(actor: Actor, today: date) -> dict:
    """Every indicator the person may see: this month, the last 12 months, target, trend."""
    org = actor.organisation
    first, last = default_period(today)
    shown = visible_indicators(actor)
    goals = await targets(org)
    months = [add_months(first, n) for n in range(TREND_MONTHS)]
    if actor.role == Role.prescriber:
        series = await _series_from_facts(org, shown, first, last, actor.care_unit)
    else:
        rows = await db.fetch("SELECT indicator, month, hits, total, amount FROM kpi_month "
                              "WHERE organisation = $1 AND month BETWEEN $2 AND $3", org, first, last)
        series = {(r["indicator"], r["month"]): r for r in rows}
    measured = {ind for ind, _ in series}
    state = await facts.state(org)
    tiles = []
    for ind in shown:
        goal = goals[ind.code]
        if ind.code == "korstracka":
            goal = goal if goal is not None else await distance_target(org)
        if ind.code == "korstracka" and ind.source not in measured:
            tiles.append({"ind": ind, "measured": False, "months": [], "target": goal})
            continue
        points, hits, total, amount = [], 0, 0, Decimal(0)
        for m in months:
            r = series.get((ind.source, m))
            h, t, a = (r["hits"], r["total"], r["amount"]) if r else (0, 0, None)
            points.append({"month": m, "value": value_of(ind.kind, h, t, a) if (t or ind.kind in ("count", "sum")) else None,
                           "total": t})
            hits += h or 0
            total += t
            amount += a or 0
        values = [p["value"] for p in points]
        if ind.kind in ("count", "sum"):
            year = None  # a volume over 12 months is the trend itself; the tile shows this month
        else:
            year = value_of(ind.kind, hits, total, amount if ind.kind in ("mean", "ratio") else None)
        tiles.append({"ind": ind, "measured": True, "months": points, "target": goal, "current": values[-1],
                      "previous": values[-2],
                      "year": year, "arrow": _arrow(values, ind), "meets": meets(ind, values[-1], goal)})
    return {"tiles": tiles, "first": first, "last": last, "refreshed_at": state["refreshed_at"] if state else None,
            "categories": state["categories"] if state else []}


async def _series_from_facts(org: int, shown: list[Indicator], first: date, last: date, care_unit: int | None) -> dict:
    rows = await db.fetch(
        "SELECT indicator, month, count(*) FILTER (WHERE hit) AS hits, count(*) AS total, sum(amount) AS amount "
        "FROM kpi_fact WHERE organisation = $1 AND indicator = ANY($2::text[]) AND month BETWEEN $3 AND $4 "
        "AND care_unit IS NOT DISTINCT FROM $5 GROUP BY indicator, month",
        org, [i.source for i in shown], first, last, care_unit)
    return {(r["indicator"], r["month"]): r for r in rows}


# --- one indicator: trend and split ---------------------------------------------------------------


def _conditions(actor: Actor, wanted: KpiFilter) -> Sql:
    parts, values = [], {}
    where = dict(wanted.where)
    if actor.role == Role.prescriber:
        where["vardenhet"] = actor.care_unit if actor.care_unit is not None else -1
    for n, (dim, value) in enumerate(sorted(where.items())):
        column = DIMENSIONS[dim][0]  # a column name from the table, never input
        parts.append(f"f.{column} = :v{n}")
        values[f"v{n}"] = value
    return Sql(" AND ".join(parts) or "true", **values)


def _label_sql(ind: Indicator, dim: str, key: Sql) -> Sql:
    return facts.label_sql(dim, key, fittings=ind.source == "utprovning")


def _label(dim: str, key, name: str | None) -> str:
    if key is None:
        return "Okänt"
    if dim == "typ":
        return TYPE_NAMES.get(key, key)
    if dim == "alder":
        return dict(AGE_BANDS).get(key, key)
    if dim == "kon":
        return SEX_LABELS.get(key, key)
    return name or f"Okänt ({key})"


def _sort_key(dim: str, row: dict):
    if dim == "alder":
        return [b for b, _ in AGE_BANDS].index(row["key"]) if row["key"] in dict(AGE_BANDS) else 99
    return (row["key"] is None, row["label"].lower())


async def detail(actor: Actor, ind: Indicator, wanted: KpiFilter, split: str | None) -> dict:
    """The indicator month by month over the filtered facts, and split by `split` (one query:
    grouping sets by month, by the split's key, and the whole period)."""
    org = actor.organisation
    if not wanted.where and actor.role != Role.prescriber:
        state = await facts.state(org)
        if state and (state["split_first"], state["split_last"]) == (wanted.first, wanted.last):
            return await _precomputed(org, ind, wanted, split)
    if split:
        key = f"f.{DIMENSIONS[split][0]}"  # a column name from the table, never input
        key_select = f"{key}::text AS key, GROUPING(f.month) = 1 AND GROUPING({key}) = 0 AS by_key"
        sets = f"(f.month), ({key}), ()"
    else:
        key_select, sets = "NULL::text AS key, false AS by_key", "(f.month), ()"
    rows = await db.fetch(Sql(
        f"""
        SELECT g.*, CASE WHEN g.by_key THEN :label END AS label FROM (
            SELECT f.month, {key_select}, GROUPING(f.month) = 0 AS by_month,
                   count(*) FILTER (WHERE f.hit) AS hits, count(*) AS total, sum(f.amount) AS amount,
                   count(DISTINCT f.patient) AS patients
            FROM kpi_fact f
            WHERE f.organisation = :org AND f.indicator = :ind AND f.month BETWEEN :first AND :last AND :where
            GROUP BY GROUPING SETS ({sets})
        ) g
        """,
        org=org, ind=ind.source, first=wanted.first, last=wanted.last, where=_conditions(actor, wanted),
        label=_label_sql(ind, split, raw("g.key::int")) if split in INT_DIMENSIONS else Sql("NULL::text")))
    suppress = True
    months_by = {r["month"]: r for r in rows if r["by_month"]}
    months = []
    m = wanted.first
    while m <= wanted.last:
        r = months_by.get(m)
        cell = _cell(ind, r["hits"], r["total"], r["amount"], r["patients"], suppress=wanted.by_patient or actor.role == Role.prescriber) \
            if r else _cell(ind, 0, 0, None, 0, suppress=False)
        if not r and ind.kind not in ("count", "sum"):
            cell["value"] = None
        months.append({"month": m, **cell})
        m = add_months(m, 1)
    whole = next((r for r in rows if not r["by_month"] and not r["by_key"]), None)
    total = _cell(ind, whole["hits"], whole["total"], whole["amount"], whole["patients"],
                  suppress=wanted.by_patient or actor.role == Role.prescriber) if whole and whole["total"] \
        else _cell(ind, 0, 0, None, 0, suppress=False)
    parts = []
    if split:
        for r in rows:
            if not r["by_key"]:
                continue
            key = int(r["key"]) if (r["key"] is not None and split in INT_DIMENSIONS) else r["key"]
            parts.append({"key": key, "label": _label(split, key, r["label"]),
                          **_cell(ind, r["hits"], r["total"], r["amount"], r["patients"], suppress=suppress)})
        parts.sort(key=lambda p: _sort_key(split, p))
    return {"months": months, "total": total, "split": parts, "split_dimension": split}


def _split_rows(ind: Indicator, split: str, rows, suppress: bool = True) -> list[dict]:
    parts = []
    for r in rows:
        key = int(r["key"]) if (r["key"] is not None and split in INT_DIMENSIONS) else r["key"]
        parts.append({"key": key, "label": _label(split, key, r["label"]),
                      **_cell(ind, r["hits"], r["total"], r["amount"], r["patients"], suppress=suppress)})
    parts.sort(key=lambda p: _sort_key(split, p))
    return parts


async def _precomputed(org: int, ind: Indicator, wanted: KpiFilter, split: str | None) -> dict:
    """The default view (last 12 months, no filter) from the summary the job queue computed: the
    monthly rows and the splits, without reading the facts again."""
    rows = await db.fetch(
        "SELECT month, hits, total, amount FROM kpi_month WHERE organisation = $1 AND indicator = $2 "
        "AND month BETWEEN $3 AND $4", org, ind.source, wanted.first, wanted.last)
    by_month = {r["month"]: r for r in rows}
    months, m = [], wanted.first
    hits = total = 0
    amount = None
    while m <= wanted.last:
        r = by_month.get(m)
        if r and r["total"]:
            months.append({"month": m, **_cell(ind, r["hits"], r["total"], r["amount"], None, suppress=False)})
            hits += r["hits"] or 0
            total += r["total"]
            amount = (amount or 0) + r["amount"] if r["amount"] is not None else amount
        else:
            cell = _cell(ind, 0, 0, None, 0, suppress=False)
            if ind.kind not in ("count", "sum"):
                cell["value"] = None
            months.append({"month": m, **cell})
        m = add_months(m, 1)
    parts = []
    if split:
        parts = _split_rows(ind, split, await db.fetch(
            "SELECT key, label, hits, total, amount, patients FROM kpi_split WHERE organisation = $1 "
            "AND indicator = $2 AND dimension = $3", org, ind.source, split))
    return {"months": months, "total": _cell(ind, hits, total, amount, None, suppress=False) if total
            else _cell(ind, 0, 0, None, 0, suppress=False), "split": parts, "split_dimension": split}


async def choices(actor: Actor, ind: Indicator, wanted: KpiFilter) -> dict[str, list[tuple[str, str]]]:
    """The values each of the indicator's dimensions takes (in the last 12 months, as the summary
    counted them), with their names."""
    result: dict[str, list[tuple[str, str]]] = {}
    for dim in ind.dimensions:
        if dim == "alder":
            result[dim] = [(k, v) for k, v in AGE_BANDS]
        elif dim == "kon":
            result[dim] = list(SEX_LABELS.items())
        elif dim == "typ":
            result[dim] = list(TYPE_NAMES.items())
    ids = [d for d in ind.dimensions if d in INT_DIMENSIONS and not (d == "vardenhet" and actor.role == Role.prescriber)]
    if ids:
        rows = await db.fetch("SELECT dimension, key, label FROM kpi_split WHERE organisation = $1 AND indicator = $2 "
                              "AND dimension = ANY($3::text[]) AND key IS NOT NULL",
                              actor.organisation, ind.source, ids)
        for r in rows:
            result.setdefault(r["dimension"], []).append((r["key"], r["label"] or f"Okänt ({r['key']})"))
        for dim in ids:
            result.setdefault(dim, []).sort(key=lambda c: c[1].lower())
    return result


# --- targets, rate, prices ----------------------------------------------------------------------------


def parse_decimal(text: str, field_name: str, *, percent: bool = False, maximum: Decimal = Decimal("10000000")) -> Decimal | None:
    text = (text or "").strip().replace(" ", "").replace(",", ".").rstrip("%")
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise KpiRefused("Skriv ett tal, till exempel 80 eller 12,5.", field_name) from None
    if not value.is_finite() or value < 0 or value > (100 if percent else maximum):
        raise KpiRefused("Talet är utanför det tillåtna intervallet." if not percent
                         else "Ange en andel mellan 0 och 100 %.", field_name)
    return (value / 100).quantize(Decimal("0.001")) if percent else value.quantize(Decimal("0.001"))


async def set_targets(organisation_id: int, wanted: dict[str, Decimal | None], rate: Decimal | None) -> None:
    """Each indicator's target (None: back to the default), and the hourly rate; one transaction.
    The cost indicator is computed again in the background (tasks.py)."""
    from backend.reports import tasks  # the queue's task module imports this one

    async with db.transaction():
        for code, target in wanted.items():
            if code not in BY_CODE:
                continue
            if target is None:
                await db.execute("DELETE FROM kpi_target WHERE organisation = $1 AND indicator = $2", organisation_id, code)
            else:
                await db.execute(
                    "INSERT INTO kpi_target (organisation, indicator, target) VALUES ($1, $2, $3) "
                    "ON CONFLICT (organisation, indicator) DO UPDATE SET target = excluded.target, updated_at = now()",
                    organisation_id, code, target)
        before = await facts.hourly_rate(organisation_id)
        if rate is None:
            await db.execute("DELETE FROM kpi_cost_rate WHERE organisation = $1", organisation_id)
        else:
            await db.execute(
                "INSERT INTO kpi_cost_rate (organisation, hourly_rate) VALUES ($1, $2) "
                "ON CONFLICT (organisation) DO UPDATE SET hourly_rate = excluded.hourly_rate, updated_at = now()",
                organisation_id, rate)
        if before != rate:
            await tasks.request_refresh(organisation_id)


async def set_part_price(organisation_id: int, article_id: int, price: Decimal | None) -> None:
    from backend.reports import tasks

    async with db.transaction():
        if price is None:
            await db.execute("DELETE FROM kpi_part_price WHERE organisation = $1 AND article = $2",
                             organisation_id, article_id)
        else:
            await db.execute(
                "INSERT INTO kpi_part_price (organisation, article, price) VALUES ($1, $2, $3) "
                "ON CONFLICT (organisation, article) DO UPDATE SET price = excluded.price, updated_at = now()",
                organisation_id, article_id, price)
        await tasks.request_refresh(organisation_id)


async def part_prices(organisation_id: int) -> dict[int, Decimal]:
    rows = await db.fetch("SELECT article, price FROM kpi_part_price WHERE organisation = $1", organisation_id)
    return {r["article"]: r["price"] for r in rows}


async def year_on_year(organisation_id: int, ind: Indicator, first: date, last: date) -> list[dict]:
    """The counted hits (digital fault reports) month by month beside the same month a year before,
    and the change: the boards' "+10 % a year". Unfiltered, from the monthly summary."""
    rows = await db.fetch("SELECT month, hits FROM kpi_month WHERE organisation = $1 AND indicator = $2 "
                          "AND month BETWEEN $3 AND $4", organisation_id, ind.source, add_months(first, -12), last)
    hits = {r["month"]: r["hits"] or 0 for r in rows}
    out, m = [], first
    while m <= last:
        now, before = hits.get(m, 0), hits.get(add_months(m, -12))
        change = None if not before else (Decimal(now - before) / before * 100).quantize(Decimal("0.1"))
        out.append({"month": m, "now": now, "before": before, "change": change})
        m = add_months(m, 1)
    return out
