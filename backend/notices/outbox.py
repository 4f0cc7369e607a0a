"""The record of every message sent (outbound_message): what went to whom, on which channel, and
whether it was delivered or failed. In development, and for a channel without settings, it is
the dev outbox: the message is kept here instead of being sent. Admins and coordinators read it
at /admin/utkorg; a message is personal data, so every read is in the access log."""

from __future__ import annotations

from dataclasses import dataclass

from backend import db
from backend.accounts.service import Actor
from backend.audit.service import record_patient_reads
from backend.notices.errors import NoticeNotFound

PAGE_SIZE = 50

CHANNEL_LABELS = {"letter": "Brev", "sms": "SMS", "email": "E-post"}
TRANSPORT_LABELS = {"outbox": "Utkorgen (skickas inte)", "smtp": "E-postservern", "sms_gateway": "SMS-tjänsten",
                    "print": "Utskrift"}
STATE_LABELS = {"delivered": "Levererat", "failed": "Misslyckades"}


def state_label(transport: str, state: str) -> str:
    """What became of a message, in words: a letter is made to print, an outbox message only kept."""
    if state == "failed":
        return STATE_LABELS["failed"]
    return {"outbox": "Lagt i utkorgen", "print": "Brev att skriva ut"}.get(transport, STATE_LABELS["delivered"])


async def record(*, organisation_id: int, notice_id: int, patient_id: int | None, channel: str, transport: str,
                 recipient: str, subject: str, body: str, error: str | None) -> None:
    """Keep the notice's message and this attempt's outcome (error None: delivered). A notice has
    one message: a later attempt updates it and counts the attempts. Joins the caller's transaction."""
    await db.execute(
        """
        INSERT INTO outbound_message (organisation, notice, patient, channel, transport, recipient, subject, body,
                                      state, error, delivered_at, failed_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, CASE WHEN $9::text IS NULL THEN 'delivered' ELSE 'failed' END,
                coalesce($9, ''), CASE WHEN $9::text IS NULL THEN now() END, CASE WHEN $9::text IS NOT NULL THEN now() END)
        ON CONFLICT (notice) WHERE notice IS NOT NULL DO UPDATE SET
            transport = EXCLUDED.transport, recipient = EXCLUDED.recipient, subject = EXCLUDED.subject,
            body = EXCLUDED.body, state = EXCLUDED.state, error = EXCLUDED.error,
            attempts = outbound_message.attempts + 1,
            delivered_at = coalesce(EXCLUDED.delivered_at, outbound_message.delivered_at),
            failed_at = coalesce(EXCLUDED.failed_at, outbound_message.failed_at)
        """,
        organisation_id, notice_id, patient_id, channel, transport, recipient[:200], subject[:200], body, error)


@dataclass(frozen=True)
class OutboxFilter:
    channel: str | None = None
    state: str | None = None

    def cleaned(self) -> "OutboxFilter":
        return OutboxFilter(channel=self.channel if self.channel in CHANNEL_LABELS else None,
                            state=self.state if self.state in STATE_LABELS else None)


def _labelled(row) -> dict:
    message = dict(row)
    message["channel_label"] = CHANNEL_LABELS.get(message["channel"], message["channel"])
    message["transport_label"] = TRANSPORT_LABELS.get(message["transport"], message["transport"])
    message["state_label"] = state_label(message["transport"], message["state"])
    return message


async def messages(actor: Actor, wanted: OutboxFilter, page: int) -> tuple[list[dict], bool]:
    """One page of the organisation's messages, newest first, and whether more follow. The list
    names recipients (personal data): the patients on it are in the access log."""
    wanted = wanted.cleaned()
    rows = await db.fetch(
        """
        SELECT id, notice, patient, channel, transport, recipient, subject, state, error, attempts, created_at,
               delivered_at, failed_at
        FROM outbound_message
        WHERE organisation = $1 AND ($2::text IS NULL OR channel = $2) AND ($3::text IS NULL OR state = $3)
        ORDER BY id DESC LIMIT $4 OFFSET $5
        """,
        actor.organisation, wanted.channel, wanted.state, PAGE_SIZE + 1, (max(page, 1) - 1) * PAGE_SIZE)
    found = [_labelled(r) for r in rows[:PAGE_SIZE]]
    await record_patient_reads(actor, [m["patient"] for m in found if m["patient"]], "outbox_list")
    return found, len(rows) > PAGE_SIZE


async def message(actor: Actor, message_id: int) -> dict:
    """One message with its text: an audited read of the patient it is about."""
    row = await db.fetchrow("SELECT * FROM outbound_message WHERE id = $1 AND organisation = $2",
                            message_id, actor.organisation)
    if row is None:
        raise NoticeNotFound()
    if row["patient"]:
        await record_patient_reads(actor, [row["patient"]], "outbox_message")
    return _labelled(row)


async def message_of_notice(notice_id: int) -> dict | None:
    """The notice's message without its text (id, channel, transport, state, error, attempts, times)."""
    row = await db.fetchrow(
        "SELECT id, channel, transport, recipient, state, error, attempts, created_at, delivered_at, failed_at "
        "FROM outbound_message WHERE notice = $1", notice_id)
    return _labelled(row) if row else None
