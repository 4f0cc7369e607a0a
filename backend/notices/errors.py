"""Notices' refusals and failures, each a DomainError with a Swedish message (never personal data:
a failure's message is shown on the admin's jobs page and kept with the message's record)."""

from __future__ import annotations

from backend.errors import DomainError


class NoticeError(DomainError):
    """A rule refused what was asked; nothing was written."""


class NoticeNotFound(NoticeError):
    """No such notice or send in the person's organisation."""

    def __init__(self) -> None:
        super().__init__("Aviseringen finns inte.")


class SendFailed(NoticeError):
    """The SMTP server or the SMS gateway did not take the message: the queue tries again."""
