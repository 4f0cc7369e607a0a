"""Each indicator's rule, worked by hand on single orders: the repair clock across Easter and
Midsummer and from a Friday before a holiday, AU and FU against their due dates, the digital
channel, the cost of an order, cancelled orders counted by nothing, age bands and small cells."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from backend.reports import facts
from backend.reports.kpi import INDICATORS, age_band, suppressed, value_of
from backend.workdays import SWEDISH, Calendar

SINCE = date(2024, 1, 1)


def order(**changes) -> dict:
    row = dict(id=1, type="repair_on_site", status="completed", channel="phone", device=1, patient=7, assignee=3,
               start_due=None, finish_due=None, fu_due_date=None, received_on=date(2026, 3, 2),
               started_on=None, completed_on=None, cancelled_on=None, birth_year=1940, sex="F", cost_bearer=11,
               care_unit=12, category=13, minutes=0, parts_cost=Decimal(0))
    row.update(changes)
    return row


def hits(row: dict, indicator: str, *, calendar: Calendar = SWEDISH, rate: Decimal | None = None) -> list:
    return [f[4] for f in facts.order_facts(1, row, calendar, rate, SINCE) if f[1] == indicator]


def amounts(row: dict, indicator: str, rate: Decimal | None) -> list:
    return [f[5] for f in facts.order_facts(1, row, SWEDISH, rate, SINCE) if f[1] == indicator]


@pytest.mark.parametrize("received, completed, within", [
    # Easter 2026: Good Friday 3 April and Easter Monday 6 April are not working days.
    (date(2026, 4, 2), date(2026, 4, 13), True),  # 7, 8, 9, 10, 13: the fifth working day
    (date(2026, 4, 2), date(2026, 4, 14), False),
    # Midsummer 2026: midsommarafton, Friday 19 June, is not a working day.
    (date(2026, 6, 17), date(2026, 6, 25), True),  # 18, 22, 23, 24, 25
    (date(2026, 6, 17), date(2026, 6, 26), False),
    # Received on Friday 2 January 2026, before trettondedag jul (Tuesday 6 January).
    (date(2026, 1, 2), date(2026, 1, 12), True),  # 5, 7, 8, 9, 12
    (date(2026, 1, 2), date(2026, 1, 13), False),
])
def test_a_repair_counts_as_within_five_working_days_only_by_the_swedish_calendar(received, completed, within):
    assert hits(order(received_on=received, completed_on=completed), "reparation") == [within]


def test_a_repair_is_counted_in_the_month_it_was_completed():
    made = facts.order_facts(1, order(received_on=date(2026, 3, 30), completed_on=date(2026, 4, 2)), SWEDISH, None,
                             SINCE)
    assert [f[2] for f in made if f[1] == "reparation"] == [date(2026, 4, 1)]
    assert [f[2] for f in made if f[1] == "arbetsordrar"] == [date(2026, 3, 1)]


def test_the_organisations_own_closed_day_stops_the_repair_clock():
    closed = Calendar(closed=frozenset({date(2026, 3, 5)}))
    row = order(received_on=date(2026, 3, 2), completed_on=date(2026, 3, 9))  # 3, 4, 5, 6, 9
    assert hits(row, "reparation") == [True]
    assert hits(order(received_on=date(2026, 3, 2), completed_on=date(2026, 3, 10)), "reparation") == [False]
    assert hits(order(received_on=date(2026, 3, 2), completed_on=date(2026, 3, 10)), "reparation",
                calendar=closed) == [True]


def test_a_cancelled_order_is_counted_by_no_indicator():
    row = order(status="cancelled", channel="web", completed_on=None, cancelled_on=date(2026, 3, 3))
    assert facts.order_facts(1, row, SWEDISH, Decimal(600), SINCE) == []


def test_an_open_repair_counts_as_received_but_not_as_completed():
    row = order(status="in_progress", started_on=date(2026, 3, 3), start_due=date(2026, 3, 5))
    made = {f[1] for f in facts.order_facts(1, row, SWEDISH, None, SINCE)}
    assert made == {"arbetsordrar", "digital", "au_start"}


def test_au_start_and_finish_are_held_to_the_due_dates_the_order_got_at_receipt():
    row = order(type="repair_hmc", started_on=date(2026, 3, 5), start_due=date(2026, 3, 5),
                completed_on=date(2026, 3, 17), finish_due=date(2026, 3, 16))
    assert hits(row, "au_start") == [True]
    assert hits(row, "au_klar") == [False]
    # Quick service has no AU clocks: it counts for the repair KPI only.
    quick = order(type="quick_service", completed_on=date(2026, 3, 3), finish_due=date(2026, 3, 5))
    assert hits(quick, "au_klar") == [] and hits(quick, "reparation") == [True]


def test_fu_is_on_time_when_completed_by_the_day_it_fell_due():
    on_time = order(type="maintenance", channel="generated", fu_due_date=date(2026, 3, 20), completed_on=date(2026, 3, 20))
    late = order(type="maintenance", channel="generated", fu_due_date=date(2026, 3, 20), completed_on=date(2026, 3, 23))
    assert hits(on_time, "fu_i_tid") == [True] and hits(late, "fu_i_tid") == [False]
    assert hits(on_time, "digital") == []  # a generated FU is no fault report


def test_a_fault_report_from_the_web_counts_as_digital_and_one_by_phone_does_not():
    assert hits(order(channel="web", status="new"), "digital") == [True]
    assert hits(order(channel="phone", status="new"), "digital") == [False]


def test_the_cost_of_an_order_is_its_time_at_the_hourly_rate_plus_its_parts():
    row = order(completed_on=date(2026, 3, 4), minutes=90, parts_cost=Decimal("245.50"))
    assert amounts(row, "kostnad", Decimal("620")) == [Decimal("1175.50")]  # 1.5 h x 620 + 245.50
    assert amounts(row, "kostnad", None) == []  # no rate set: no cost, never a made-up one
    assert amounts(order(type="fitting", completed_on=date(2026, 3, 4), minutes=60), "kostnad", Decimal(600)) == []


def test_age_bands_are_counted_at_the_month_of_the_fact():
    assert [age_band(a) for a in (0, 17, 18, 64, 65, 79, 80, 103)] == \
        ["0-17", "0-17", "18-64", "18-64", "65-79", "65-79", "80+", "80+"]
    made = facts.order_facts(1, order(birth_year=1946, received_on=date(2026, 3, 2), status="new"), SWEDISH, None, SINCE)
    assert {f[12] for f in made} == {"80+"}  # 2026 - 1946 = 80


def test_fewer_than_five_patients_is_a_small_cell():
    assert [suppressed(n) for n in (0, 1, 4, 5, 12)] == [True, True, True, False, False]


def test_values_of_each_kind():
    assert value_of("share", 83, 100, None) == Decimal("0.83")
    assert value_of("share", 0, 0, None) is None
    assert value_of("mean", None, 4, Decimal("2724")) == Decimal("681.00")
    assert value_of("count", None, 12, None) == 12


def test_every_indicator_has_a_rule_and_a_unique_code():
    assert len({i.code for i in INDICATORS}) == len(INDICATORS)
    assert all(i.rule and i.name for i in INDICATORS)
    assert "Makulerade ordrar räknas inte" in next(i for i in INDICATORS if i.code == "reparation").rule


def test_a_fitting_is_within_when_a_time_was_offered_within_the_organisations_fitting_clock():
    def booking(offered: int, urgent: bool = False) -> dict:
        return dict(id=5, referral_date=date(2026, 4, 2), urgent=urgent, offered_working_days=offered, patient=7,
                    cost_bearer=11,
                    care_unit=12, product_area=4, consultant=9, birth_year=2015, sex="M")

    assert [f[4] for f in facts.booking_facts(1, booking(15), 15)] == [True]
    assert [f[4] for f in facts.booking_facts(1, booking(16), 15)] == [False]
    assert [f[4] for f in facts.booking_facts(1, booking(12), 10)] == [False]  # an organisation's own, shorter clock
    made = facts.booking_facts(1, booking(3), 15)[0]
    assert made[2] == date(2026, 4, 1) and made[12] == "0-17" and made[9] == 4


def test_an_urgent_referral_is_held_to_five_working_days_or_the_shorter_clock():
    def booking(offered: int, urgent: bool) -> dict:
        return dict(id=5, referral_date=date(2026, 4, 2), urgent=urgent, offered_working_days=offered, patient=7,
                    cost_bearer=11, care_unit=12, product_area=4, consultant=9, birth_year=1950, sex="F")

    assert [f[4] for f in facts.booking_facts(1, booking(5, True), 15)] == [True]
    assert [f[4] for f in facts.booking_facts(1, booking(6, True), 15)] == [False]  # within 15, not within 5
    assert [f[4] for f in facts.booking_facts(1, booking(6, False), 15)] == [True]
    assert [f[4] for f in facts.booking_facts(1, booking(4, True), 3)] == [False]  # the organisation's clock is shorter
