"""When FU falls due: the rules of backend/maintenance/due.py (and the day generation suggests),
checked against hand-worked Swedish calendar examples."""

from datetime import date, timedelta

import pytest

from backend.maintenance import due, generation
from backend.maintenance.due import DueFilter
from backend.workdays import SWEDISH, Calendar


@pytest.mark.parametrize(
    "last, interval, expected",
    [
        (date(2025, 12, 27), 365, date(2026, 12, 23)),  # 27 Dec is a Sunday; 24-26 Dec: julafton, jul, annandag
        (date(2025, 6, 21), 365, date(2026, 6, 18)),  # 21 June a Sunday, 19 June midsommarafton
        (date(2025, 4, 6), 365, date(2026, 4, 2)),  # annandag påsk, långfredagen before it
        (date(2025, 5, 14), 365, date(2026, 5, 13)),  # Kristi himmelsfärdsdag
        (date(2025, 11, 15), 47, date(2025, 12, 30)),  # nyårsdagen, and nyårsafton before it
        (date(2026, 1, 5), 1, date(2026, 1, 5)),  # trettondedag jul: the day before
        (date(2025, 1, 31), 365, date(2026, 1, 30)),  # a month's end on a Saturday: the Friday
        (date(2026, 2, 28), 365, date(2027, 2, 26)),  # 28 Feb 2027 is a Sunday
        (date(2027, 2, 28), 366, date(2028, 2, 29)),  # a leap day that is a Tuesday stays
        (date(2026, 3, 2), 182, date(2026, 8, 31)),  # half-yearly: a Monday stays
    ],
)
def test_fu_falls_due_one_interval_after_on_the_last_working_day_on_or_before(last, interval, expected):
    assert due.due_date(last, None, date(2020, 1, 1), interval) == expected
    assert SWEDISH.is_working_day(expected)


def test_never_done_counts_from_the_loan_then_from_the_day_in_service():
    in_service, lent = date(2024, 3, 4), date(2025, 3, 3)
    assert due.due_date(None, lent, in_service, 365) == date(2026, 3, 3)
    assert due.due_date(None, None, in_service, 365) == date(2025, 3, 4)
    assert due.due_date(date(2025, 9, 1), lent, in_service, 365) == date(2026, 9, 1)


def test_the_yearly_fu_also_takes_the_devices_last_fu_date_whichever_is_later():
    assert due.last_done("fu", date(2026, 1, 5), date(2026, 2, 1)) == date(2026, 2, 1)
    assert due.last_done("fu", date(2026, 3, 5), date(2026, 2, 1)) == date(2026, 3, 5)
    assert due.last_done("fu", None, date(2026, 2, 1)) == date(2026, 2, 1)
    assert due.last_done("fu", None, None) is None


def test_another_schedule_on_the_same_device_counts_only_its_own_orders():
    # A half-yearly sling check beside the yearly service: last_fu_date is the service's.
    assert due.last_done("sling", date(2026, 1, 5), date(2026, 2, 1)) == date(2026, 1, 5)
    assert due.last_done("sling", None, date(2026, 2, 1)) is None
    service = due.due_date(due.last_done("fu", None, date(2026, 2, 2)), None, date(2024, 1, 1), 365)
    sling = due.due_date(due.last_done("sling", date(2026, 1, 5), date(2026, 2, 2)), None, date(2024, 1, 1), 182)
    assert (service, sling) == (date(2027, 2, 2), date(2026, 7, 6))


def test_a_devices_own_interval_moves_the_date():
    # An override is just another interval for the same last date (devices.schedules decides which).
    assert due.due_date(date(2026, 1, 7), None, date(2024, 1, 1), 365) == date(2027, 1, 7)
    assert due.due_date(date(2026, 1, 7), None, date(2024, 1, 1), 180) == date(2026, 7, 6)  # 6 July, a Monday


def test_the_organisations_closed_days_move_the_date_too():
    closed = Calendar(closed=frozenset({date(2026, 8, 31), date(2026, 8, 28)}))
    assert due.due_date(date(2026, 3, 2), None, date(2024, 1, 1), 182, closed) == date(2026, 8, 27)


def test_the_sql_moves_a_date_as_the_rule_does_every_day_of_the_years_around():
    calendar = Calendar(closed=frozenset({date(2026, 8, 31)}))
    days, before = due.shifted_days(calendar, date(2026, 6, 1))
    moved = dict(zip(days, before))
    day = date(2025, 1, 1)
    while day < date(2028, 1, 1):
        assert moved.get(day, day) == due.on_or_before(day, calendar), day
        day += timedelta(days=1)


@pytest.mark.parametrize(
    "before_new_user, done, returned, expected",
    [
        (True, None, None, True),  # never lent, never checked: before its first user
        (True, None, date(2026, 5, 4), True),
        (True, date(2026, 5, 1), date(2026, 5, 4), True),  # checked during the last loan: again
        (True, date(2026, 5, 4), date(2026, 5, 4), False),  # checked the day it came back
        (True, date(2026, 6, 1), date(2026, 5, 4), False),
        (True, date(2025, 1, 1), None, False),  # never lent, checked once
        (False, None, date(2026, 5, 4), False),  # a schedule not "before each new user"
    ],
)
def test_a_device_in_the_depot_needs_the_check_before_its_next_user(before_new_user, done, returned, expected):
    assert due.due_before_new_user(before_new_user, done, returned) is expected


@pytest.mark.parametrize(
    "status, holder, expected",
    [("in_use", 7, "calendar"), ("in_depot", None, "new_user"), ("reconditioning", None, "new_user"),
     ("condemned", None, None), ("out_of_use", 7, None), ("in_repair", 7, None)],
)
def test_which_list_a_device_is_on(status, holder, expected):
    assert due.kind_of(status, holder) == expected


def test_the_backlog_is_counted_at_the_end_of_each_of_the_last_twelve_months():
    ends = due.month_ends(date(2026, 3, 15))
    assert ends[0] == date(2025, 3, 31) and ends[-1] == date(2026, 2, 28) and len(ends) == 12
    assert date(2026, 3, 31) not in ends and date(2024, 2, 29) in due.month_ends(date(2024, 3, 10))


@pytest.mark.parametrize(
    "today, horizon, expected_end",
    [
        (date(2026, 11, 30), "manad", date(2026, 11, 30)),
        (date(2026, 2, 3), "manad", date(2026, 2, 28)),
        (date(2026, 11, 30), "3-manader", date(2027, 2, 28)),
        (date(2026, 1, 31), "3-manader", date(2026, 4, 30)),
    ],
)
def test_the_lists_horizon(today, horizon, expected_end):
    assert DueFilter(horizon=horizon).window(today) == (today, expected_end)


def test_a_period_without_both_dates_falls_back_to_this_month():
    assert DueFilter(horizon="period", since=date(2026, 1, 1)).window(date(2026, 2, 3)) == (
        date(2026, 2, 3), date(2026, 2, 28))
    assert DueFilter(horizon="period", since=date(2026, 1, 1), until=date(2026, 1, 31)).window(
        date(2026, 2, 3)) == (date(2026, 1, 1), date(2026, 1, 31))


def test_a_hand_edited_filter_names_no_choice():
    cleaned = DueFilter(view="x", horizon="y", status="z", search=" a 12 ").cleaned()
    assert (cleaned.view, cleaned.horizon, cleaned.status, cleaned.search) == ("kalender", "manad", None, "A12")


def test_the_proposal_is_next_month():
    assert generation.proposal(date(2026, 11, 30)) == generation.Period(date(2026, 12, 1), date(2026, 12, 31))
    assert generation.proposal(date(2026, 12, 31)) == generation.Period(date(2027, 1, 1), date(2027, 1, 31))
    assert generation.proposal(date(2027, 1, 15)) == generation.Period(date(2027, 2, 1), date(2027, 2, 28))


class TestTheSuggestedVisitDay:
    today = date(2026, 11, 30)  # a Monday
    plan = generation.plan_for(SWEDISH, today, date(2027, 6, 30), {})

    def test_the_patient_can_always_be_told_two_weeks_ahead(self):
        first = date(2026, 12, 15)  # 15 days on: a Tuesday
        assert due.on_or_after(self.today + timedelta(days=15)) == first
        for device in range(10):
            assert generation.suggested_day(self.plan, date(2026, 12, 2), device) == first  # due too soon
            assert generation.suggested_day(self.plan, date(2026, 11, 2), device) == first  # overdue

    def test_a_days_due_visits_spread_over_the_working_week_up_to_it(self):
        due_on = date(2027, 3, 19)  # a Friday
        days = {generation.suggested_day(self.plan, due_on, device) for device in range(10)}
        assert days == {date(2027, 3, 15), date(2027, 3, 16), date(2027, 3, 17), date(2027, 3, 18), due_on}

    def test_the_spread_skips_holidays(self):
        days = {generation.suggested_day(self.plan, date(2027, 1, 8), device) for device in range(5)}
        # Trettondedag jul, the weekend, nyårsdagen and nyårsafton are skipped.
        assert days == {date(2027, 1, 8), date(2027, 1, 7), date(2027, 1, 5), date(2027, 1, 4), date(2026, 12, 30)}
