"""An urgent repair (akut AU) fitted into today's routes with the least disruption: today's planned
visits keep their technicians (only their order and times may change; a visit confirmed with the
patient keeps its time), the search starts from today's plan, and the day counts from now. The
result is a proposal like any other (accept it, or not); it lists the patients whose visit moves
out of its window or by more than MOVE_MINUTES, whom the coordinator should call."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from datetime import date

from backend import db
from backend.accounts.service import Actor
from backend.audit.service import record_patient_reads
from backend.db import Sql, raw
from backend.patients import service as patients
from backend.routing import candidates, distances, proposals, solver
from backend.routing.model import Problem
from backend.routing.proposals import ProposalError, Solved
from backend.workorders import plans as workorder_plans
from backend.workorders.planning import PLANNABLE

MOVE_MINUTES = 30  # a visit moved more than this is worth a call, even inside its window
URGENT_SECONDS = 3.0


async def insert_urgent(actor: Actor, order_id: int, today: date, now_minutes: int) -> int:
    """A proposal for today with the urgent order fitted in; returns its id."""
    facts = (await workorder_plans.order_facts(actor.organisation, [order_id])).get(order_id)
    if facts is None or facts["type"] != "urgent_repair" or facts["status"] not in PLANNABLE:
        raise ProposalError("Välj en akut reparation som inte är påbörjad.", "order")
    technician_ids = [t["id"] for t in await proposals.technician_choices(actor.organisation)]
    days = [today]
    problem, unplannable = await proposals.problem_for(actor.organisation, technician_ids, days)
    why = next((u.reason for u in unplannable if u.order_id == order_id), None)
    if why:
        raise ProposalError(f"Den akuta reparationen kan inte planeras: {why}", "order")
    current = await candidates.current_plan(actor.organisation, technician_ids, days)
    where = {o: key for key, ids in current.items() for o in ids}
    visits = []
    for v in problem.visits:
        if v.order_id == order_id:
            visits.append(replace(v, priority=max(v.priority, 10), days=(today,), locked=None, due=today))
        elif v.order_id in where:
            keep = replace(v, technician=where[v.order_id][0], days=(today,)) if v.locked is None else v
            visits.append(keep)
    if not any(v.order_id == order_id for v in visits):
        raise ProposalError("Den akuta reparationen kan inte planeras idag: ingen tekniker arbetar idag.", "order")
    # The day counts from now: nobody can start a visit before it.
    technicians = tuple(replace(t, shifts=tuple(replace(s, start=max(s.start, now_minutes)) for s in t.shifts
                                                if s.start < s.end and max(s.start, now_minutes) < s.end))
                        for t in problem.technicians)
    problem = Problem(problem.days, technicians, tuple(visits))
    m = await distances.matrix(solver.places_of(problem))
    plan = await asyncio.to_thread(solver.solve, problem, m, time_limit_s=URGENT_SECONDS, initial=current or None)
    walked, _ = solver.walk_days(problem, solver.days_of(plan), m)
    walked.unplanned = plan.unplanned
    before, _ = solver.walk_days(problem, current, m)
    if order_id not in {s.order_id for r in walked.routes for s in r.stops}:
        reason = next((u.reason for u in plan.unplanned if u.order_id == order_id), solver.DOES_NOT_FIT)
        raise ProposalError(f"Den akuta reparationen får inte plats idag: {reason}", "order")
    solved = Solved(problem, walked, before, [], m.source, 0)
    proposal_id = await proposals.save(actor, technician_ids, days, solved, kind="urgent")
    await _store_calls(proposal_id, problem, before, walked)
    return proposal_id


async def _store_calls(proposal_id: int, problem: Problem, before, after) -> None:
    """Which visits move enough that the patient should hear of it (kept with the proposal)."""
    visits = {v.order_id: v for v in problem.visits}
    was = {s.order_id: s.start for r in before.routes for s in r.stops}
    calls = []
    placed = {s.order_id for r in after.routes for s in r.stops}
    for order_id, start in was.items():
        if order_id not in placed:  # left out of today: the patient must hear of it first
            v = visits[order_id]
            calls.append({"order": order_id, "before": start, "after": None,
                          "window": list(v.window) if v.window else None, "outside": True})
    for r in after.routes:
        for s in r.stops:
            if s.order_id not in was:
                continue
            v = visits[s.order_id]
            outside = v.window is not None and not (v.window[0] <= s.start <= v.window[1])
            if outside or abs(s.start - was[s.order_id]) > MOVE_MINUTES:
                calls.append({"order": s.order_id, "before": was[s.order_id], "after": s.start,
                              "window": list(v.window) if v.window else None, "outside": outside})
    await db.execute("UPDATE plan_proposal SET figures = figures || jsonb_build_object('calls', $2::jsonb) "
                     "WHERE id = $1", proposal_id, json.dumps(calls))


async def calls(actor: Actor, shown: dict) -> list[dict]:
    """The patients to call about an urgent proposal, with name and phone (the read is audited). A
    protected identity shows no more than the name the order already shows: no phone; the
    coordinator reaches them the way the centre's routine for protected identities says."""
    wanted = shown["figures"].get("calls", [])
    if not wanted:
        return []
    ids = [c["order"] for c in wanted]
    facts = await workorder_plans.order_facts(actor.organisation, ids)
    patient_ids = [facts[i]["patient"] for i in ids if i in facts and facts[i]["patient"]]
    rows = await db.fetch(Sql("SELECT x.id, p.given_name, p.family_name, p.phone, p.protected_identity "
                              "FROM unnest(:ids::int[]) AS x(id) JOIN LATERAL (:contact) p ON true",
                              ids=patient_ids, contact=patients.notice_contact(raw("x.id"))))
    await record_patient_reads(actor, patient_ids, "urgent_calls")
    people = {r["id"]: r for r in rows}
    out = []
    for c in wanted:
        order = facts.get(c["order"])
        person = people.get(order["patient"]) if order else None
        out.append({**c, "number": order["number"] if order else "?",
                    "name": f"{person['given_name']} {person['family_name']}" if person else "",
                    "phone": person["phone"] if person and not person["protected_identity"] else "",
                    "protected": bool(person and person["protected_identity"])})
    return out
