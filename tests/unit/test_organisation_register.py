"""The organisation register's field rules: work-order clocks and opening hours as an admin types them."""

from datetime import time

import pytest

from backend.organisations.service import RegisterError, read_clocks
from backend.organisations.hours import read_hours

DEFAULTS = {"repair_hmc": {"start": 3, "finish": 10}, "quick_service": {"finish": 3}, "maintenance": {}}


def typed(**fields: str) -> dict:
    entered: dict = {}
    for name, value in fields.items():
        order_type, key = name.rsplit("_", 1)
        entered.setdefault(order_type, {})[key] = value
    return entered


def test_empty_clock_fields_keep_the_defaults_and_typed_ones_override_them():
    assert read_clocks(typed(repair_hmc_start="", repair_hmc_finish=""), DEFAULTS) == {}
    assert read_clocks(typed(repair_hmc_start="2", repair_hmc_finish=" 6 ", maintenance_start="0"), DEFAULTS) == {
        "repair_hmc": {"start": 2, "finish": 6}, "maintenance": {"start": 0}}


@pytest.mark.parametrize("value", ["2.5", "2,5", "-1", "tre", "³", "1e2", "٣"])
def test_a_clock_is_a_whole_number_of_working_days(value):
    with pytest.raises(RegisterError) as refused:
        read_clocks(typed(repair_hmc_start=value), DEFAULTS)
    assert refused.value.errors == [("repair_hmc_start", "Ange ett helt antal arbetsdagar, till exempel 3.")]


def test_a_clock_is_at_most_60_working_days():
    assert read_clocks(typed(repair_hmc_finish="60"), DEFAULTS) == {"repair_hmc": {"finish": 60}}
    with pytest.raises(RegisterError) as refused:
        read_clocks(typed(repair_hmc_finish="61"), DEFAULTS)
    assert refused.value.for_field("repair_hmc_finish") == "Ange mellan 0 och 60 arbetsdagar."


def test_finish_before_start_is_refused_counting_the_default_that_applies():
    # Finish 2 against the default start of 3.
    with pytest.raises(RegisterError) as refused:
        read_clocks(typed(repair_hmc_finish="2"), DEFAULTS)
    assert refused.value.for_field("repair_hmc_finish") == "Klar inom kan inte vara färre dagar än påbörjad inom (3 arbetsdagar)."
    # A start after the default finish of quick service (3).
    with pytest.raises(RegisterError):
        read_clocks(typed(quick_service_start="4"), DEFAULTS)
    assert read_clocks(typed(repair_hmc_start="2", repair_hmc_finish="2"), DEFAULTS) == {
        "repair_hmc": {"start": 2, "finish": 2}}


def test_every_wrong_clock_is_named_at_once():
    with pytest.raises(RegisterError) as refused:
        read_clocks(typed(repair_hmc_start="x", quick_service_finish="99"), DEFAULTS)
    assert [field for field, _ in refused.value.errors] == ["repair_hmc_start", "quick_service_finish"]


WEEK = {day: {"opens": "08:00", "closes": "16:30"} if day <= 5 else {"opens": "", "closes": ""} for day in range(1, 8)}


def test_opening_hours_are_read_per_weekday_and_empty_means_closed():
    week = read_hours({**WEEK, 3: {"opens": "9.15", "closes": "12:00"}})
    assert week[1] == (time(8), time(16, 30)) and week[3] == (time(9, 15), time(12)) and week[7] == (None, None)


@pytest.mark.parametrize("day, field", [
    ({"opens": "08:00", "closes": ""}, "hours_2_closes"),
    ({"opens": "", "closes": "16:00"}, "hours_2_opens"),
    ({"opens": "16:00", "closes": "08:00"}, "hours_2_closes"),
    ({"opens": "25:00", "closes": "26:00"}, "hours_2_opens"),
])
def test_a_weekday_needs_both_times_in_order(day, field):
    with pytest.raises(RegisterError) as refused:
        read_hours({**WEEK, 2: day})
    assert field in [f for f, _ in refused.value.errors]


def test_the_hmc_is_open_at_least_one_day_a_week():
    with pytest.raises(RegisterError) as refused:
        read_hours({day: {"opens": "", "closes": ""} for day in range(1, 8)})
    assert refused.value.field == "hours_1_opens"
