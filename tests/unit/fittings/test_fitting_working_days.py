"""Working-day counts behind the fitting service level, worked out by hand on a 2026 calendar."""

from datetime import date

import pytest

from backend.fittings.availability import is_public_holiday
from backend.workdays import add_working_days, working_days_between


@pytest.mark.parametrize(
    ("referral", "booked", "expected", "worked_out"),
    [
        # Easter: Långfredag 3 April and Annandag påsk 6 April close.
        (date(2026, 4, 2), date(2026, 4, 7), 1, "Fri 3 holiday, Sat, Sun, Mon 6 holiday; Tue 7 is day 1"),
        (date(2026, 4, 2), date(2026, 4, 23), 13, "7–10 (4), 13–17 (9), 20–23 (13)"),
        # Ascension Day (Kristi himmelsfärd) Thu 14 May; 1 May is a Friday.
        (date(2026, 4, 29), date(2026, 5, 15), 10, "30 Apr (1), 4–8 May (6), 11–13 (9), 15 (10)"),
        # Midsummer: midsommarafton Fri 19 June is not a working day.
        (date(2026, 6, 15), date(2026, 6, 22), 4, "16–18 (3), 19 closed, 22 (4)"),
        # Christmas and New Year: 24, 25, 31 Dec, 1 and 6 Jan close.
        (date(2026, 12, 21), date(2027, 1, 8), 9, "22–23 (2), 28–30 (5), 4–5 Jan (7), 7–8 (9)"),
    ],
)
def test_working_days_from_referral_match_the_hand_worked_count(referral, booked, expected, worked_out):
    assert working_days_between(referral, booked) == expected, worked_out


@pytest.mark.parametrize(
    ("referral", "fifteenth"),
    [
        (date(2026, 4, 2), date(2026, 4, 27)),  # across Easter
        (date(2026, 5, 6), date(2026, 5, 28)),  # across Ascension Day: 7,8,11,12,13,15,18–22,25–28
        (date(2026, 6, 10), date(2026, 7, 2)),  # across Midsummer: 11,12,15–18,22–26,29,30,1,2
        (date(2026, 12, 21), date(2027, 1, 18)),  # across Christmas and Epiphany
    ],
)
def test_the_fifteenth_working_day_after_a_referral(referral, fifteenth):
    assert add_working_days(referral, 15) == fifteenth
    assert working_days_between(referral, fifteenth) == 15


def test_public_holidays_close_but_plain_sundays_are_not_holidays():
    assert is_public_holiday(date(2026, 4, 5))  # påskdagen
    assert is_public_holiday(date(2026, 6, 6))  # nationaldagen, a Saturday
    assert is_public_holiday(date(2026, 6, 19))  # midsommarafton
    assert is_public_holiday(date(2026, 12, 24))  # julafton
    assert not is_public_holiday(date(2026, 3, 29))  # an ordinary Sunday
    assert not is_public_holiday(date(2026, 6, 13))  # an ordinary Saturday
