"""FU generation: the coordinator (or the daily job) picks a period and Runda creates the FU work
orders that fall due in it, one per device, schedule and due date.

A run is a row (fu_generation) and a job (maintenance.generate_fu), written in one transaction. The
job goes through the devices in scope in id order, BATCH_DEVICES at a time, each batch one
transaction: the due rule as SQL (due.due_rows) for the batch's devices, straight into an INSERT …
SELECT (workorders.generated), and the run's progress and cursor moved on with it. A killed worker
loses at most the batch it was in; the retried job goes on from the cursor, and the database's
unique index (device, schedule, due date) makes anything done twice do nothing, also when two runs
work at once.

Each order: the device's holder as patient (the home is the place, as for every order), the
schedule's checklist at the version published when it was received, a suggested two-hour window
on a working day on or before the due date (spread over the week before it), but at least
NOTICE_DAYS after generation so the patient can be told two weeks ahead, and a technician whose
area covers the patient's municipality (none: the order is new and unassigned).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from backend import db
from backend.accounts import areas
from backend.accounts.service import Actor
from backend.changes import service as changes
from backend.db import Sql, raw
from backend.devices import catalogue
from backend.errors import DomainError, SeveralErrors
from backend.jobs import queue
from backend.maintenance import due
from backend.organisations import service as organisations
from backend.patients import service as patients
from backend.workdays import STOCKHOLM, Calendar
from backend.workorders import generated as fu_orders

TASK = "maintenance.generate_fu"
BATCH_DEVICES = 2000
MAX_PERIOD_DAYS = 400
NOTICE_DAYS = 15  # the patient is told at least two weeks before the visit
SPREAD_DAYS = 5  # a day's due FU is spread over the working days up to it
WINDOWS = ((time(8), time(10)), (time(10), time(12)), (time(13), time(15)))
AUTO_NAME = "Automatisk generering"
AUTO_REGISTER = "fu_auto_generation"
AUTO_DAYS = (15, 365)

STATE_LABELS = {"queued": "I kö", "running": "Pågår", "done": "Klar", "failed": "Avbruten"}


class GenerationError(DomainError):
    """A generation was refused; nothing was written."""


class GenerationRefused(SeveralErrors, GenerationError):
    pass


class RunNotFound(Exception):
    pass


@dataclass(frozen=True)
class Period:
    """What to generate: the FU falling due from `start` to `end` (both included), in one
    municipality and/or category when given, and with `include_overdue` also what fell due before
    `start` and has no order."""

    start: date
    end: date
    cost_bearer: int | None = None
    category: int | None = None
    include_overdue: bool = False


def proposal(today: date) -> Period:
    """Next month."""
    first = (today.replace(day=28) + timedelta(days=4)).replace(day=1)
    last = (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    return Period(first, last)


async def check(organisation_id: int, period: Period, today: date) -> None:
    """Refuse a period that cannot be generated, every problem at once."""
    problems: list[tuple[str | None, str]] = []
    if period.end < period.start:
        problems.append(("period_end", "Periodens sista dag kan inte vara före den första."))
    elif (period.end - period.start).days >= MAX_PERIOD_DAYS:
        problems.append(("period_end", f"Välj en period på högst {MAX_PERIOD_DAYS} dagar."))
    if period.end < today:
        problems.append(("period_end", "Perioden har redan varit. Välj en period som slutar idag eller senare."))
    if period.cost_bearer is not None and period.cost_bearer not in {
            c["id"] for c in await organisations.cost_bearer_choices(organisation_id)}:
        problems.append(("cost_bearer", "Välj en kommun eller kostnadsbärare i listan."))
    if period.category is not None and period.category not in {
            c for c, _ in await catalogue.category_choices(organisation_id)}:
        problems.append(("category", "Välj en kategori i listan."))
    if problems:
        raise GenerationRefused(problems)


async def preview(organisation_id: int, period: Period, today: date) -> dict:
    """What a run would make, from the due list as last computed: FU to create (the next due and,
    as if each were done on time, those after it within the period; on how many devices; how many
    devices' last order was cancelled) and FU that have an order already."""
    if await due.refreshed_at(organisation_id) is None:
        await due.refresh(organisation_id, today=today)
    row = await db.fetchrow(
        """
        SELECT coalesce(sum(CASE WHEN f.due_date < $2 THEN 1 ELSE 1 + ($3 - f.due_date) / f.interval_days END)
                            FILTER (WHERE f.open_order IS NULL), 0) AS to_create,
               count(DISTINCT f.device) FILTER (WHERE f.open_order IS NULL) AS devices,
               count(*) FILTER (WHERE f.open_order IS NULL AND f.cancelled_at IS NOT NULL) AS cancelled_before,
               count(*) FILTER (WHERE f.open_order IS NOT NULL) AS already
        FROM fu_due f
        WHERE f.organisation = $1 AND f.kind = 'calendar' AND f.due_date <= $3 AND (f.due_date >= $2 OR $4)
          AND ($5::int IS NULL OR f.cost_bearer = $5) AND ($6::int IS NULL OR f.category = $6)
        """,
        organisation_id, period.start, period.end, period.include_overdue, period.cost_bearer, period.category)
    return {**dict(row), "refreshed_at": await due.refreshed_at(organisation_id)}


# --- starting a run -----------------------------------------------------------------------------


async def create_run(organisation_id: int, period: Period, *, actor_id: int | None, actor_name: str,
                     automatic: bool = False, defer: bool = True) -> int:
    """The run's row and (with `defer`) its job, in one transaction: either both exist or neither."""
    async with db.transaction():
        run_id = await db.fetchval(
            "INSERT INTO fu_generation (organisation, staff_user, actor_name, automatic, period_start, period_end, "
            "include_overdue, cost_bearer, category) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
            organisation_id, actor_id, actor_name, automatic, period.start, period.end, period.include_overdue,
            period.cost_bearer, period.category)
        if defer:
            job = await queue.defer(TASK, run_id=run_id, organisation_id=organisation_id)
            await db.execute("UPDATE fu_generation SET job_id = $2 WHERE id = $1", run_id, job)
    return run_id


async def start_run(actor: Actor, period: Period, today: date) -> int:
    """A coordinator's run for `period` (checked), done in the background; returns its id."""
    await check(actor.organisation, period, today)
    return await create_run(actor.organisation, period, actor_id=actor.id, actor_name=actor.name)


# --- the job ------------------------------------------------------------------------------------


def _scope(run: dict) -> Sql:
    """The devices a run goes through: on loan and in use, of its category if it has one."""
    return due.organisation_devices(run["organisation"], Sql(
        "d.holder IS NOT NULL AND d.status = 'in_use' AND (:category::int IS NULL OR a.category = :category)",
        category=run["category"]))


def _in_municipality(run: dict) -> Sql:
    """The run's devices with the patient's municipality (cost_bearer), as a row source."""
    return Sql(
        """
        SELECT dv.device_id, coalesce(pc.cost_bearer, dv.owner) AS cost_bearer
        FROM (:devices) dv LEFT JOIN LATERAL (:contact) pc ON true
        WHERE (:cost_bearer::int IS NULL OR coalesce(pc.cost_bearer, dv.owner) = :cost_bearer)
        """,
        devices=_scope(run), contact=patients.notice_contact(raw("dv.holder")), cost_bearer=run["cost_bearer"])


@dataclass(frozen=True)
class _Plan:
    """What the batches' SQL needs to suggest a day, a window and a technician."""

    calendar: Calendar
    today: date
    workdays: list[date]  # every working day from today to past the period's end
    earliest: int  # 1-based index in workdays of the first day the patient can be told in time
    technicians: list[tuple[int, int, int, int]]  # (cost bearer, slot, of how many, technician)


def plan_for(calendar: Calendar, today: date, period_end: date, by_cost_bearer: dict[int, list[int]]) -> _Plan:
    first_told = due.on_or_after(today + timedelta(days=NOTICE_DAYS), calendar)
    last = max(period_end, first_told) + timedelta(days=SPREAD_DAYS * 2 + 14)
    workdays, day = [], today
    while day <= last:
        if calendar.is_working_day(day):
            workdays.append(day)
        day += timedelta(days=1)
    technicians = [(cost_bearer, slot, len(ids), technician)
                   for cost_bearer, ids in sorted(by_cost_bearer.items()) for slot, technician in enumerate(ids)]
    return _Plan(calendar, today, workdays, workdays.index(first_told) + 1, technicians)


def suggested_day(plan: _Plan, due_on: date, device_id: int) -> date:
    """The rule the batches' SQL applies, for one device: up to SPREAD_DAYS - 1 working days before
    the due date (by the device's id), never before the first day the patient can be told in time."""
    if due_on in plan.workdays:
        index = max(plan.workdays.index(due_on) + 1 - device_id % SPREAD_DAYS, plan.earliest)
    else:
        index = plan.earliest
    return plan.workdays[index - 1]


def _candidates(run: dict, plan: _Plan, device_ids: list[int]) -> Sql:
    """The batch's FU due in the run's period, as insert_generated takes them: the next due date of
    each device's schedule, and after it, as if each were done on the day, the ones that follow
    within the period (a half-yearly sling check twice in a year). A next due date before the
    period is made only with include_overdue, and then alone."""
    techs = plan.technicians
    shift_from, shift_to = due.shifted_days(plan.calendar, plan.today)
    return Sql(
        """
        SELECT r.device_id, r.holder AS patient, r.schedule_id AS fu_schedule, o.due AS fu_due_date,
               (:workdays::date[])[p.idx] AS planned_date,
               (:starts::time[])[1 + (r.device_id / :spread) % :windows] AS window_start,
               (:ends::time[])[1 + (r.device_id / :spread) % :windows] AS window_end,
               t.technician AS assignee,
               r.schedule_name || ', förfaller ' || to_char(o.due, 'YYYY-MM-DD') AS description,
               r.open_order IS NOT NULL AS already_ordered
        FROM (:due) r
        CROSS JOIN LATERAL generate_series(0, CASE WHEN r.due_date < :start THEN 0
                                                   ELSE greatest(0, (:end::date - r.plain_due) / r.interval_days) END) k
        CROSS JOIN LATERAL (SELECT r.plain_due + k * r.interval_days AS plain) n
        LEFT JOIN unnest(:shift_from::date[], :shift_to::date[]) sh(day, before) ON sh.day = n.plain
        CROSS JOIN LATERAL (SELECT coalesce(sh.before, n.plain) AS due) o
        LEFT JOIN unnest(:workdays::date[]) WITH ORDINALITY wd(day, n) ON wd.day = o.due
        CROSS JOIN LATERAL (
            SELECT CASE WHEN wd.n IS NULL THEN :earliest::int
                        ELSE greatest(wd.n::int - r.device_id % :spread, :earliest::int) END AS idx) p
        LEFT JOIN unnest(:t_bearer::int[], :t_slot::int[], :t_of::int[], :t_tech::int[]) t(cost_bearer, slot, of, technician)
            ON t.cost_bearer = r.cost_bearer AND t.slot = r.device_id % t.of
        WHERE r.kind = 'calendar' AND o.due <= :end AND (o.due >= :start OR (:overdue AND k = 0))
          AND (:cost_bearer::int IS NULL OR r.cost_bearer = :cost_bearer)
          AND (NOT :automatic OR r.cancelled_due IS DISTINCT FROM o.due)
        """,
        due=due.due_rows(due.organisation_devices(run["organisation"], Sql("d.id = ANY(:ids::int[])", ids=device_ids)),
                         plan.calendar, plan.today),
        workdays=plan.workdays, earliest=plan.earliest, spread=SPREAD_DAYS, windows=len(WINDOWS),
        starts=[w[0] for w in WINDOWS], ends=[w[1] for w in WINDOWS], shift_from=shift_from, shift_to=shift_to,
        t_bearer=[t[0] for t in techs], t_slot=[t[1] for t in techs], t_of=[t[2] for t in techs],
        t_tech=[t[3] for t in techs], end=run["period_end"], start=run["period_start"],
        overdue=run["include_overdue"], cost_bearer=run["cost_bearer"], automatic=run["automatic"])


async def run(run_id: int, *, today: date, batch_size: int | None = None) -> str:
    """Do the run (the job's work), from where it stopped; returns its state. A run already done is
    left as it is. A batch that fails undoes only itself: the run is marked failed with the reason
    and the error goes on up (the queue retries the job, which goes on from the last batch done)."""
    row = await db.fetchrow(
        "UPDATE fu_generation SET state = 'running', started_at = coalesce(started_at, now()), error = '' "
        "WHERE id = $1 AND state <> 'done' RETURNING *", run_id)
    if row is None:
        state = await db.fetchval("SELECT state FROM fu_generation WHERE id = $1", run_id)
        if state is None:
            raise RunNotFound()
        return state
    run = dict(row)
    batch_size = batch_size or BATCH_DEVICES
    organisation_id = run["organisation"]
    plan = plan_for(await organisations.work_calendar(organisation_id), today, run["period_end"],
                    await areas.technicians_by_cost_bearer(organisation_id))
    if run["done_devices"] == 0:
        total = await db.fetchval(Sql("SELECT count(*) FROM (:devices) m", devices=_in_municipality(run)))
        await db.execute("UPDATE fu_generation SET total_devices = $2 WHERE id = $1", run_id, total)
    try:
        while await _batch(run, plan, batch_size):
            pass
    except Exception as exc:
        reason = exc.message if isinstance(exc, DomainError) else (
            "Körningen avbröts av ett fel. Det som redan skapats finns kvar; jobbet försöker igen och fortsätter "
            "där det slutade.")
        await db.execute("UPDATE fu_generation SET state = 'failed', error = $2 WHERE id = $1", run_id, reason)
        raise
    await due.request_refresh(organisation_id)
    return "done"


async def _batch(run: dict, plan: _Plan, batch_size: int) -> bool:
    """One batch in one transaction; False when there was nothing left (the run is then done)."""
    async with db.transaction():
        cursor = await db.fetchval("SELECT last_device FROM fu_generation WHERE id = $1 FOR UPDATE", run["id"])
        ids = [r["device_id"] for r in await db.fetch(Sql(
            "SELECT m.device_id FROM (:devices) m WHERE m.device_id > :after ORDER BY m.device_id LIMIT :n",
            devices=_in_municipality(run), after=cursor, n=batch_size))]
        if not ids:
            await db.execute("UPDATE fu_generation SET state = 'done', finished_at = now() WHERE id = $1", run["id"])
            return False
        made = await fu_orders.insert_generated(run["organisation"], _candidates(run, plan, ids),
                                                year=datetime.now(STOCKHOLM).year, actor_id=run["staff_user"])
        await db.execute(
            """
            UPDATE fu_generation SET last_device = $2, done_devices = done_devices + $3, created = created + $4,
                   existing = existing + $5, unassigned = unassigned + $6,
                   first_planned = least(first_planned, $7), last_planned = greatest(last_planned, $8)
            WHERE id = $1
            """,
            run["id"], ids[-1], len(ids), made["created"], made["due"] - made["created"], made["unassigned"],
            made["first_planned"], made["last_planned"])
    return True


async def generate(organisation_id: int, period: Period, *, today: date, actor_id: int | None = None,
                   actor_name: str = AUTO_NAME) -> dict:
    """A run done here and now, without the queue (the demo loader, the benchmark): its page's facts."""
    run_id = await create_run(organisation_id, period, actor_id=actor_id, actor_name=actor_name, defer=False)
    await run(run_id, today=today)
    await due.refresh(organisation_id, today=today)
    return await run_page(organisation_id, run_id)


# --- reading runs -------------------------------------------------------------------------------


def _with_labels(row) -> dict:
    found = dict(row)
    found["state_label"] = STATE_LABELS[found["state"]]
    found["running"] = found["state"] in ("queued", "running")
    total = found["total_devices"]
    found["progress"] = 100 if found["state"] == "done" else (
        min(99, found["done_devices"] * 100 // total) if total else 0)
    return found


async def run_page(organisation_id: int, run_id: int) -> dict:
    """The run, with its state in words and its progress in per cent."""
    row = await db.fetchrow(Sql(
        "SELECT g.*, :bearer AS cost_bearer_name FROM fu_generation g WHERE g.id = :id AND g.organisation = :org",
        bearer=organisations.cost_bearer_name(raw("g.cost_bearer")), id=run_id, org=organisation_id))
    if row is None:
        raise RunNotFound()
    return _with_labels(row)


async def recent_runs(organisation_id: int, limit: int = 10) -> list[dict]:
    rows = await db.fetch(Sql(
        "SELECT g.*, :bearer AS cost_bearer_name FROM fu_generation g WHERE g.organisation = :org "
        "ORDER BY g.id DESC LIMIT :limit",
        bearer=organisations.cost_bearer_name(raw("g.cost_bearer")), org=organisation_id, limit=limit))
    return [_with_labels(r) for r in rows]


# --- automatic generation -----------------------------------------------------------------------


async def auto_setting(organisation_id: int) -> dict:
    row = await db.fetchrow("SELECT active, days_ahead, last_run_on FROM fu_auto_generation WHERE organisation = $1",
                            organisation_id)
    return dict(row) if row else {"active": False, "days_ahead": 35, "last_run_on": None}


async def set_auto(actor: Actor, *, active: bool, days_ahead: int | None) -> bool:
    """Turn the daily generation on or off and say how many days ahead it looks; in the history of
    the organisation's setting. Returns whether anything changed."""
    if days_ahead is None or not AUTO_DAYS[0] <= days_ahead <= AUTO_DAYS[1]:
        raise GenerationError(f"Välj {AUTO_DAYS[0]}–{AUTO_DAYS[1]} dagar: minst två veckor, så att patienten "
                              "hinner aviseras.", "days_ahead")
    async with db.transaction():
        before = await db.fetchrow("SELECT active, days_ahead FROM fu_auto_generation WHERE organisation = $1 "
                                   "FOR UPDATE", actor.organisation)
        await db.execute(
            "INSERT INTO fu_auto_generation (organisation, active, days_ahead) VALUES ($1, $2, $3) "
            "ON CONFLICT (organisation) DO UPDATE SET active = $2, days_ahead = $3, changed_at = now()",
            actor.organisation, active, days_ahead)
        return await changes.record(actor.organisation, AUTO_REGISTER, actor.organisation,
                                    "changed" if before else "created", actor=actor.id, actor_name=actor.name,
                                    before=dict(before) if before else None,
                                    after={"active": active, "days_ahead": days_ahead})


async def auto_history(organisation_id: int) -> list:
    return await changes.history(organisation_id, AUTO_REGISTER, organisation_id)


async def start_automatic_runs(today: date) -> list[int]:
    """For every organisation that turned it on and has not had today's: a run for what falls due
    from today to days_ahead later (never one cancelled for that due date), with its job."""
    started = []
    for row in await db.fetch("SELECT organisation, days_ahead FROM fu_auto_generation WHERE active "
                              "AND last_run_on IS DISTINCT FROM $1 ORDER BY organisation", today):
        async with db.transaction():
            claimed = await db.fetchval(
                "UPDATE fu_auto_generation SET last_run_on = $2 WHERE organisation = $1 AND active "
                "AND last_run_on IS DISTINCT FROM $2 RETURNING organisation", row["organisation"], today)
            if claimed is None:
                continue
            started.append(await create_run(row["organisation"],
                                            Period(today, today + timedelta(days=row["days_ahead"])),
                                            actor_id=None, actor_name=AUTO_NAME, automatic=True))
    return started


def filters_text(run: dict, categories: dict[int, str]) -> str:
    """The run's filters in words."""
    parts = [run.get("cost_bearer_name") or "Alla kommuner",
             categories.get(run["category"], "Alla kategorier") if run["category"] else "Alla kategorier"]
    if run["include_overdue"]:
        parts.append("även förfallna")
    return ", ".join(parts)

