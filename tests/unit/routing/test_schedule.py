"""walk_day: one technician's ordered day as times, km and warnings in words."""

from datetime import date

import pytest

from backend.routing import schedule
from backend.routing.distances import Matrix, straight_line_matrix
from backend.routing.model import Shift, Technician, Visit
from backend.routing.schedule import day_places, walk_day

DAY = date(2026, 12, 7)  # a Monday
HOME = (59.6162, 16.4981)


def line(*legs_minutes: float) -> Matrix:
    """A matrix along a line: place i to j takes the sum of the legs between, 1 km a minute."""
    n = len(legs_minutes) + 1
    at = [0.0]
    for m in legs_minutes:
        at.append(at[-1] + m)
    rows = tuple(tuple(abs(at[i] - at[j]) for j in range(n)) for i in range(n))
    return Matrix(tuple((0.0, float(i)) for i in range(n)), rows, rows)


def tech(**kw) -> Technician:
    return Technician(kw.pop("id", 1), kw.pop("name", "Anna"), HOME, HOME, (), **kw)


def shift(start=8 * 60, end=16 * 60, lunch=(11 * 60 + 30, 13 * 60, 30)) -> Shift:
    return Shift(DAY, start, end, lunch[0], lunch[1], lunch[2]) if lunch else Shift(DAY, start, end)


def visit(order_id, minutes=30, **kw) -> Visit:
    return Visit(order_id=order_id, place=(0.0, 0.0), minutes=minutes, category=kw.pop("category", 1), **kw)


def test_a_day_drives_works_and_drives_home_in_the_order_given():
    # start -10-> A (30) -20-> B (60) -30-> home, no lunch in the way (done by 10:30)
    route, warnings = walk_day(tech(), shift(lunch=None), [visit(1), visit(2, 60)], line(10, 20, 30))
    assert [(s.arrival, s.start, s.end) for s in route.stops] == [(490, 490, 520), (540, 540, 600)]
    assert [s.km_from_previous for s in route.stops] == [10, 20]
    assert route.km == 60 and route.start == 480 and route.end == 630
    assert warnings == []


def test_it_waits_for_the_window_and_warns_when_the_window_is_missed():
    visits = [visit(1, 120), visit(2, window=(9 * 60, 10 * 60))]
    route, warnings = walk_day(tech(), shift(lunch=None), visits, line(10, 10, 10))
    assert route.stops[1].arrival == 480 + 10 + 120 + 10  # 10:20, after the window closes
    assert [w.kind for w in warnings] == [schedule.WINDOW_MISSED]
    assert "Besök 2: missar tiden 09:00–10:00" in warnings[0] and warnings[0].order_id == 2
    # The first visit of the day: leave just in time for its window instead of waiting at the door.
    early, _ = walk_day(tech(), shift(lunch=None), [visit(3, window=(10 * 60, 11 * 60))], line(10, 10))
    assert early.start == 590 and early.stops[0].arrival == early.stops[0].start == 600
    # A later visit waits for its window.
    later, _ = walk_day(tech(), shift(lunch=None), [visit(4), visit(5, window=(10 * 60, 11 * 60))], line(10, 10, 10))
    assert later.start == 480 and later.stops[1].arrival == 530 and later.stops[1].start == 600


def test_driving_that_cannot_fit_between_two_windows_is_said_so():
    visits = [visit(1, 60, window=(8 * 60, 8 * 60 + 30)), visit(2, 30, window=(9 * 60, 9 * 60 + 15))]
    _, warnings = walk_day(tech(), shift(lunch=None), visits, line(0, 40, 0))
    assert [w.kind for w in warnings] == [schedule.DRIVE_BETWEEN_WINDOWS]
    assert "körningen från föregående besök (40 km" in warnings[0]


def test_windows_that_no_order_can_meet_are_overlapping():
    a = visit(1, 90, window=(9 * 60, 10 * 60))
    b = visit(2, 90, window=(9 * 60, 10 * 60))
    _, warnings = walk_day(tech(), shift(lunch=None), [a, b], line(0, 5, 0))
    assert schedule.WINDOWS_OVERLAP in [w.kind for w in warnings]
    # Short visits in the same overlapping windows fit one after the other: no overlap warning.
    c, d = visit(3, 20, window=(9 * 60, 10 * 60)), visit(4, 20, window=(9 * 60, 10 * 60))
    _, fine = walk_day(tech(), shift(lunch=None), [c, d], line(0, 5, 0))
    assert fine == []


def test_lunch_is_taken_while_waiting_for_an_afternoon_window():
    visits = [visit(1, 180), visit(2, window=(13 * 60, 14 * 60))]
    route, warnings = walk_day(tech(), shift(), visits, line(10, 10, 10))
    assert route.lunch == (11 * 60 + 30, 12 * 60)  # done 11:10, lunch from 11:30 while waiting
    assert route.stops[1].start == 13 * 60 and warnings == []


def test_lunch_comes_before_a_visit_that_would_run_past_the_lunch_window():
    visits = [visit(1, 220), visit(2, 90)]  # done 11:50; the next would run 12:00-13:30
    route, warnings = walk_day(tech(), shift(), visits, line(10, 10, 10))
    assert route.lunch == (11 * 60 + 50, 12 * 60 + 20)
    assert route.stops[1].arrival == 12 * 60 + 30 and warnings == []


def test_a_day_longer_than_the_hours_and_over_the_driving_limit_is_warned():
    route, warnings = walk_day(tech(max_drive_km=100), shift(end=10 * 60, lunch=None), [visit(1, 60)], line(80, 80))
    assert route.end == 480 + 80 + 60 + 80
    assert {w.kind for w in warnings} == {schedule.LONG_DAY, schedule.DRIVE_LIMIT}
    assert any("160 km" in w and "100 km" in w for w in warnings)


def test_skill_missing_another_technician_late_and_locks_on_another_day():
    visits = [visit(1, category=7, restricted=True), visit(2, technician=9), visit(3, due=date(2026, 12, 4)),
              visit(4, locked=(1, date(2026, 12, 8), 600))]
    route, warnings = walk_day(tech(skills=frozenset({8})), shift(lunch=None), visits, line(1, 1, 1, 1, 1))
    kinds = {(w.kind, w.order_id) for w in warnings}
    # A visit after its due date is marked late on its stop (the plan's figures count it), not
    # warned: it is planned as soon as it can be.
    assert kinds == {(schedule.SKILL_MISSING, 1), (schedule.OTHER_TECHNICIAN, 2), (schedule.LOCK_MISSED, 4)}
    assert [s.late for s in route.stops] == [False, False, True, False]
    ok, none = walk_day(tech(skills=frozenset({7})), shift(lunch=None), visits[:1], line(1, 1))
    assert none == []


def test_a_locked_time_is_waited_for_and_missing_it_is_warned():
    locked = visit(1, locked=(1, DAY, 9 * 60))
    route, warnings = walk_day(tech(), shift(lunch=None), [locked], line(10, 10))
    assert route.stops[0].start == 9 * 60 and route.start == 9 * 60 - 10 and warnings == []
    _, late = walk_day(tech(), shift(lunch=None), [visit(2, 120), locked], line(10, 10, 10))
    assert [w.kind for w in late] == [schedule.LOCK_MISSED]


def test_an_empty_day_and_indices_into_a_bigger_matrix():
    route, warnings = walk_day(tech(), shift(), [], line(5))
    assert route.stops == [] and route.km == 0 and warnings == []
    # A matrix over five places; the day is start=4, visit at 2, end=4.
    big = line(10, 10, 10, 10)
    route, _ = walk_day(tech(), shift(lunch=None), [visit(1)], big, indices=[4, 2, 4])
    assert route.km == 40 and route.stops[0].km_from_previous == 20
    with pytest.raises(ValueError):
        walk_day(tech(), shift(), [visit(1)], big, indices=[0, 1])


def test_day_places_and_the_straight_line_model_agree_on_the_layout():
    t = Technician(1, "Anna", HOME, (59.3, 18.0), ())
    v = Visit(order_id=5, place=(59.9, 16.6), minutes=30, category=1)
    places = day_places(t, [v])
    assert places == [HOME, (59.9, 16.6), (59.3, 18.0)]
    route, _ = walk_day(t, shift(lunch=None), [v], straight_line_matrix(places))
    m = straight_line_matrix(places)
    assert route.km == round(m.km[0][1] + m.km[1][2], 1)


def test_lunch_that_cannot_start_in_its_window_is_warned():
    # 08:00-13:40 on one visit (from 08:10, 330 min): lunch comes after it, too late.
    route, warnings = walk_day(tech(), shift(), [visit(1, 330)], line(10, 10))
    assert route.lunch == (13 * 60 + 40, 14 * 60 + 10)
    assert [w.kind for w in warnings] == [schedule.LUNCH]
    assert "Lunchen hinns inte mellan 11:30 och 13:00" in warnings[0]


def test_a_day_done_before_lunch_eats_it_at_the_end_place_outside_the_route():
    route, warnings = walk_day(tech(), shift(), [visit(1, 60)], line(10, 10))
    assert route.lunch is None and route.end == 480 + 10 + 60 + 10 and warnings == []
