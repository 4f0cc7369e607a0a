"""What a checklist is made of: its items (pass/fail, measurement, free text), their stable keys,
and the rules an item must meet before a draft holds it. Pure: no database here.

An item is kept in checklist_template.items as
{"key", "text", "kind", "safety_critical", "measurement": {"unit", "min", "max", "lowest",
"highest", "standard"} | null}; lists written before kinds existed have no "kind" (a
measurement item is one with a measurement, every other a pass/fail item).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from backend.errors import DomainError, SeveralErrors


class ChecklistError(DomainError):
    """An answer that cannot be stored, or a checklist change that is refused."""


class ChecklistRefused(SeveralErrors, ChecklistError):
    """One or more fields wrong (an item, a new list): each message goes next to its field."""


KINDS = {
    "check": "Godkänd/underkänd",
    "measurement": "Mätning",
    "text": "Fritext (teknikerns kommentar)",
}

# The units a measurement may be given in, each with what an instrument can physically read:
# the technician's value outside it is a typo, not a failed item.
UNITS: dict[str, tuple[Decimal, Decimal]] = {
    "V": (Decimal(0), Decimal(1000)),
    "A": (Decimal(0), Decimal(100)),
    "mA": (Decimal(0), Decimal(1000)),
    "µA": (Decimal(0), Decimal(100000)),
    "Ω": (Decimal(0), Decimal(100)),
    "MΩ": (Decimal(0), Decimal(10000)),
    "kg": (Decimal(0), Decimal(1000)),
    "N": (Decimal(0), Decimal(10000)),
    "Nm": (Decimal(0), Decimal(1000)),
    "mm": (Decimal(0), Decimal(10000)),
    "cm": (Decimal(0), Decimal(1000)),
    "°": (Decimal(0), Decimal(360)),
    "°C": (Decimal(-50), Decimal(200)),
    "bar": (Decimal(0), Decimal(50)),
    "kPa": (Decimal(0), Decimal(5000)),
    "mmHg": (Decimal(0), Decimal(500)),
    "s": (Decimal(0), Decimal(3600)),
    "%": (Decimal(0), Decimal(100)),
    "km/h": (Decimal(0), Decimal(50)),
    "dB": (Decimal(0), Decimal(150)),
}

TEXT_MAX, STANDARD_MAX, NAME_MAX, CODE_MAX, KEY_MAX = 200, 60, 100, 40, 40
CODE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


def swedish(value: Decimal) -> str:
    """A number as Swedes write it: 23,5 (no trailing zeros, no exponent)."""
    return f"{value.normalize():f}".replace(".", ",")


@dataclass(frozen=True)
class Measurement:
    unit: str
    min: Decimal | None  # pass limits
    max: Decimal | None
    lowest: Decimal  # what the instrument can physically read
    highest: Decimal
    standard: str = ""  # where the limits come from, e.g. "SS-EN 60601-1"

    @property
    def limits_text(self) -> str:
        if self.min is not None and self.max is not None:
            limits = f"{swedish(self.min)}–{swedish(self.max)} {self.unit}"
        elif self.min is not None:
            limits = f"minst {swedish(self.min)} {self.unit}"
        elif self.max is not None:
            limits = f"högst {swedish(self.max)} {self.unit}"
        else:
            limits = self.unit
        return f"{limits} ({self.standard})" if self.standard else limits


@dataclass(frozen=True)
class ChecklistItem:
    key: str
    text: str
    safety_critical: bool
    measurement: Measurement | None
    kind: str = "check"

    @property
    def kind_label(self) -> str:
        return KINDS.get(self.kind, self.kind)


@dataclass(frozen=True)
class Checklist:
    id: int
    category_id: int
    version: int
    items: list[ChecklistItem]
    code: str = "fu"
    name: str = ""
    published_at: datetime | None = None  # None: a draft

    def item(self, key: str) -> ChecklistItem | None:
        return next((i for i in self.items if i.key == key), None)

    @property
    def draft(self) -> bool:
        return self.published_at is None


def decimal_of(value) -> Decimal | None:
    return None if value is None or value == "" else Decimal(str(value))


def parse_item(item: dict) -> ChecklistItem:
    m = item.get("measurement")
    measurement = None
    if m:
        lowest = decimal_of(m.get("lowest"))
        highest = decimal_of(m.get("highest"))
        hi = decimal_of(m.get("max"))
        measurement = Measurement(
            unit=m["unit"], min=decimal_of(m.get("min")), max=hi,
            lowest=lowest if lowest is not None else Decimal(0),
            highest=highest if highest is not None else (hi * 10 if hi else Decimal(1000)),
            standard=m.get("standard") or "",
        )
    kind = item.get("kind") or ("measurement" if measurement else "check")
    return ChecklistItem(item["key"], item["text"], bool(item.get("safety_critical")), measurement, kind)


def checklist_from_row(row) -> Checklist:
    """A checklist_template row (an asyncpg record, or its row_to_json read as a dict) as a Checklist."""
    raw = row["items"]
    items = json.loads(raw) if isinstance(raw, str) else raw
    published_at = row.get("published_at")
    if isinstance(published_at, str):
        published_at = datetime.fromisoformat(published_at)
    return Checklist(row["id"], row["category"], row["version"], [parse_item(i) for i in items],
                     code=row.get("code") or "fu", name=row.get("name") or "", published_at=published_at)


# --- an item as the editor gives it ------------------------------------------------------------


@dataclass(frozen=True)
class ItemFields:
    """One item as typed in the editor (the route has read the numbers already)."""

    text: str
    kind: str
    safety_critical: bool = False
    unit: str = ""
    lower: Decimal | None = None
    upper: Decimal | None = None
    standard: str = ""


def checked_item(fields: ItemFields, key: str) -> dict:
    """The item as stored, or ChecklistRefused naming every field that is wrong."""
    errors: list[tuple[str, str]] = []
    text = " ".join(fields.text.split())
    if not text:
        errors.append(("text", "Skriv vad teknikern ska kontrollera."))
    elif len(text) > TEXT_MAX:
        errors.append(("text", f"Texten får vara högst {TEXT_MAX} tecken."))
    if fields.kind not in KINDS:
        errors.append(("kind", "Välj typ av punkt."))
    measurement = None
    if fields.kind == "measurement":
        measurement, wrong = _measurement(fields)
        errors += wrong
    if errors:
        raise ChecklistRefused(errors)
    return {"key": key, "text": text, "kind": fields.kind, "safety_critical": bool(fields.safety_critical),
            "measurement": measurement}


def _measurement(fields: ItemFields) -> tuple[dict | None, list[tuple[str, str]]]:
    errors: list[tuple[str, str]] = []
    standard = " ".join(fields.standard.split())
    if len(standard) > STANDARD_MAX:
        errors.append(("standard", f"Standarden får vara högst {STANDARD_MAX} tecken."))
    if fields.unit not in UNITS:
        errors.append(("unit", "Välj en enhet i listan." if not fields.unit
                       else f"Enheten ”{fields.unit}” finns inte i listan. Välj en enhet i listan."))
        return None, errors
    lowest, highest = UNITS[fields.unit]
    lower, upper = fields.lower, fields.upper
    if lower is None and upper is None:
        errors.append(("lower", "Ange lägsta eller högsta godkända värde, eller båda."))
    for name, value in (("lower", lower), ("upper", upper)):
        if value is not None and not lowest <= value <= highest:
            errors.append((name, f"Ett värde i {fields.unit} ligger mellan {swedish(lowest)} och {swedish(highest)}."))
    if lower is not None and upper is not None and lower > upper and not errors:
        errors.append(("lower", "Lägsta godkända värde är större än det högsta."))
    if errors:
        return None, errors
    return {"unit": fields.unit, "min": _number(lower), "max": _number(upper), "lowest": _number(lowest),
            "highest": _number(highest), "standard": standard}, []


def _number(value: Decimal | None) -> float | int | None:
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)


def form_values(item: ChecklistItem) -> dict[str, str]:
    """An item as the editor's form shows it (numbers the Swedish way)."""
    m = item.measurement
    return {"text": item.text, "kind": item.kind, "safety_critical": "1" if item.safety_critical else "",
            "unit": m.unit if m else "", "lower": swedish(m.min) if m and m.min is not None else "",
            "upper": swedish(m.max) if m and m.max is not None else "", "standard": m.standard if m else ""}


_LETTERS = str.maketrans({"å": "a", "ä": "a", "ö": "o", "é": "e", "è": "e", "ü": "u", "æ": "ae", "ø": "o"})


def new_key(text: str, taken: set[str]) -> str:
    """A stable key for a new item, from its text ("Motorbromsar håller" -> motorbromsar_haller),
    unique among `taken` (every key the list has used), so answers line up across versions."""
    base = re.sub(r"[^a-z0-9]+", "_", text.lower().translate(_LETTERS)).strip("_")[:KEY_MAX].strip("_")
    base = base or "punkt"
    key, n = base, 2
    while key in taken:
        suffix = f"_{n}"
        key = base[:KEY_MAX - len(suffix)] + suffix
        n += 1
    return key


def summary(item: dict | ChecklistItem) -> str:
    """One line for the change history: the text, its kind and limits, a safety item said so."""
    if isinstance(item, dict):
        item = parse_item(item)
    parts = [item.text, item.kind_label]
    if item.measurement:
        parts.append(item.measurement.limits_text)
    if item.safety_critical:
        parts.append("säkerhetspunkt")
    return " · ".join(parts)
