"""Service-level clocks: due dates at receipt and the state shown to people."""

from datetime import date

from backend.workorders.service import clocks_for, due_dates, repair_within_kpi, sla_state


def test_default_repair_clock_is_start_3_finish_10_working_days():
    due = due_dates("repair_on_site", date(2026, 4, 2), clocks_for({}))
    assert due.start == date(2026, 4, 9)  # Easter in between
    assert due.finish == date(2026, 4, 20)  # 7-10, 13-17, 20 April


def test_an_organisation_can_override_a_clock():
    clocks = clocks_for({"repair_on_site": {"finish": 5}})
    due = due_dates("repair_on_site", date(2026, 11, 23), clocks)
    assert due.start == date(2026, 11, 26)
    assert due.finish == date(2026, 11, 30)
    # other types keep their defaults
    assert due_dates("repair_hmc", date(2026, 11, 23), clocks).finish == date(2026, 12, 7)


def test_maintenance_has_no_receipt_clock():
    due = due_dates("maintenance", date(2026, 11, 23), clocks_for(None))
    assert due.start is None and due.finish is None


def test_sla_state_uses_start_due_until_started_then_finish_due():
    today = date(2026, 11, 23)
    assert sla_state("planned", today, date(2026, 12, 1), started=False, today=today) == "due_today"
    assert sla_state("planned", date(2026, 11, 20), date(2026, 12, 1), started=False, today=today) == "overdue"
    assert sla_state("in_progress", date(2026, 11, 20), date(2026, 12, 1), started=True, today=today) == "on_time"
    assert sla_state("completed", date(2026, 11, 1), date(2026, 11, 2), started=True, today=today) == "closed"
    assert sla_state("new", None, None, started=False, today=today) == "on_time"


def test_repair_kpi_counts_working_days():
    assert repair_within_kpi(date(2026, 12, 23), date(2027, 1, 5))  # 5 working days over Christmas
    assert not repair_within_kpi(date(2026, 12, 23), date(2027, 1, 7))
