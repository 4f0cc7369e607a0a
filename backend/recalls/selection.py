"""Which devices a safety notice names: its articles, and every criterion it gives (a serial range,
a manufacturing-date range, lot numbers) must hold.

A serial range is compared the way manufacturers number their units: the same prefix (letters,
dashes, any digits before the last run of digits, case aside) and a number at the end within the
range. "RX-000100"–"RX-000900" takes "rx-000450", not "RX-1000450" (longer number) nor
"RY-000450" (another prefix). When both ends are written with the same number of digits, a unit's
number must have that many too (leading zeros are part of the format).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from backend.db import Sql

_TRAILING_NUMBER = re.compile(r"^(.*?)(\d+)$")


class SerialRangeError(ValueError):
    """The two ends cannot make a range; the message is Swedish, for the form."""


@dataclass(frozen=True)
class SerialRange:
    prefix: str  # upper case
    first: int
    last: int
    min_digits: int
    max_digits: int

    @classmethod
    def parse(cls, serial_from: str, serial_to: str) -> "SerialRange":
        start, end = serial_from.strip().upper(), serial_to.strip().upper()
        start_match, end_match = _TRAILING_NUMBER.match(start), _TRAILING_NUMBER.match(end)
        if not start_match or not end_match:
            raise SerialRangeError("Ett serienummerintervall behöver ett nummer i slutet av båda serienumren, "
                                   "till exempel RX-000100 till RX-000900.")
        if start_match.group(1) != end_match.group(1):
            raise SerialRangeError("Serienumren i intervallet ska börja likadant, till exempel RX-000100 till "
                                   "RX-000900.")
        first, last = int(start_match.group(2)), int(end_match.group(2))
        if first > last:
            raise SerialRangeError("Intervallets första serienummer ska vara lägre än det sista.")
        digits = sorted((len(start_match.group(2)), len(end_match.group(2))))
        return cls(start_match.group(1), first, last, digits[0], digits[1])

    def contains(self, serial_number: str) -> bool:
        """The rule in Python, as `condition` writes it in SQL (for tests and previews)."""
        match = _TRAILING_NUMBER.match(serial_number.strip().upper())
        return bool(match and match.group(1) == self.prefix
                    and self.min_digits <= len(match.group(2)) <= self.max_digits
                    and self.first <= int(match.group(2)) <= self.last)


@dataclass(frozen=True)
class Criteria:
    articles: tuple[int, ...]
    serial_range: SerialRange | None = None
    made_from: date | None = None
    made_to: date | None = None
    lot_numbers: tuple[str, ...] = ()

    def condition(self, organisation_id: int) -> Sql:
        """The condition on device d (and article a) that it is one of the units named."""
        serial = self.serial_range
        return Sql(
            """
            d.organisation = :org AND d.article = ANY(:articles::int[])
            AND (NOT :by_serial OR (
                regexp_replace(upper(btrim(d.serial_number)), '[0-9]+$', '') = :prefix
                AND length(substring(btrim(d.serial_number) FROM '[0-9]+$')) BETWEEN :min_digits AND :max_digits
                AND substring(btrim(d.serial_number) FROM '[0-9]+$')::numeric
                    BETWEEN :first::text::numeric AND :last::text::numeric))
            AND (:made_from::date IS NULL OR d.manufacturing_date >= :made_from)
            AND (:made_to::date IS NULL OR d.manufacturing_date <= :made_to)
            AND (cardinality(:lots::text[]) = 0 OR upper(btrim(d.lot_number)) = ANY(:lots::text[]))
            """,
            org=organisation_id, articles=list(self.articles), by_serial=serial is not None,
            prefix=serial.prefix if serial else "", min_digits=serial.min_digits if serial else 0,
            max_digits=serial.max_digits if serial else 0, first=str(serial.first) if serial else "0",
            last=str(serial.last) if serial else "0", made_from=self.made_from, made_to=self.made_to,
            lots=[lot.upper() for lot in self.lot_numbers])


def undecidable(criteria: Criteria, organisation_id: int) -> Sql:
    """The condition on device d that it is of the notice's articles and no criterion rules it out,
    but one cannot be tried for want of data (no serial number, manufacturing date or lot): a unit
    a person has to look at. Once its data is filled in, the notice names it or not."""
    serial = criteria.serial_range
    by_serial, by_date = serial is not None, criteria.made_from is not None or criteria.made_to is not None
    by_lot = bool(criteria.lot_numbers)
    return Sql(
        """
        d.organisation = :org AND d.article = ANY(:articles::int[])
        AND ((:by_serial AND btrim(d.serial_number) = '') OR (:by_date AND d.manufacturing_date IS NULL)
             OR (:by_lot AND btrim(d.lot_number) = ''))
        AND (NOT :by_serial OR btrim(d.serial_number) = '' OR :serial_ok)
        AND (NOT :by_date OR d.manufacturing_date IS NULL OR :date_ok)
        AND (NOT :by_lot OR btrim(d.lot_number) = '' OR :lot_ok)
        """,
        org=organisation_id, articles=list(criteria.articles), by_serial=by_serial, by_date=by_date,
        by_lot=by_lot, serial_ok=_only(criteria, serial=True).condition(organisation_id),
        date_ok=_only(criteria, dates=True).condition(organisation_id),
        lot_ok=_only(criteria, lots=True).condition(organisation_id))


def _only(criteria: Criteria, *, serial: bool = False, dates: bool = False, lots: bool = False) -> Criteria:
    """The criteria with only the one kind kept (the others left out: they hold)."""
    return Criteria(criteria.articles, criteria.serial_range if serial else None,
                    criteria.made_from if dates else None, criteria.made_to if dates else None,
                    criteria.lot_numbers if lots else ())


def lot_list(text: str) -> tuple[str, ...]:
    """Lot numbers as typed: one per line, or separated by commas or semicolons; no repeats."""
    seen: dict[str, None] = {}
    for part in re.split(r"[\n,;]+", text):
        lot = part.strip()
        if lot:
            seen.setdefault(lot.upper(), None)
    return tuple(seen)
