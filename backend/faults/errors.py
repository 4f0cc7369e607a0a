"""Fault reports' refusals, each a DomainError carrying the form field it concerns, so a route
hands the exception to its template as the form's error."""

from __future__ import annotations

from backend.errors import DomainError


class FaultError(DomainError):
    """A rule refused the change; `message` is Swedish, `field` the form field it is about."""


class ReportInvalid(FaultError):
    """Several answers need correcting: (field, Swedish message) in the order of the form."""

    def __init__(self, errors: list[tuple[str | None, str]]) -> None:
        super().__init__(errors[0][1], errors[0][0])
        self._errors = list(errors)

    @property
    def errors(self) -> list[tuple[str | None, str]]:
        return self._errors


class NotFound(FaultError):
    """No such device, report or token for this person: never say which."""

    def __init__(self, message: str = "Det finns inte.", field: str | None = None) -> None:
        super().__init__(message, field)


class AlreadyHandled(FaultError):
    """Someone else triaged the report first."""

    def __init__(self) -> None:
        super().__init__("Felanmälan är redan hanterad av någon annan.")


class LabelError(FaultError):
    """A label sheet that cannot be made; most often about the list of individnummer."""

    def __init__(self, message: str, field: str = "enheter") -> None:
        super().__init__(message, field)
