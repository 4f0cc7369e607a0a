"""The one shape of a refusal: a Swedish message for the person acting, and the form field it concerns.

Every domain's errors derive from DomainError, so a route shows any of them the same way:
the message next to `field` (or above the form when it concerns the whole of it) and in the
error summary at the top of the page. Services raise these; they never import the web framework.
"""

from __future__ import annotations


class DomainError(Exception):
    """A rule refused what was asked; nothing was written."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    @property
    def errors(self) -> list[tuple[str | None, str]]:
        return [(self.field, self.message)]

    def for_field(self, name: str) -> str | None:
        return next((message for field, message in self.errors if field == name), None)


class SeveralErrors:
    """Mixin for a domain's error class: several fields wrong at once, given as
    [(field, message), ...]; each field shows its own message and the summary lists them all.
    `class ThingsRefused(SeveralErrors, ThingError)` keeps the domain's own error as its base."""

    def __init__(self, errors: list[tuple[str | None, str]]) -> None:
        DomainError.__init__(self, errors[0][1], errors[0][0])  # type: ignore[arg-type]
        self._errors = list(errors)

    @property
    def errors(self) -> list[tuple[str | None, str]]:
        return list(self._errors)
