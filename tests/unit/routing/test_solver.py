"""The solver: small instances whose best answer is known by hand, and properties that hold for
every plan of larger generated ones (windows, skills, hours, locks, nothing twice, nothing lost)."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest

from backend.routing import solver
from backend.routing.distances import straight_line_matrix
from backend.routing.model import Problem, Shift, Technician, Visit

MONDAY = date(2026, 12, 7)
TUESDAY = MONDAY + timedelta(days=1)
HOME = (63.80, 20.00)


def east(km: float) -> tuple[float, float]:
    """A place `km` straight east of HOME (a degree of longitude is ~49.3 km at 63.8 N)."""
    return (63.80, 20.00 + km / 49.29)


def shift(day=MONDAY, start=7 * 60 + 30, end=16 * 60, lunch=(11 * 60 + 30, 13 * 60, 30)) -> Shift:
    return Shift(day, start, end, *lunch) if lunch else Shift(day, start, end)


def tech(id_=1, days=(MONDAY,), **kw) -> Technician:
    return Technician(id_, f"Tekniker {id_}", kw.pop("start", HOME), kw.pop("end", HOME),
                      tuple(shift(d) for d in days), **kw)


def visit(order_id, place, minutes=30, **kw) -> Visit:
    return Visit(order_id, place, minutes, kw.pop("category", 1), **kw)


def solve(problem, seconds=0.3):
    return solver.solve(problem, straight_line_matrix, time_limit_s=seconds)


def stops(plan):
    return {s.order_id: (r.technician, r.day, s) for r in plan.routes for s in r.stops}


def test_visits_on_a_line_are_done_in_the_shortest_day():
    # Three visits 10, 20 and 30 km east: the shortest day drives 30 km out and 30 back (in one
    # sweep out, or picking one up on the way back); 10-30-20, say, drives 80.
    problem = Problem((MONDAY,), (tech(),), (visit(3, east(30)), visit(1, east(10)), visit(2, east(20))))
    plan = solve(problem)
    assert not plan.unplanned
    [route] = [r for r in plan.routes if r.stops]
    assert route.km == pytest.approx(60 * solver_circuity(), rel=0.01)


def solver_circuity():
    from backend.routing.distances import CIRCUITY
    return CIRCUITY


def test_each_visit_goes_to_the_technician_living_near_it():
    west_home, east_home = east(-40), east(40)
    problem = Problem((MONDAY,), (tech(1, start=west_home, end=west_home), tech(2, start=east_home, end=east_home)),
                      (visit(1, east(-35)), visit(2, east(35)), visit(3, east(-45)), visit(4, east(45))))
    found = stops(solve(problem))
    assert {o: t for o, (t, _, _) in found.items()} == {1: 1, 3: 1, 2: 2, 4: 2}


def test_a_window_is_kept_even_when_it_makes_the_day_longer():
    # Visit 2 is nearer, but only from 13:00: visit 1 (farther) comes first.
    problem = Problem((MONDAY,), (tech(),), (visit(1, east(30)), visit(2, east(10), window=(13 * 60, 14 * 60))))
    found = stops(solve(problem))
    assert 13 * 60 <= found[2][2].start <= 14 * 60
    assert [o for o, _ in sorted(found.items(), key=lambda kv: kv[1][2].start)] == [1, 2]


def test_a_skill_restricted_visit_goes_only_to_a_technician_with_the_skill():
    problem = Problem((MONDAY,), (tech(1), tech(2, skills=frozenset({7}), start=east(60), end=east(60))),
                      (visit(1, east(1), category=7, restricted=True),))
    assert stops(solve(problem))[1][0] == 2


def test_a_visit_nobody_may_do_is_reported_with_its_reason_never_dropped():
    problem = Problem((MONDAY,), (tech(1),), (visit(1, east(5), category=7, restricted=True),
                                              visit(2, east(5), technician=99), visit(3, east(5))))
    plan = solve(problem)
    reasons = {u.order_id: u.reason for u in plan.unplanned}
    assert reasons == {1: solver.NO_SKILL, 2: solver.NO_TECHNICIAN}
    assert 3 in stops(plan)


def test_what_does_not_fit_in_the_hours_is_left_out_with_a_reason():
    # 8.5 hours of shift minus lunch: three visits of three hours cannot all fit.
    problem = Problem((MONDAY,), (tech(),), tuple(visit(i, east(1), minutes=180) for i in (1, 2, 3)))
    plan = solve(problem)
    assert len(stops(plan)) == 2
    assert [u.reason for u in plan.unplanned] == [solver.DOES_NOT_FIT]


def test_a_locked_visit_keeps_its_technician_day_and_start():
    problem = Problem((MONDAY, TUESDAY), (tech(1, days=(MONDAY, TUESDAY)), tech(2, days=(MONDAY, TUESDAY))),
                      (visit(1, east(10), locked=(2, TUESDAY, 10 * 60)), visit(2, east(12))))
    t, day, s = stops(solve(problem))[1]
    assert (t, day, s.start) == (2, TUESDAY, 600)


def test_the_driving_limit_keeps_a_far_visit_out():
    problem = Problem((MONDAY,), (tech(max_drive_km=50),), (visit(1, east(10)), visit(2, east(60))))
    plan = solve(problem)
    assert set(stops(plan)) == {1}
    assert plan.routes[0].km <= 50


def test_an_overdue_visit_is_done_on_the_first_day():
    # Both fit on either day; the one due Monday goes on Monday.
    problem = Problem((MONDAY, TUESDAY), (tech(days=(MONDAY, TUESDAY)),),
                      (visit(1, east(20), minutes=240, due=MONDAY), visit(2, east(20), minutes=240, due=TUESDAY + timedelta(7))))
    found = stops(solve(problem))
    assert found[1][1] == MONDAY
    assert solve(problem).late == 0


def test_a_two_technician_visit_has_two_technicians_at_the_same_time():
    problem = Problem((MONDAY,), (tech(1), tech(2), tech(3, start=east(200), end=east(200))),
                      (visit(1, east(15), minutes=60, technicians_needed=2),))
    plan = solve(problem)
    at = [(r.technician, r.day, s.start) for r in plan.routes for s in r.stops if s.order_id == 1]
    assert len(at) == 2 and at[0][0] != at[1][0] and at[0][1:] == at[1][1:]


def test_a_two_technician_visit_with_one_technician_is_reported():
    plan = solve(Problem((MONDAY,), (tech(1),), (visit(1, east(5), technicians_needed=2),)))
    assert [(u.order_id, u.reason) for u in plan.unplanned] == [(1, solver.NO_PAIR)]


def test_lunch_is_taken_within_its_window_on_a_day_with_visits():
    problem = Problem((MONDAY,), (tech(),), tuple(visit(i, east(3 * i), minutes=60) for i in range(1, 6)))
    route = next(r for r in solve(problem).routes if r.stops)
    assert route.lunch is not None and 11 * 60 + 30 <= route.lunch[0] <= 13 * 60
    for s in route.stops:  # no visit overlaps lunch
        assert s.end <= route.lunch[0] or s.start >= route.lunch[1]


def generated(seed: int, visits: int = 60, technicians: int = 4, days: int = 2) -> Problem:
    rng = random.Random(seed)
    period = tuple(MONDAY + timedelta(d) for d in range(days))
    people = []
    for t in range(technicians):
        home = (63.6 + rng.random() * 0.4, 19.6 + rng.random() * 0.8)
        people.append(Technician(t + 1, f"T{t}", home, home, tuple(shift(d) for d in period if rng.random() > 0.2),
                                 skills=frozenset({9}) if t % 2 else frozenset(),
                                 max_drive_km=rng.choice([None, 120])))
    out = []
    for i in range(visits):
        start = rng.choice([None, None, 8 * 60, 10 * 60, 13 * 60])
        out.append(Visit(100 + i, (63.6 + rng.random() * 0.4, 19.6 + rng.random() * 0.8), rng.choice([20, 30, 60]),
                         9 if i % 7 == 0 else 1, restricted=i % 7 == 0, due=MONDAY + timedelta(rng.randint(-2, 5)),
                         window=(start, start + 120) if start else None,
                         technician=rng.choice([None] * 9 + [2]), priority=rng.randint(1, 4),
                         locked=(1, MONDAY, 9 * 60) if i == 3 and people[0].shifts and people[0].shifts[0].day == MONDAY
                         else None))
    return Problem(period, tuple(people), tuple(out))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_every_plan_of_a_generated_instance_keeps_the_rules(seed):
    problem = generated(seed)
    plan = solve(problem, seconds=1.0)
    visits = {v.order_id: v for v in problem.visits}
    people = {t.id: t for t in problem.technicians}
    seen = [s.order_id for r in plan.routes for s in r.stops]
    assert len(seen) == len(set(seen)), "a visit planned twice"
    assert set(seen) | {u.order_id for u in plan.unplanned} == set(visits), "a visit lost"
    assert not set(seen) & {u.order_id for u in plan.unplanned}
    for r in plan.routes:
        person = people[r.technician]
        hours = next(s for s in person.shifts if s.day == r.day)
        if person.max_drive_km is not None:
            assert r.km <= person.max_drive_km + 0.01
        last_end = r.start
        for s in r.stops:
            v = visits[s.order_id]
            assert hours.start <= s.start and s.end <= hours.end
            assert s.start >= last_end and s.end == s.start + v.minutes
            last_end = s.end
            if v.window and not v.locked:  # a confirmed time stands for the window
                assert v.window[0] <= s.start <= v.window[1]
            if v.restricted:
                assert v.category in person.skills
            if v.technician is not None and not v.locked:
                assert r.technician == v.technician
            if v.locked:
                assert (r.technician, r.day, s.start) == v.locked
        assert r.end <= hours.end


def test_the_solver_drives_less_than_the_naive_plan_on_a_generated_week():
    problem = generated(7, visits=80, technicians=4, days=3)
    m = straight_line_matrix(solver.places_of(problem))
    best = solver.solve(problem, m, time_limit_s=2.0)
    naive = solver.naive_plan(problem, m)
    walked, _ = solver.walk_days(problem, solver.days_of(best), m)
    assert len(best.unplanned) <= len(naive.unplanned)
    assert walked.km / max(1, 80 - len(best.unplanned)) < naive.km / max(1, 80 - len(naive.unplanned))


def test_walking_a_plan_gives_its_figures_and_the_unplanned():
    problem = Problem((MONDAY,), (tech(),), (visit(1, east(10)), visit(2, east(20))))
    m = straight_line_matrix(solver.places_of(problem))
    plan, warnings = solver.walk_days(problem, {(1, MONDAY): [1]}, m)
    assert plan.km == pytest.approx(20 * solver_circuity(), rel=0.01)
    assert [u.order_id for u in plan.unplanned] == [2]
    assert warnings[(1, MONDAY)] == []


def test_a_window_outside_every_shift_is_reported_with_its_reason():
    plan = solve(Problem((MONDAY,), (tech(),), (visit(1, east(5), window=(18 * 60, 19 * 60)),)))
    assert [(u.order_id, u.reason) for u in plan.unplanned] == [(1, solver.WINDOW_OUTSIDE)]


def test_the_search_may_start_from_todays_plan_and_still_finds_the_shortest_day():
    problem = Problem((MONDAY,), (tech(),), (visit(1, east(10)), visit(2, east(20)), visit(3, east(30))))
    plan = solver.solve(problem, straight_line_matrix, time_limit_s=0.3, initial={(1, MONDAY): [3, 1, 2]})
    assert not plan.unplanned and plan.km == pytest.approx(60 * solver_circuity(), rel=0.01)
    # A starting plan the rules forbid (an unknown order, a day not worked) is no harm.
    plan = solver.solve(problem, straight_line_matrix, time_limit_s=0.3, initial={(1, TUESDAY): [1], (1, MONDAY): [9]})
    assert not plan.unplanned
