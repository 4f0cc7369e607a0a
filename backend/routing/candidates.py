"""What there is to plan in a period: the open on-site orders (FU, repairs at the patient's home,
urgent repairs, technical reviews, installations; not workshop repairs, not fittings) due by the
end of the period plus a look-ahead, or already planned in it, as the planner's Visits; and the
orders that cannot be planned at all, each with the reason in Swedish.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from backend import db
from backend.db import Sql, raw
from backend.devices import service as devices
from backend.patients import service as patients
from backend.routing import durations, resources
from backend.routing.days import visit_of
from backend.routing.model import Unplanned, Visit
from backend.workorders import planning
from backend.workorders.tables import WorkOrderType

ON_SITE_TYPES = (WorkOrderType.maintenance, WorkOrderType.repair_on_site, WorkOrderType.urgent_repair,
                 WorkOrderType.technical_review, WorkOrderType.installation)
# Orders due this many days after the period are offered too: a visit that fits now saves a trip later.
LOOK_AHEAD_DAYS = 14

# Priorities: the weight of leaving a visit out (the solver's disjunction penalties scale by it).
URGENT, OVERDUE, DUE_IN_PERIOD, LATER = 4, 3, 2, 1


def priority(type_: str, due: date | None, first_day: date, last_day: date) -> int:
    if type_ == WorkOrderType.urgent_repair.value:
        return URGENT
    if due is not None and due < first_day:
        return OVERDUE
    if due is not None and due <= last_day:
        return DUE_IN_PERIOD
    return LATER


async def _rows(organisation_id: int, first_day: date, last_day: date) -> list:
    return await db.fetch(Sql(
        """
        SELECT o.*, d.category_id, d.category_name, :restricted AS restricted, h.latitude, h.longitude
        FROM (:orders) o JOIN LATERAL (:device) d ON true LEFT JOIN LATERAL (:home) h ON true
        ORDER BY o.finish_due NULLS LAST, o.received_at, o.id
        """,
        orders=planning.open_on_site_orders(organisation_id, [t.value for t in ON_SITE_TYPES],
                                            last_day + timedelta(days=LOOK_AHEAD_DAYS), first_day, last_day),
        device=devices.device_row(raw("o.device")), home=patients.home_place(raw("o.patient")),
        restricted=resources.restricted_sql(organisation_id, raw("d.category_id"))))


async def open_visits(organisation_id: int, first_day: date, last_day: date, *,
                      technician_ids: list[int] | None = None) -> tuple[list[Visit], list[Unplanned]]:
    """The visits to plan between `first_day` and `last_day` for the technicians (None: all the
    organisation's), and the orders that cannot be planned, with why. Orders planned for, locked
    to or required of a technician outside the set are someone else's and left out of both."""
    technicians = await resources.technicians(organisation_id, technician_ids, [first_day])
    chosen = {t.id for t in technicians} if technician_ids is not None else None
    skills = [t.skills for t in technicians]
    estimate = await durations.estimator(organisation_id)
    visits: list[Visit] = []
    unplanned: list[Unplanned] = []
    for r in await _rows(organisation_id, first_day, last_day):
        in_period = r["planned_date"] is not None and first_day <= r["planned_date"] <= last_day
        if chosen is not None:
            if r["required_technician"] is not None and r["required_technician"] not in chosen:
                continue
            if in_period and r["assignee"] is not None and r["assignee"] not in chosen:
                continue
        locked_here = r["plan_locked"] and in_period and r["assignee"] is not None
        if r["plan_locked"] and r["assignee"] is not None and not in_period and r["planned_date"] is not None:
            continue  # confirmed with the patient for another period: not ours to move
        if r["patient"] is None:
            unplanned.append(Unplanned(r["id"], "Ingen brukare på arbetsordern, så det finns ingen adress att åka till."))
            continue
        visit = visit_of(r, estimate(r["type"], r["category_id"]))
        if visit is None:
            unplanned.append(Unplanned(r["id"], "Brukarens adress saknar koordinater. Lägg in dem i brukarens "
                                                "uppgifter så kan besöket planeras."))
            continue
        if r["restricted"] and not any(r["category_id"] in s for s in skills):
            unplanned.append(Unplanned(r["id"], f"Ingen av teknikerna har behörighet för {r['category_name']}."))
            continue
        if r["technicians_needed"] >= 2 and len(technicians) < 2:
            unplanned.append(Unplanned(r["id"], "Besöket behöver två tekniker, men planeringen har bara en."))
            continue
        if not locked_here:
            visit = replace(visit, locked=None)
        else:
            visit = replace(visit, days=(r["planned_date"],))
        visit = replace(visit, priority=priority(r["type"], r["finish_due"], first_day, last_day))
        visits.append(visit)
    return visits, unplanned


async def current_plan(organisation_id: int, technician_ids: list[int], days: list[date]
                       ) -> dict[tuple[int, date], list[int]]:
    """(technician, day) -> the order ids planned that day, in the board's order (an order for two
    technicians is in both days). Only days with visits are keys. One query."""
    if not technician_ids or not days:
        return {}
    wanted = set(days)
    rows = await db.fetch(Sql("SELECT o.id, o.technician, o.planned_date FROM (:orders) o "
                              "ORDER BY o.technician, o.planned_date, o.position",
                              orders=planning.route_orders(organisation_id, technician_ids, min(days), max(days))))
    plan: dict[tuple[int, date], list[int]] = {}
    for r in rows:
        if r["planned_date"] in wanted:
            plan.setdefault((r["technician"], r["planned_date"]), []).append(r["id"])
    return plan
