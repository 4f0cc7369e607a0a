"""Swedish working days, checked against hand-worked calendar examples."""

from datetime import date, timedelta

import pytest

from backend.workdays import SWEDISH, Calendar, add_working_days, is_working_day, working_days_between


@pytest.mark.parametrize(
    "day, expected",
    [
        (date(2026, 4, 3), False),  # långfredagen
        (date(2026, 4, 6), False),  # annandag påsk
        (date(2026, 5, 14), False),  # Kristi himmelsfärdsdag
        (date(2026, 5, 15), True),  # klämdag is still a working day
        (date(2026, 6, 19), False),  # midsommarafton (de facto holiday)
        (date(2026, 12, 24), False),  # julafton (de facto holiday)
        (date(2026, 12, 31), False),  # nyårsafton
        (date(2027, 1, 6), False),  # trettondedag jul
        (date(2026, 11, 21), False),  # a Saturday
        (date(2026, 11, 23), True),  # an ordinary Monday
    ],
)
def test_swedish_holidays_and_weekends_are_not_working_days(day, expected):
    assert is_working_day(day) is expected


@pytest.mark.parametrize(
    "start, days, expected",
    [
        (date(2026, 4, 2), 3, date(2026, 4, 9)),  # over Easter: 7, 8, 9 April
        (date(2026, 5, 13), 1, date(2026, 5, 15)),  # over Ascension Day
        (date(2026, 5, 13), 2, date(2026, 5, 18)),
        (date(2026, 6, 18), 1, date(2026, 6, 22)),  # over Midsummer
        (date(2026, 12, 23), 1, date(2026, 12, 28)),  # over Christmas
        (date(2026, 12, 23), 5, date(2027, 1, 5)),  # 28, 29, 30 Dec, 4, 5 Jan
        (date(2026, 12, 23), 6, date(2027, 1, 7)),  # 6 Jan is a holiday
        (date(2026, 11, 20), 1, date(2026, 11, 23)),  # Friday to Monday
        (date(2026, 11, 21), 0, date(2026, 11, 23)),  # zero days from a Saturday: next working day
    ],
)
def test_adding_working_days(start, days, expected):
    assert add_working_days(start, days) == expected


def test_working_days_between_counts_days_after_the_start():
    assert working_days_between(date(2026, 11, 20), date(2026, 11, 23)) == 1
    assert working_days_between(date(2026, 12, 23), date(2027, 1, 7)) == 6
    assert working_days_between(date(2026, 4, 2), date(2026, 4, 9)) == 3
    assert working_days_between(date(2026, 4, 9), date(2026, 4, 2)) == 0


def test_adding_then_counting_round_trips():
    start = date(2026, 1, 2)  # a working day
    for days in range(0, 40):
        end = add_working_days(start, days)
        assert working_days_between(start, end) == days


# --- an organisation's own calendar: closed days, extra open days, open weekdays ---------------


def test_a_closed_day_is_not_a_working_day_and_moves_a_clock_by_one_day():
    closed = Calendar(closed=frozenset({date(2026, 11, 24)}))
    assert not closed.is_working_day(date(2026, 11, 24))
    assert add_working_days(date(2026, 11, 23), 3) == date(2026, 11, 26)
    assert add_working_days(date(2026, 11, 23), 3, closed) == date(2026, 11, 27)
    assert working_days_between(date(2026, 11, 23), date(2026, 11, 27), closed) == 3


def test_an_extra_open_day_counts_even_on_a_saturday_or_a_holiday():
    extra = Calendar(extra_open=frozenset({date(2026, 11, 21), date(2026, 12, 24)}))
    assert is_working_day(date(2026, 11, 21), extra) and is_working_day(date(2026, 12, 24), extra)
    assert add_working_days(date(2026, 11, 20), 1, extra) == date(2026, 11, 21)
    assert working_days_between(date(2026, 11, 20), date(2026, 11, 23), extra) == 2


def test_a_weekday_the_hmc_keeps_closed_is_not_a_working_day():
    four_days = Calendar(open_weekdays=frozenset({0, 1, 2, 3}))  # closed on Fridays
    assert not four_days.is_working_day(date(2026, 11, 27))
    assert add_working_days(date(2026, 11, 26), 1, four_days) == date(2026, 11, 30)
    assert not four_days.is_working_day(date(2026, 12, 24))  # still Swedish holidays


def test_the_default_calendar_is_the_swedish_one():
    assert SWEDISH == Calendar()
    for offset in range(400):
        day = date(2026, 1, 1) + timedelta(days=offset)
        assert SWEDISH.is_working_day(day) == is_working_day(day)


def test_a_calendar_without_an_open_weekday_is_refused():
    with pytest.raises(ValueError):
        Calendar(open_weekdays=frozenset())
