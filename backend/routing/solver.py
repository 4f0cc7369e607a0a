"""The plan: which technician does which visit on which day, in which order, with OR-Tools'
routing library (a vehicle-routing problem with time windows), and the naive plan it is measured
against.

The model, in one place:
- one vehicle per technician-day (a Shift), starting and ending at the technician's places;
- a time dimension in minutes of each vehicle's own day: shift hours bound each vehicle, a
  visit's window bounds its start (on whichever day), waiting is allowed, lunch is a break
  interval of the vehicle within its lunch window (an absolute time over the period, with holes
  between days, made the first solution ten times slower);
- a distance dimension whose per-vehicle capacity is the daily driving limit;
- which vehicles may take a visit (skills, a specific technician, its days, a lock) as the
  values of its vehicle variable (`VehicleVar(i).SetValues([-1, ...])`: SetAllowedVehiclesForIndex
  raises a TypeError in OR-Tools 9.15);
- every visit optional at a penalty by its priority (a disjunction), so what does not fit is left
  out and reported with a reason, never dropped;
- lateness as a cost: a visit placed on a day after its due date costs per day late;
- a locked visit pinned to its technician, day and start; a two-technician visit as two nodes
  pinned to the first day two technicians who may do it work, at the same start (equal-start
  constraints between optional nodes stalled the insertion heuristics);
- guided local search until the time limit.
Costs are in tens of metres, so the objective reads as driving plus penalties in driving terms.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from ortools.constraint_solver import pywrapcp, routing_enums_pb2

from backend.routing import schedule
from backend.routing.distances import Matrix
from backend.routing.model import Place, Plan, Problem, Route, Shift, Stop, Technician, Unplanned, Visit

DAY = 24 * 60
COST_PER_KM = 100  # cost units per km: tens of metres
LATE_COST = 30 * COST_PER_KM  # a visit late at all costs as 30 km of driving...
LATE_COST_PER_DAY = 5 * COST_PER_KM  # ...and 5 km more per day late
# Leaving a visit out costs more than any detour to it: planned visits come first, cost second.
UNPLANNED_COST = 100_000 * COST_PER_KM
LOCKED_COST = 100 * UNPLANNED_COST

# Why a visit is left out (Swedish: the coordinator reads these).
NO_DAY = "Ingen av dagarna som besöket får göras på ingår i perioden."
NO_TECHNICIAN = "Den begärda teknikern arbetar inte under perioden."
NO_SKILL = "Ingen av de valda teknikerna har kompetens för hjälpmedlets kategori under perioden."
NO_PAIR = "Besöket kräver två tekniker samma dag, och det finns inte två som kan."
LOCK_OUTSIDE = "Den bekräftade tiden ligger utanför perioden eller teknikerns arbetstid."
LOCK_BROKEN = "Den bekräftade tiden går inte att hålla med de andra bekräftade besöken."
DOES_NOT_FIT = ("Får inte plats i någon teknikers dag under perioden (arbetstid, tidsfönster, lunch "
                "eller körgräns).")
TOO_LONG = "Besöket är längre än någon teknikers arbetsdag."
WINDOW_OUTSIDE = "Tiden med brukaren ligger utanför arbetstiden för de tekniker som kan göra besöket."
NO_TIME = "Planeringen hann inte bli klar inom tidsgränsen. Välj en kortare period eller färre tekniker."

MatrixFor = Callable[[list[Place]], Matrix]


def places_of(problem: Problem) -> list[Place]:
    """Every place of the problem once, in a fixed order (technicians' start and end places, then
    the visits'): the list to ask `distances.matrix` for before calling `solve` from async code."""
    seen: dict[Place, None] = {}
    for t in problem.technicians:
        seen.setdefault(tuple(t.start_place), None)
        seen.setdefault(tuple(t.end_place), None)
    for v in problem.visits:
        seen.setdefault(tuple(v.place), None)
    return list(seen)


def _matrix(problem: Problem, matrix_for: MatrixFor | Matrix) -> tuple[Matrix, dict[Place, int]]:
    places = places_of(problem)
    m = matrix_for if isinstance(matrix_for, Matrix) else matrix_for(places)
    index = {p: i for i, p in enumerate(m.places)}
    missing = [p for p in places if p not in index]
    if missing:
        raise ValueError(f"the matrix lacks {len(missing)} of the problem's places")
    return m, index


@dataclass(frozen=True)
class _Vehicle:
    technician: Technician
    shift: Shift
    day_index: int



def _vehicles(problem: Problem) -> list[_Vehicle]:
    day_index = {d: i for i, d in enumerate(problem.days)}
    return [_Vehicle(t, s, day_index[s.day]) for t in problem.technicians for s in t.shifts if s.day in day_index]


def _may_do(vehicle: _Vehicle, visit: Visit) -> bool:
    t, s = vehicle.technician, vehicle.shift
    if visit.locked is not None:
        tech, day, _ = visit.locked
        return t.id == tech and s.day == day
    if visit.technician is not None and t.id != visit.technician:
        return False
    if visit.restricted and visit.category not in t.skills:
        return False
    if visit.days is not None and s.day not in visit.days:
        return False
    return True


def _why_none(problem: Problem, vehicles: list[_Vehicle], visit: Visit) -> str:
    if visit.locked is not None:
        return LOCK_OUTSIDE
    if visit.days is not None and not set(visit.days) & set(problem.days):
        return NO_DAY
    if visit.technician is not None:
        return NO_TECHNICIAN
    if visit.restricted:
        return NO_SKILL
    return NO_DAY


def _late_days(visit: Visit, day: date) -> int:
    return max(0, (day - visit.due).days) if visit.due is not None else 0


def _late_cost(visit: Visit, day: date) -> int:
    late = _late_days(visit, day)
    return LATE_COST + LATE_COST_PER_DAY * late if late else 0


def solve(problem: Problem, matrix_for: MatrixFor | Matrix, *, time_limit_s: float,
          initial: dict[tuple[int, date], list[int]] | None = None) -> Plan:
    """The plan for `problem`: routes of technician-days and the visits left out, with reasons.
    `matrix_for` gives the matrix of a list of places (e.g. `distances.straight_line_matrix`), or is
    the matrix itself (of `places_of(problem)`, e.g. from `await distances.matrix(...)`).
    `initial` (technician, day) -> order ids in order: a plan to start the search from (today's)."""
    m, place_index = _matrix(problem, matrix_for)
    vehicles = _vehicles(problem)
    unplanned: list[Unplanned] = []

    # Nodes: one per distinct start/end place used as a depot, then one per visit (two for a visit
    # that needs two technicians).
    depot_places = []
    for v in vehicles:
        for p in (tuple(v.technician.start_place), tuple(v.technician.end_place)):
            if p not in depot_places:
                depot_places.append(p)
    node_place = [place_index[p] for p in depot_places]
    node_visit: list[Visit | None] = [None] * len(depot_places)
    visit_nodes: dict[int, list[int]] = {}
    allowed: dict[int, list[int]] = {}
    longest_day = max((v.shift.end - v.shift.start for v in vehicles), default=0)
    for visit in problem.visits:
        ok = [i for i, v in enumerate(vehicles) if _may_do(v, visit)]
        if not ok:
            unplanned.append(Unplanned(visit.order_id, _why_none(problem, vehicles, visit)))
            continue
        if visit.minutes > longest_day:
            unplanned.append(Unplanned(visit.order_id, TOO_LONG))
            continue
        pair = _pair(visit, ok, vehicles, m, place_index) if visit.technicians_needed >= 2 else None
        if visit.technicians_needed >= 2 and pair is None:
            unplanned.append(Unplanned(visit.order_id, NO_PAIR))
            continue
        if visit.locked is None and visit.window is not None and not any(
                max(vehicles[i].shift.start, visit.window[0]) <= min(vehicles[i].shift.end - visit.minutes,
                                                                     visit.window[1]) for i in ok):
            unplanned.append(Unplanned(visit.order_id, WINDOW_OUTSIDE))
            continue
        visit_nodes[visit.order_id] = []
        for k in range(2 if pair else 1):
            if pair:
                # Two technicians at once: pinned to the pair's vehicles and start, chosen up front
                # (equal-start constraints between optional nodes stall the insertion heuristics).
                visit = Visit(**{**visit.__dict__, "locked": (vehicles[pair[k]].technician.id,
                                                              vehicles[pair[k]].shift.day, pair[2])})
                ok = [pair[k]]
            allowed[(visit.order_id, k)] = ok
            visit_nodes[visit.order_id].append(len(node_place))
            node_place.append(place_index[tuple(visit.place)])
            node_visit.append(visit)

    if not vehicles or not visit_nodes:
        return Plan([], unplanned)  # every visit, if any, is already listed: nobody may do it

    starts = [depot_places.index(tuple(v.technician.start_place)) for v in vehicles]
    ends = [depot_places.index(tuple(v.technician.end_place)) for v in vehicles]
    manager = pywrapcp.RoutingIndexManager(len(node_place), len(vehicles), starts, ends)
    routing = pywrapcp.RoutingModel(manager)
    solver = routing.solver()
    n = len(node_place)

    km = [[m.km[node_place[a]][node_place[b]] for b in range(n)] for a in range(n)]
    drive = [[math.ceil(m.minutes[node_place[a]][node_place[b]] - 1e-9) for b in range(n)] for a in range(n)]
    service = [0 if node_visit[a] is None else node_visit[a].minutes for a in range(n)]
    distance_units = [[round(km[a][b] * COST_PER_KM) for b in range(n)] for a in range(n)]

    # Arc costs: driving, plus lateness on the arc into a visit (it depends on the vehicle's day,
    # so one cost matrix per day of the period).
    distance_cb = routing.RegisterTransitMatrix(distance_units)
    cost_by_day: dict[int, int] = {}
    by_lateness: dict[tuple[int, ...], int] = {}  # days alike in what is late share a matrix
    for vi, v in enumerate(vehicles):
        if v.day_index not in cost_by_day:
            day = v.shift.day
            late = tuple(0 if node_visit[b] is None else _late_cost(node_visit[b], day) for b in range(n))
            if late not in by_lateness:
                by_lateness[late] = routing.RegisterTransitMatrix(
                    [[distance_units[a][b] + late[b] for b in range(n)] for a in range(n)]) if any(late) \
                    else distance_cb
            cost_by_day[v.day_index] = by_lateness[late]
        routing.SetArcCostEvaluatorOfVehicle(cost_by_day[v.day_index], vi)

    # Driving limit per vehicle (the distance dimension's capacity).
    big = 10**9
    capacities = [big if v.technician.max_drive_km is None else round(v.technician.max_drive_km * COST_PER_KM)
                  for v in vehicles]
    routing.AddDimensionWithVehicleCapacity(distance_cb, 0, capacities, True, "distance")

    # Time within the vehicle's day: service at a node, then the drive to the next.
    time_cb = routing.RegisterTransitMatrix([[service[a] + drive[a][b] for b in range(n)] for a in range(n)])
    routing.AddDimension(time_cb, DAY, DAY, False, "time")
    time = routing.GetDimensionOrDie("time")

    for vi, v in enumerate(vehicles):
        s = v.shift
        time.CumulVar(routing.Start(vi)).SetRange(s.start, s.end)
        time.CumulVar(routing.End(vi)).SetRange(s.start, s.end)
        routing.AddVariableMaximizedByFinalizer(time.CumulVar(routing.Start(vi)))
        routing.AddVariableMinimizedByFinalizer(time.CumulVar(routing.End(vi)))
        if s.lunch_minutes and s.lunch_earliest is not None:
            latest = s.lunch_latest if s.lunch_latest is not None else s.lunch_earliest
            lunch = solver.FixedDurationIntervalVar(s.lunch_earliest, latest,
                                                    s.lunch_minutes, False, f"lunch {vi}")
            time.SetBreakIntervalsOfVehicle([lunch], vi, service)
            routing.AddIntervalToAssignment(lunch)

    for order_id, nodes in visit_nodes.items():
        visit = node_visit[nodes[0]]
        indices = [manager.NodeToIndex(node) for node in nodes]
        for k, index in enumerate(indices):
            ok = allowed[(order_id, k)]
            routing.VehicleVar(index).SetValues([-1] + ok)
            cumul = time.CumulVar(index)
            if visit.locked is not None:
                cumul.SetRange(visit.locked[2], visit.locked[2])
            else:
                # Within the window, and within the shifts of the vehicles that may take it.
                lo = min(vehicles[i].shift.start for i in ok)
                hi = max(vehicles[i].shift.end for i in ok) - visit.minutes
                if visit.window is not None:
                    lo, hi = max(lo, visit.window[0]), min(hi, visit.window[1])
                cumul.SetRange(lo, hi)
        penalty = LOCKED_COST if visit.locked is not None else UNPLANNED_COST * max(1, visit.priority)
        for index in indices:
            routing.AddDisjunction([index], penalty)

    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.PARALLEL_CHEAPEST_INSERTION
    params.local_search_metaheuristic = routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    params.time_limit.FromMilliseconds(max(100, int(time_limit_s * 1000)))

    solution = None
    if initial:
        routes = _initial_routes(vehicles, initial, visit_nodes, manager)
        routing.CloseModelWithParameters(params)
        start = routing.ReadAssignmentFromRoutes(routes, True)
        if start is not None:
            solution = routing.SolveFromAssignmentWithParameters(start, params)
    if solution is None:
        solution = routing.SolveWithParameters(params)
    if solution is None:  # no plan within the time limit (or none at all): said so, nothing hidden
        return Plan([], unplanned + [Unplanned(order_id, NO_TIME) for order_id in visit_nodes])
    return _plan(problem, vehicles, routing, manager, solution, time, node_visit, km, drive, visit_nodes,
                 unplanned)


def _pair(visit: Visit, ok: list[int], vehicles: list[_Vehicle], m: Matrix, place_index) -> tuple[int, int, int] | None:
    """For a two-technician visit: (vehicle, vehicle, start) on the first day two technicians who
    may do it work, the two whose start places are nearest, at the start of its window or as soon
    as both can be there; None when no day has two."""
    by_day: dict[int, list[int]] = {}
    for i in ok:
        by_day.setdefault(vehicles[i].day_index, []).append(i)
    here = place_index[tuple(visit.place)]
    for day in sorted(by_day):
        choices = sorted(by_day[day], key=lambda i: m.minutes[place_index[tuple(vehicles[i].technician.start_place)]][here])
        if len({vehicles[i].technician.id for i in choices}) < 2:
            continue
        a = choices[0]
        b = next(i for i in choices if vehicles[i].technician.id != vehicles[a].technician.id)
        ready = max(vehicles[i].shift.start + math.ceil(
            m.minutes[place_index[tuple(vehicles[i].technician.start_place)]][here]) for i in (a, b))
        start = max(ready, visit.window[0]) if visit.window is not None else ready
        if visit.window is not None and start > visit.window[1]:
            continue
        if start + visit.minutes > min(vehicles[a].shift.end, vehicles[b].shift.end):
            continue
        return a, b, start
    return None


def _initial_routes(vehicles, initial, visit_nodes, manager) -> list[list[int]]:
    routes = []
    used: set[int] = set()
    for v in vehicles:
        route = []
        for order_id in initial.get((v.technician.id, v.shift.day), []):
            for node in visit_nodes.get(order_id, []):
                if node not in used:
                    used.add(node)
                    route.append(manager.NodeToIndex(node))
                    break
        routes.append(route)
    return routes


def _plan(problem, vehicles, routing, manager, solution, time, node_visit, km, drive, visit_nodes,
          unplanned) -> Plan:
    routes: list[Route] = []
    planned: set[int] = set()
    for vi, v in enumerate(vehicles):
        lunch = _lunch(routing, solution, vi, v) if v.shift.lunch_minutes and v.shift.lunch_earliest is not None \
            else None
        index = routing.Start(vi)
        stops: list[Stop] = []
        total = 0.0
        previous_node = manager.IndexToNode(index)
        previous_end = solution.Value(time.CumulVar(index))
        leave = previous_end
        index = solution.Value(routing.NextVar(index))
        while not routing.IsEnd(index):
            node = manager.IndexToNode(index)
            visit = node_visit[node]
            start = solution.Value(time.CumulVar(index))
            arrival = previous_end + drive[previous_node][node]
            if lunch is not None and previous_end <= lunch[0] < start:
                arrival += lunch[1] - lunch[0]  # lunch on the way, the drive goes on after it
            stops.append(Stop(visit.order_id, min(arrival, start), start, start + visit.minutes,
                              km[previous_node][node], late=_late_days(visit, v.shift.day) > 0))
            planned.add(visit.order_id)
            total += km[previous_node][node]
            previous_node, previous_end = node, start + visit.minutes
            index = solution.Value(routing.NextVar(index))
        end_node = manager.IndexToNode(index)
        total += km[previous_node][end_node] if stops else 0.0
        end = solution.Value(time.CumulVar(index))
        routes.append(Route(v.technician.id, v.shift.day, stops, km=round(total, 3) if stops else 0.0,
                            start=leave if stops else v.shift.start, end=end if stops else v.shift.start,
                            lunch=lunch if stops else None))
    for order_id, nodes in visit_nodes.items():
        done = sum(1 for r in routes for st in r.stops if st.order_id == order_id)
        if done < len(nodes):
            visit = node_visit[nodes[0]]
            if done:  # half a two-technician visit is none: taken out again
                _take_out(routes, order_id)
            unplanned.append(Unplanned(order_id, NO_PAIR if len(nodes) > 1 else
                                       LOCK_BROKEN if visit.locked is not None else DOES_NOT_FIT))
    return Plan(routes, unplanned)


def _take_out(routes: list[Route], order_id: int) -> None:
    """Remove a visit from the routes; its neighbours keep their times (a gap is only waiting);
    the km of the leg it broke stays as driven (an upper bound, rare: half a pair)."""
    for r in routes:
        r.stops = [st for st in r.stops if st.order_id != order_id]
        if not r.stops:
            r.km, r.end, r.lunch = 0.0, r.start, None


def _lunch(routing, solution, vi, v) -> tuple[int, int] | None:
    intervals = solution.IntervalVarContainer()
    for k in range(intervals.Size()):
        element = intervals.Element(k)
        if element.Var().Name() == f"lunch {vi}":
            start = element.StartValue()
            return (start, start + v.shift.lunch_minutes)
    return None


# --- Walking plans: the same figures for every plan compared ---------------------------------------

# Warnings that make a day unacceptable to the naive planner (a lunch a little late is not).
_BREAKS_DAY = {schedule.WINDOW_MISSED, schedule.DRIVE_BETWEEN_WINDOWS, schedule.LONG_DAY, schedule.DRIVE_LIMIT,
               schedule.LOCK_MISSED, schedule.SKILL_MISSING, schedule.OTHER_TECHNICIAN}


def walk_days(problem: Problem, days: dict[tuple[int, date], list[int]], m: Matrix,
              ) -> tuple[Plan, dict[tuple[int, date], list[schedule.DayWarning]]]:
    """The plan that orders each technician-day as `days` says ((technician, day) -> order ids in
    order), walked with `schedule.walk_day` on the matrix `m` (of `places_of(problem)` or more):
    the figures and warnings every plan is compared by. Orders not in the problem are ignored; the
    problem's visits in no day are unplanned (reason: not planned)."""
    index = {p: i for i, p in enumerate(m.places)}
    visits = {v.order_id: v for v in problem.visits}
    shifts = {(t.id, s.day): (t, s) for t in problem.technicians for s in t.shifts}
    routes, warnings, planned = [], {}, set()
    for key, order_ids in sorted(days.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        if key not in shifts:
            continue
        technician, shift = shifts[key]
        day = [visits[o] for o in order_ids if o in visits]
        if not day:
            continue
        at = [index[tuple(technician.start_place)], *(index[tuple(v.place)] for v in day),
              index[tuple(technician.end_place)]]
        route, found = schedule.walk_day(technician, shift, day, m, indices=at)
        routes.append(route)
        warnings[key] = found
        planned.update(v.order_id for v in day)
    unplanned = [Unplanned(v.order_id, NOT_PLANNED) for v in problem.visits if v.order_id not in planned]
    return Plan(routes, unplanned), warnings


def days_of(plan: Plan) -> dict[tuple[int, date], list[int]]:
    """(technician, day) -> order ids in order: a plan's days, as walk_days and current_plan give them."""
    return {(r.technician, r.day): [s.order_id for s in r.stops] for r in plan.routes if r.stops}


NOT_PLANNED = "Inte planerad."


def naive_plan(problem: Problem, matrix_for: MatrixFor | Matrix, *,
               technicians_for: dict[int, list[int]] | None = None) -> Plan:
    """The plan a coordinator makes without a solver, to measure the solver by: the orders by due
    date, each given to a technician of its municipality (`technicians_for`: order id -> the
    technicians whose area holds the patient's municipality; without it, or when none of them may
    do it, the technician whose start place is nearest), the one with the fewest visits so far, on
    the first day where it fits after that day's earlier visits (visited in due-date order). What
    fits nowhere is unplanned."""
    m, index = _matrix(problem, matrix_for)
    vehicles = _vehicles(problem)
    days: dict[tuple[int, date], list[Visit]] = {}
    count: dict[int, int] = {}
    unplanned: list[Unplanned] = []
    technicians = {t.id: t for t in problem.technicians}
    far = date.max

    def fits(v: _Vehicle, day_visits: list[Visit]) -> bool:
        t = v.technician
        at = [index[tuple(t.start_place)], *(index[tuple(x.place)] for x in day_visits), index[tuple(t.end_place)]]
        _, found = schedule.walk_day(t, v.shift, day_visits, m, indices=at)
        return not any(w.kind in _BREAKS_DAY for w in found)

    for visit in sorted(problem.visits, key=lambda v: (v.due or far, -v.priority, v.order_id)):
        ok = [v for v in vehicles if _may_do(v, visit)]
        if not ok:
            unplanned.append(Unplanned(visit.order_id, _why_none(problem, vehicles, visit)))
            continue
        ok_ids = {v.technician.id for v in ok}
        area = [t for t in (technicians_for or {}).get(visit.order_id, []) if t in ok_ids]
        if not area:
            nearest = min(ok_ids, key=lambda t: (_straight(technicians[t].start_place, visit.place), t))
            area = [nearest]
        order = sorted(area, key=lambda t: (count.get(t, 0), t))
        placed = False
        for tech in order:
            for v in (x for x in ok if x.technician.id == tech):
                key = (tech, v.shift.day)
                trial = days.get(key, []) + [visit]
                if not fits(v, trial):
                    continue
                if visit.technicians_needed >= 2:
                    partner = next((p for p in ok if p.shift.day == v.shift.day and p.technician.id != tech
                                    and fits(p, days.get((p.technician.id, p.shift.day), []) + [visit])), None)
                    if partner is None:
                        continue
                    pkey = (partner.technician.id, partner.shift.day)
                    days[pkey] = days.get(pkey, []) + [visit]
                    count[partner.technician.id] = count.get(partner.technician.id, 0) + 1
                days[key] = trial
                count[tech] = count.get(tech, 0) + 1
                placed = True
                break
            if placed:
                break
        if not placed:
            unplanned.append(Unplanned(visit.order_id, NO_PAIR if visit.technicians_needed >= 2 else DOES_NOT_FIT))
    plan, _ = walk_days(problem, {k: [v.order_id for v in vs] for k, vs in days.items()}, m)
    return Plan(plan.routes, unplanned)


def _straight(a: Place, b: Place) -> float:
    return (a[0] - b[0]) ** 2 + ((a[1] - b[1]) * 0.45) ** 2  # 0.45: cos(63 degrees north), for ranking only
