"""Reading submitted forms: typed values out of form fields, and Swedish errors that name the field.

Routes use these to turn a form into explicit arguments for a service function. A
FormError carries the message the person sees next to the field (and in the error
summary at the top of the page, which links to the field).
"""

from __future__ import annotations

import re
from datetime import date, time
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from litestar.enums import RequestEncodingType
from litestar.params import Body

from backend.errors import DomainError, SeveralErrors

Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]
MultipartForm = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]


class FormError(DomainError):
    """A field that could not be read as what it should be (a number, a date…)."""


class FormErrors(SeveralErrors, FormError):
    """Several fields wrong at once: the summary lists them all, each field shows its own."""


# PostgreSQL cannot store a NUL byte, and no person types the other control characters
# (a tab and line breaks excepted): refuse them where the field is read, not as a 500.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
UNREADABLE = "Texten innehåller tecken som inte kan sparas. Ta bort dem och försök igen."

# The database's integer columns and ids end here: a larger number names nothing.
INT4_MIN, INT4_MAX = -(2**31), 2**31 - 1

# Dates people may give: far enough either way for any birth or plan, and short of the
# calendar's ends, where date arithmetic (a week later, a year earlier) overflows.
EARLIEST_DATE, LATEST_DATE = date(1900, 1, 1), date(2199, 12, 31)


def fields(data: dict) -> dict:
    """The submitted fields as typed (lists for repeated fields), without the CSRF token."""
    return {k: v for k, v in data.items() if k != "_csrf_token"}


def text(form: dict, name: str, limit: int = 2000) -> str:
    value = form.get(name, "")
    if isinstance(value, list):
        value = value[-1] if value else ""
    if not isinstance(value, str):
        return ""
    return readable(value, name).strip()[:limit]


def readable(value: str, name: str | None) -> str:
    """`value` unchanged, or a FormError on `name` when it holds a NUL or control character."""
    if _CONTROL.search(value):
        raise FormError(UNREADABLE, name)
    return value


def many(form: dict, name: str) -> list[str]:
    value = form.get(name)
    if value is None or value == "":
        return []
    return [readable(str(v), name) for v in value] if isinstance(value, list) else [readable(str(value), name)]


def integer(form: dict, name: str, message: str) -> int:
    try:
        value = int(text(form, name, 40))
    except ValueError:
        raise FormError(message, name) from None
    if not INT4_MIN <= value <= INT4_MAX:
        raise FormError(message, name)
    return value


def decimal(form: dict, name: str, message: str, *, required: bool = True) -> Decimal | None:
    """A number as people type it in Sweden: decimal comma or point, spaces allowed."""
    raw = text(form, name, 40).replace(" ", "").replace("\u202f", "").replace(",", ".")
    if not raw and not required:
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise FormError(message, name) from None
    if not value.is_finite():
        raise FormError(message, name)
    return value


def date_field(form: dict, name: str, message: str = "Skriv datumet som 2026-03-01.", *,
               required: bool = True) -> date | None:
    value = text(form, name)
    if not value and not required:
        return None
    try:
        parsed = date.fromisoformat(value)
    except ValueError:
        raise FormError(message, name) from None
    if not EARLIEST_DATE <= parsed <= LATEST_DATE:
        raise FormError(f"Välj ett datum mellan {EARLIEST_DATE.year} och {LATEST_DATE.year}.", name)
    return parsed


def time_field(form: dict, name: str) -> time:
    try:
        return time.fromisoformat(text(form, name))
    except ValueError:
        raise FormError("Skriv tiden som 09:00.", name) from None
