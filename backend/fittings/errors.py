"""The fittings domain's refusals: a Swedish message fit for the person acting, and the form
field it concerns (see backend.errors), so a route shows any of them as it is."""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

from backend.errors import DomainError

if TYPE_CHECKING:
    from backend.fittings.slots import FittingSlot


class FittingError(DomainError):
    """A fitting rule said no; nothing was written."""


class NotAllowed(FittingError):
    """The person may not do this (wrong role, another unit's patient, another's booking),
    or the booking no longer allows it (cancelled, passed)."""


class NotFound(FittingError):
    pass


class InvalidInput(FittingError):
    """A template, exception or referral is incomplete or contradictory."""


class OutsideBookingWindow(FittingError):
    """The time is sooner than the minimum notice, or beyond the booking horizon."""


class SlotNotOffered(FittingError):
    """The consultant does not offer that time (no template, a holiday, an exception)."""


class SlotTaken(FittingError):
    """Someone else got the time first; `alternatives` are fresh free slots."""

    def __init__(self, alternatives: Sequence[FittingSlot] = (), message: str = "Tiden hann bokas av någon annan") -> None:
        super().__init__(message)
        self.alternatives = list(alternatives)


class TryAgain(FittingError):
    """PostgreSQL kept breaking deadlocks between simultaneous bookings; nothing was saved."""

    def __init__(self) -> None:
        super().__init__("Många bokar samma tid just nu och ingenting sparades. Försök igen.")
