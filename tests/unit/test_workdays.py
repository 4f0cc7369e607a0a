"""Swedish working days, checked against hand-worked calendar examples."""

from datetime import date

import pytest

from backend.workdays import add_working_days, is_working_day, working_days_between


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
