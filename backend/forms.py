"""Reading submitted forms: typed values out of form fields, and Swedish errors that name the field.

Routes use these to turn a form into explicit arguments for a service function. A
FormError carries the message the person sees next to the field (and in the error
summary at the top of the page, which links to the field).
"""

from __future__ import annotations

from datetime import date, time
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from litestar.enums import RequestEncodingType
from litestar.params import Body

from backend.errors import DomainError

Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]
MultipartForm = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]


class FormError(DomainError):
    """A field that could not be read as what it should be (a number, a date…)."""


class FormErrors(FormError):
    """Several fields wrong at once: the summary lists them all, each field shows its own."""

    def __init__(self, errors: list[tuple[str | None, str]]) -> None:
        super().__init__(errors[0][1], errors[0][0])
        self._errors = errors

    @property
    def errors(self) -> list[tuple[str | None, str]]:
        return self._errors


def fields(data: dict) -> dict:
    """The submitted fields as typed (lists for repeated fields), without the CSRF token."""
    return {k: v for k, v in data.items() if k != "_csrf_token"}


def text(form: dict, name: str, limit: int = 2000) -> str:
    value = form.get(name, "")
    if isinstance(value, list):
        value = value[-1] if value else ""
    if not isinstance(value, str):
        return ""
    return value.strip()[:limit]


def many(form: dict, name: str) -> list[str]:
    value = form.get(name)
    if value is None or value == "":
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def integer(form: dict, name: str, message: str) -> int:
    try:
        return int(text(form, name))
    except ValueError:
        raise FormError(message, name) from None


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
        return date.fromisoformat(value)
    except ValueError:
        raise FormError(message, name) from None


def time_field(form: dict, name: str) -> time:
    try:
        return time.fromisoformat(text(form, name))
    except ValueError:
        raise FormError("Skriv tiden som 09:00.", name) from None
