"""Writing a table to a file people open in Excel, a chunk of rows at a time, so that an export of
80,000 rows never holds them all: CSV as Excel reads it with Swedish settings (`;` between
values, UTF-8 with a BOM, CRLF line ends, decimal commas, ISO dates) and XLSX (openpyxl's
write-only workbook: real dates, a bold header row that stays in view, and an autofilter).

A value is None (empty), a bool (Ja/Nej), an int, a Decimal or float, a date, a datetime
(written as Stockholm time), or text. Text is never taken as a formula: a description a
member of the public typed on a fault report may begin with "=".
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import BinaryIO

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from backend.workdays import STOCKHOLM

CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMATS = {"csv": CSV_MEDIA_TYPE, "xlsx": XLSX_MEDIA_TYPE}

# What Excel (and other spreadsheets) would read as the start of a formula in a CSV cell.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Column:
    title: str
    width: int = 14  # in characters, for the XLSX column


def _local(value: datetime) -> datetime:
    """A stored time as the wall-clock time in Stockholm, without a zone (spreadsheets have none)."""
    return value.astimezone(STOCKHOLM).replace(tzinfo=None) if value.tzinfo else value


def csv_cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Ja" if value else "Nej"
    if isinstance(value, datetime):
        return _local(value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        return format(value, "f").replace(".", ",")
    if isinstance(value, float):
        return ("%.10g" % value).replace(".", ",")
    text = str(value)
    # A leading apostrophe keeps a text that looks like a formula a text (OWASP's advice).
    return "'" + text if text.startswith(_FORMULA_START) else text


class CsvSheet:
    """A CSV file written into `file` a chunk of rows at a time."""

    def __init__(self, file: BinaryIO, columns: list[Column]) -> None:
        self._text = io.TextIOWrapper(file, encoding="utf-8-sig", newline="")
        self._writer = csv.writer(self._text, delimiter=";", lineterminator="\r\n")
        self._writer.writerow([csv_cell(c.title) for c in columns])

    def write(self, rows: list[list]) -> None:
        self._writer.writerows([csv_cell(value) for value in row] for row in rows)

    def close(self) -> None:
        self._text.flush()
        self._text.detach()  # the file stays open for the caller


class XlsxSheet:
    """An XLSX workbook of one sheet, written a chunk of rows at a time (openpyxl's write-only
    mode keeps no rows in memory); the file is complete only after `close`."""

    def __init__(self, file: BinaryIO, columns: list[Column], title: str) -> None:
        self._file = file
        self._columns = len(columns)
        self._rows = 1
        self._book = Workbook(write_only=True)
        self._sheet = self._book.create_sheet(title[:31])
        for number, column in enumerate(columns, 1):
            self._sheet.column_dimensions[get_column_letter(number)].width = column.width
        self._sheet.freeze_panes = "A2"
        bold = Font(bold=True)
        header = []
        for column in columns:
            cell = WriteOnlyCell(self._sheet, value=column.title)
            cell.font = bold
            header.append(cell)
        self._sheet.append(header)

    def _cell(self, value):
        if isinstance(value, bool):
            return "Ja" if value else "Nej"
        if isinstance(value, datetime):
            return _local(value)
        if isinstance(value, str):
            value = ILLEGAL_CHARACTERS_RE.sub("", value)
            if value.startswith("="):
                cell = WriteOnlyCell(self._sheet, value=value)
                cell.data_type = "s"  # text, not a formula
                return cell
        return value

    def write(self, rows: list[list]) -> None:
        for row in rows:
            self._sheet.append([self._cell(value) for value in row])
        self._rows += len(rows)

    def close(self) -> None:
        self._sheet.auto_filter.ref = f"A1:{get_column_letter(self._columns)}{self._rows}"
        self._book.save(self._file)


def open_sheet(format: str, file: BinaryIO, columns: list[Column], title: str) -> CsvSheet | XlsxSheet:
    """A sheet of `format` ("csv" or "xlsx") written into the binary `file`."""
    if format == "csv":
        return CsvSheet(file, columns)
    if format == "xlsx":
        return XlsxSheet(file, columns, title)
    raise ValueError(f"no such format: {format}")
