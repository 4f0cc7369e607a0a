"""The rules of an export's cells: whether an order kept its service level, how overdue an FU is,
and how a value is written for Excel with Swedish settings (and never as a formula)."""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime, timezone
from decimal import Decimal

import openpyxl

from backend.reports.exports import overdue_days, sla_met
from backend.reports.sheets import Column, XlsxSheet, csv_cell

MON, TUE, WED, THU = date(2026, 3, 2), date(2026, 3, 3), date(2026, 3, 4), date(2026, 3, 5)


def test_a_completed_order_met_its_service_level_only_if_it_started_and_finished_in_time():
    assert sla_met("completed", TUE, WED, MON, WED, THU) is True
    assert sla_met("completed", MON, WED, TUE, WED, THU) is False  # started a day late
    assert sla_met("completed", None, TUE, MON, WED, THU) is False  # finished a day late
    assert sla_met("completed", TUE, None, None, TUE, THU) is True  # done at once: started that day


def test_an_open_order_has_missed_its_service_level_once_a_due_date_has_passed_and_is_undecided_before():
    assert sla_met("planned", TUE, THU, None, None, WED) is False  # not started by Tuesday
    assert sla_met("in_progress", TUE, THU, TUE, None, WED) is None  # started in time, may still finish
    assert sla_met("not_completed", None, TUE, MON, None, WED) is False
    assert sla_met("new", WED, THU, None, None, WED) is None  # due today is still in time


def test_orders_without_clocks_and_cancelled_orders_have_no_service_level_to_meet():
    assert sla_met("completed", None, None, MON, TUE, THU) is None
    assert sla_met("cancelled", MON, MON, None, None, THU) is None


def test_an_fu_is_overdue_by_the_days_since_it_was_due():
    assert overdue_days(MON, THU) == 3
    assert overdue_days(THU, MON) == 0
    assert overdue_days(None, MON) is None


def test_csv_cells_are_written_as_excel_reads_them_in_swedish():
    assert csv_cell(Decimal("24.50")) == "24,50" and csv_cell(1.5) == "1,5" and csv_cell(45) == "45"
    assert csv_cell(MON) == "2026-03-02" and csv_cell(None) == ""
    assert csv_cell(True) == "Ja" and csv_cell(False) == "Nej"
    # Stored in UTC, written as the time in Stockholm (CET in March).
    assert csv_cell(datetime(2026, 3, 2, 7, 30, tzinfo=timezone.utc)) == "2026-03-02 08:30"


def test_text_that_looks_like_a_formula_stays_text():
    for text in ("=HYPERLINK(\"http://x\")", "+46 70 123", "-1", "@SUM(A1)"):
        assert csv_cell(text) == "'" + text
    assert csv_cell("Anna-Lena") == "Anna-Lena"
    content = io.BytesIO()
    sheet = XlsxSheet(content, [Column("Text"), Column("Datum")], "Blad")
    sheet.write([["=1+1", datetime(2026, 3, 2, 7, 30, tzinfo=timezone.utc)], ["bell\x07", MON]])
    sheet.close()
    rows = list(openpyxl.load_workbook(io.BytesIO(content.getvalue())).active.iter_rows(values_only=True))
    assert rows == [("Text", "Datum"), ("=1+1", datetime(2026, 3, 2, 8, 30)), ("bell", datetime(2026, 3, 2))]
    with zipfile.ZipFile(io.BytesIO(content.getvalue())) as book:
        assert "<f>" not in book.read("xl/worksheets/sheet1.xml").decode()  # no formula anywhere
