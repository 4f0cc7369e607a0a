"""Plan proposals: the solver's plan for a period (a day to two weeks) and a set of technicians,
kept beside today's plan until the coordinator accepts all of it or chosen technician-days.
Nothing on a work order changes before that; accepting writes through workorders.plans, which
skips (and lists) an order changed since the proposal. An accepted FU visit is then among the
visits to tell patients of (notices' proposals pick up every generated FU visit planned at a
time nobody has been told of), as FU production's are.

Solving runs in the request, off the event loop (asyncio.to_thread): a week for ten technicians
takes a few seconds (the time limit grows with the visits, at most SOLVE_SECONDS_MAX), which a
form post with a busy button bears; the job queue would add a worker round trip and a progress
page for no gain at this size.
"""

from __future__ import annotations

import asyncio
import json
import time as clock_time
from dataclasses import dataclass, replace
from datetime import date, time, timedelta

from backend import db
from backend.accounts.service import Actor
from backend.errors import DomainError
from backend.db import Sql, raw
from backend.patients import service as patients
from backend.routing import candidates, distances, pictures, resources, solver
from backend.routing.model import Plan, Problem, Route, Stop, Unplanned
from backend.workorders import planning
from backend.workorders import plans as workorder_plans
from backend.workorders.tables import TYPE_LABELS, WorkOrderType

MAX_DAYS = 14
SOLVE_SECONDS_MIN = 1.0
SOLVE_SECONDS_MAX = 8.0
WINDOW_MINUTES = 120  # the window a patient is given around a proposed time (FU production's too)
ACCEPTED_WHAT = "Ruttplanering"
# How many visits one solve is offered: a technician does at most about ten a day, and a model
# beyond MAX_OFFERED visits grows past what a request should build (its matrices are squared).
VISITS_A_DAY_AT_MOST = 12
MIN_OFFERED = 20
MAX_OFFERED = 700
TOO_MANY = ("Inte med i förslaget: perioden har fler besök än teknikerna hinner, och de mest brådskande "
            "togs med först.")


class ProposalError(DomainError):
    pass


class ProposalNotFound(ProposalError):
    def __init__(self) -> None:
        super().__init__("Förslaget finns inte.")


def solve_seconds(visits: int) -> float:
    return max(SOLVE_SECONDS_MIN, min(SOLVE_SECONDS_MAX, visits / 60))


def check_period(first_day: date, last_day: date, today: date) -> list[date]:
    if last_day < first_day:
        raise ProposalError("Perioden måste sluta på eller efter sin första dag.", "till")
    if first_day < today:
        raise ProposalError("Perioden kan börja idag eller senare.", "fran")
    if (last_day - first_day).days + 1 > MAX_DAYS:
        raise ProposalError(f"Välj en period på högst {MAX_DAYS} dagar.", "till")
    return [first_day + timedelta(days=i) for i in range((last_day - first_day).days + 1)]


def _minutes(at: time | None) -> int | None:
    return None if at is None else at.hour * 60 + at.minute


def _time(minutes: int) -> time:
    minutes = max(0, min(24 * 60 - 1, int(minutes)))
    return time(minutes // 60, minutes % 60)


def figures(plan: Plan) -> dict:
    return {"km": round(plan.km, 1), "hours": round(plan.hours, 1), "late": plan.late,
            "unplanned": len(plan.unplanned), "visits": sum(len(r.stops) for r in plan.routes)}


async def problem_for(organisation_id: int, technician_ids: list[int], days: list[date]
                      ) -> tuple[Problem, list[Unplanned]]:
    """The problem of the period: the technicians' shifts and the visits to plan; and the orders
    that cannot be planned at all, with why."""
    technicians = await resources.technicians(organisation_id, technician_ids, days)
    visits, unplannable = await candidates.open_visits(organisation_id, days[0], days[-1],
                                                       technician_ids=technician_ids)
    working = tuple(d for d in days if any(s.day == d for t in technicians for s in t.shifts))
    # More visits than the period can hold would only make the model large: the most urgent (and
    # every confirmed one) are offered, the rest listed.
    room = max(MIN_OFFERED, VISITS_A_DAY_AT_MOST * sum(len(t.shifts) for t in technicians))
    room = min(room, MAX_OFFERED)
    if len(visits) > room:
        far = date.max
        ranked = sorted(visits, key=lambda v: (v.locked is None, -v.priority, v.due or far, v.order_id))
        visits = ranked[:room]
        unplannable = unplannable + [Unplanned(v.order_id, TOO_MANY) for v in ranked[room:]]
    return Problem(working or tuple(days), tuple(technicians), tuple(visits)), unplannable


@dataclass
class Solved:
    problem: Problem
    plan: Plan  # walked: the times and figures everyone else sees
    current: Plan  # today's plan of the same technicians and days, walked the same way
    unplannable: list[Unplanned]
    source: str
    solve_ms: int


async def solve_period(organisation_id: int, technician_ids: list[int], days: list[date], *,
                       fixed: bool = False, seconds: float | None = None) -> Solved:
    """Solve the period and walk both the proposal and today's plan on the same matrix. `fixed`:
    every visit already planned keeps its technician and day (urgent work: least disruption),
    and the search starts from today's plan."""
    problem, unplannable = await problem_for(organisation_id, technician_ids, days)
    current_days = await candidates.current_plan(organisation_id, technician_ids, days)
    if fixed:
        problem = _fixed(problem, current_days)
    m = await distances.matrix(solver.places_of(problem))
    started = clock_time.perf_counter()
    plan = await asyncio.to_thread(solver.solve, problem, m, time_limit_s=seconds or solve_seconds(len(problem.visits)),
                                   initial=current_days or None)
    solve_ms = int((clock_time.perf_counter() - started) * 1000)
    walked, _ = solver.walk_days(problem, solver.days_of(plan), m)
    walked.unplanned = plan.unplanned
    current, _ = solver.walk_days(problem, current_days, m)
    return Solved(problem, walked, current, unplannable, m.source, solve_ms)


def _fixed(problem: Problem, current: dict[tuple[int, date], list[int]]) -> Problem:
    where = {}
    for (technician, day), order_ids in current.items():
        for order_id in order_ids:
            where.setdefault(order_id, (technician, day))
    visits = tuple(replace(v, technician=where[v.order_id][0], days=(where[v.order_id][1],))
                   if v.order_id in where and v.locked is None and v.technicians_needed == 1 else v
                   for v in problem.visits)
    return Problem(problem.days, problem.technicians, visits)


def _window(route_stop_start: int, order: dict) -> tuple[time, time]:
    """The window the patient is given: the order's own when the proposed start is inside it, else
    WINDOW_MINUTES from the start rounded down to a quarter."""
    w0, w1 = _minutes(order["window_start"]), _minutes(order["window_end"])
    if w0 is not None and w1 is not None and w0 <= route_stop_start <= w1:
        return order["window_start"], order["window_end"]
    start = route_stop_start - route_stop_start % 15
    return _time(start), _time(start + WINDOW_MINUTES)


async def save(actor: Actor, technician_ids: list[int], days: list[date], solved: Solved, kind: str = "period") -> int:
    """Keep a solved proposal; returns its id."""
    plan = solved.plan
    order_ids = [s.order_id for r in plan.routes for s in r.stops]
    orders = await workorder_plans.order_facts(actor.organisation, order_ids)
    day_figures = {}
    for r in solved.current.routes:
        day_figures.setdefault(f"{r.technician}:{r.day.isoformat()}", {})["current"] = [round(r.km, 1), len(r.stops)]
    for r in plan.routes:
        day_figures.setdefault(f"{r.technician}:{r.day.isoformat()}", {})["proposal"] = [round(r.km, 1), len(r.stops)]
    all_figures = {"proposal": figures(plan), "current": figures(solved.current), "days": day_figures,
                   "unplannable": len(solved.unplannable)}
    rows = []
    for r in plan.routes:
        for position, s in enumerate(r.stops, start=1):
            order = orders.get(s.order_id)
            if order is None:
                continue
            w0, w1 = _window(s.start, order)
            rows.append((r.technician, r.day, position, _time(s.start), _time(s.end), _time(s.arrival),
                         float(s.km_from_previous), w0, w1, order["version"], s.order_id))
    async with db.transaction():
        proposal_id = await db.fetchval(
            "INSERT INTO plan_proposal (organisation, created_by, first_day, last_day, technicians, kind, figures, "
            "distance_source, solve_ms) VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9) RETURNING id",
            actor.organisation, actor.id, days[0], days[-1], technician_ids, kind, json.dumps(all_figures),
            solved.source, solved.solve_ms)
        if rows:
            await db.execute(
                """
                INSERT INTO plan_proposal_visit (proposal, technician, day, position, starts, ends, arrives,
                                                 km_from_previous, window_start, window_end, order_version, work_order)
                SELECT $1, t.* FROM unnest($2::int[], $3::date[], $4::int[], $5::time[], $6::time[], $7::time[],
                                          $8::real[], $9::time[], $10::time[], $11::int[], $12::int[]) AS t
                """,
                proposal_id, *[list(column) for column in zip(*rows)])
        left = plan.unplanned + solved.unplannable
        if left:
            await db.execute(
                "INSERT INTO plan_proposal_unplanned (proposal, work_order, reason) "
                "SELECT $1, t.id, t.reason FROM unnest($2::int[], $3::text[]) AS t(id, reason) ON CONFLICT DO NOTHING",
                proposal_id, [u.order_id for u in left], [u.reason for u in left])
    return proposal_id


async def propose(actor: Actor, technician_ids: list[int], first_day: date, last_day: date, today: date) -> int:
    """Solve the period for the technicians and keep the proposal; returns its id."""
    days = check_period(first_day, last_day, today)
    known = {t["id"] for t in await _technicians(actor.organisation)}
    if not technician_ids:
        raise ProposalError("Välj minst en tekniker.", "tekniker")
    if not set(technician_ids) <= known:
        raise ProposalError("Välj tekniker ur listan.", "tekniker")
    solved = await solve_period(actor.organisation, sorted(set(technician_ids)), days)
    return await save(actor, sorted(set(technician_ids)), days, solved)


async def _technicians(organisation_id: int) -> list[dict]:
    return await planning.technicians(organisation_id)


async def technician_choices(organisation_id: int) -> list[dict]:
    return await _technicians(organisation_id)


async def recent(organisation_id: int, limit: int = 10) -> list[dict]:
    rows = await db.fetch(
        "SELECT id, created_at, first_day, last_day, status, kind, figures, cardinality(technicians) AS technicians "
        "FROM plan_proposal WHERE organisation = $1 ORDER BY created_at DESC, id DESC LIMIT $2",
        organisation_id, limit)
    return [{**dict(r), "figures": json.loads(r["figures"]) if isinstance(r["figures"], str) else r["figures"]}
            for r in rows]


STATUS_LABELS = {"proposed": "Förslag", "partly": "Delvis godkänt", "accepted": "Godkänt"}


async def proposal(actor: Actor, proposal_id: int) -> dict:
    """A proposal as its page shows it: the header and figures, technician-days (today's plan beside
    the proposal: km and visits, and the proposed visits in order), and what it left out."""
    head = await db.fetchrow("SELECT * FROM plan_proposal WHERE id = $1 AND organisation = $2",
                             proposal_id, actor.organisation)
    if head is None:
        raise ProposalNotFound()
    visits = await db.fetch("SELECT * FROM plan_proposal_visit WHERE proposal = $1 ORDER BY day, technician, position",
                            proposal_id)
    left = await db.fetch("SELECT work_order, reason FROM plan_proposal_unplanned WHERE proposal = $1 "
                          "ORDER BY work_order", proposal_id)
    orders = await workorder_plans.order_facts(actor.organisation, [v["work_order"] for v in visits]
                                               + [u["work_order"] for u in left])
    names = {t["id"]: t["name"] for t in await _technicians(actor.organisation)}
    all_figures = json.loads(head["figures"]) if isinstance(head["figures"], str) else head["figures"]
    days: dict[tuple[int, date], dict] = {}
    for v in visits:
        key = (v["technician"], v["day"])
        day = days.setdefault(key, {"technician": v["technician"], "name": names.get(v["technician"], "Tekniker"),
                                    "day": v["day"], "key": f"{v['technician']}:{v['day'].isoformat()}",
                                    "visits": [], "accepted": True})
        order = orders.get(v["work_order"], {})
        day["visits"].append({**dict(v), "number": order.get("number", "?"),
                              "type": TYPE_LABELS.get(WorkOrderType(order["type"]), order["type"]) if order else "",
                              "changed": order.get("version") != v["order_version"]})
        day["accepted"] = day["accepted"] and v["accepted_at"] is not None
    for day in days.values():
        f = all_figures.get("days", {}).get(day["key"], {})
        day["current_km"], day["current_visits"] = f.get("current", [0, 0])
        day["proposal_km"], day["proposal_visits"] = f.get("proposal", [0, 0])
    current_only = [{"technician": int(k.split(":")[0]), "name": names.get(int(k.split(":")[0]), "Tekniker"),
                     "day": date.fromisoformat(k.split(":")[1]), "current_km": f["current"][0],
                     "current_visits": f["current"][1]}
                    for k, f in all_figures.get("days", {}).items() if "proposal" not in f]
    return {
        "id": head["id"], "first_day": head["first_day"], "last_day": head["last_day"], "status": head["status"],
        "status_label": STATUS_LABELS[head["status"]], "kind": head["kind"], "created_at": head["created_at"],
        "figures": all_figures, "source": head["distance_source"], "solve_ms": head["solve_ms"],
        "days": sorted(days.values(), key=lambda d: (d["day"], d["name"])),
        "current_only": sorted(current_only, key=lambda d: (d["day"], d["name"])),
        "unplanned": [{"work_order": u["work_order"], "number": orders.get(u["work_order"], {}).get("number", "?"),
                       "reason": u["reason"]} for u in left],
    }


@dataclass(frozen=True)
class Accepted:
    planned: int
    skipped: list[workorder_plans.Skipped]


async def accept(actor: Actor, proposal_id: int, chosen: list[str] | None, today: date) -> Accepted:
    """Write the proposal's visits on the chosen technician-days ("technician:YYYY-MM-DD"; None:
    all) to the work orders; a visit for two technicians goes with its first technician's day.
    Orders changed since the proposal are skipped and listed; nothing else is touched."""
    async with db.transaction():
        head = await db.fetchrow("SELECT id, status FROM plan_proposal WHERE id = $1 AND organisation = $2 FOR UPDATE",
                                 proposal_id, actor.organisation)
        if head is None:
            raise ProposalNotFound()
        rows = await db.fetch("SELECT * FROM plan_proposal_visit WHERE proposal = $1 AND accepted_at IS NULL "
                              "ORDER BY day, technician, position", proposal_id)
        if chosen is not None:
            if not chosen:
                raise ProposalError("Välj minst en dag att godkänna.", "dag")
            wanted = set(chosen)
            known = {f"{r['technician']}:{r['day'].isoformat()}" for r in rows}
            if not wanted <= known:
                raise ProposalError("Välj dagar ur förslaget som inte redan är godkända.", "dag")
        else:
            wanted = None
        by_order: dict[int, list] = {}
        for r in rows:
            by_order.setdefault(r["work_order"], []).append(r)
        visits, taken = [], []
        for order_id, parts in by_order.items():
            first = parts[0]
            if wanted is not None and f"{first['technician']}:{first['day'].isoformat()}" not in wanted:
                continue
            if first["day"] < today:
                continue
            second = parts[1]["technician"] if len(parts) > 1 else None
            visits.append(workorder_plans.PlannedVisit(order_id, first["order_version"], first["technician"],
                                                       first["day"], first["window_start"], first["window_end"],
                                                       first["position"], second))
            taken.append(order_id)
        if not visits:
            raise ProposalError("Det finns inget kvar att godkänna bland de valda dagarna.", "dag")
        planned, skipped = await workorder_plans.apply_plan(actor, visits, ACCEPTED_WHAT)
        await db.execute("UPDATE plan_proposal_visit SET accepted_at = now() WHERE proposal = $1 "
                         "AND work_order = ANY($2::int[])", proposal_id, taken)
        remaining = await db.fetchval("SELECT count(*) FROM plan_proposal_visit WHERE proposal = $1 "
                                      "AND accepted_at IS NULL", proposal_id)
        await db.execute("UPDATE plan_proposal SET status = $2 WHERE id = $1", proposal_id,
                         "partly" if remaining else "accepted")
    return Accepted(len(planned), skipped)


def route_of(day: dict) -> Route:
    """A proposal's technician-day as a Route (for the route sketch)."""
    stops = [Stop(v["work_order"], _minutes(v["arrives"]), _minutes(v["starts"]), _minutes(v["ends"]),
                  v["km_from_previous"]) for v in day["visits"]]
    return Route(day["technician"], day["day"], stops, km=day["proposal_km"])


async def sketches(actor: Actor, shown: dict) -> dict[str, object]:
    """Each proposed technician-day's route sketch (routing.pictures), by the day's key. Homes of
    protected identities are neither drawn nor named; towns are named at the mean of their stops."""
    if not shown["days"]:
        return {}
    order_ids = [v["work_order"] for d in shown["days"] for v in d["visits"]]
    rows = await db.fetch(Sql(
        "SELECT w.id, h.latitude, h.longitude, h.city, h.protected_identity "
        "FROM unnest(:ids::int[]) AS w(id) JOIN LATERAL (:patient) o ON true LEFT JOIN LATERAL (:home) h ON true",
        ids=order_ids, patient=workorder_plans.order_patient(raw("w.id")), home=patients.home_place(raw("o.patient"))))
    places = {r["id"]: (r["latitude"], r["longitude"]) for r in rows if r["latitude"] is not None}
    towns = {r["id"]: r["city"] for r in rows if r["city"]}
    hidden = {r["id"] for r in rows if r["protected_identity"]}
    people = {t.id: t for t in await resources.technicians(
        actor.organisation, sorted({d["technician"] for d in shown["days"]}), [shown["first_day"]])}
    out = {}
    for day in shown["days"]:
        person = people.get(day["technician"])
        if person is None:
            continue
        out[day["key"]] = pictures.route_sketch(
            route_of(day), places, person.start_place, person.end_place,
            title=f"Föreslagen rutt: {day['name']} {day['day'].isoformat()}", towns=towns,
            labels={v["work_order"]: v["number"] for v in day["visits"]}, hidden=hidden)
    return out
