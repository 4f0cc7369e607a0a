"""The job that sends a batch of notices (one job per send, deferred by service.send_notices).

Each notice is sent in a transaction of its own, holding its row: the message goes out through
its channel's adapter (channels.adapters: the dev outbox unless configured) and is recorded with
the notice's new state, or the failure is recorded (the message as it would have been, and why it
failed). After the last notice the job fails if any did, so the queue tries again later; the next
attempt sends only what is not sent yet. A letter is not sent: it is made for printing. A notice
whose visit changed since it was made is not sent (the new time is proposed instead).
"""

from __future__ import annotations

import logging

from backend import db
from backend.db import Sql
from backend.jobs import queue
from backend.notices import channels, letters
from backend.notices.errors import SendFailed
from backend.notices.outbox import record
from backend.notices.proposals import SEND_TASK
from backend.notices.sends import notice_rows, visit_of
from backend.organisations import service as organisations
from backend.settings import OutboundSettings

log = logging.getLogger("runda.notices")

CHANGED = "Besöket har ändrats sedan aviseringen gjordes; den skickades inte. Den nya tiden föreslås att aviseras."


@queue.task(SEND_TASK, label="Skicka aviseringar")
async def send_batch(batch: int, organisation_id: int | None = None) -> None:
    """Send every notice of the batch not sent yet; fails (to be retried) if any could not be.
    `organisation_id` only says whose job it is (the jobs page shows it to that organisation's admins)."""
    adapters = channels.adapters(OutboundSettings.from_env())
    pending = [r["id"] for r in await db.fetch(
        "SELECT id FROM notice WHERE batch = $1 AND state IN ('queued', 'failed') ORDER BY id", batch)]
    failed, centres = 0, {}
    for notice_id in pending:
        try:
            await send_one(notice_id, adapters, centres)
        except SendFailed:
            failed += 1
    log.info("notices_sent", extra={"batch": batch, "notices": len(pending), "failed": failed})
    if failed:
        raise SendFailed(f"{failed} av {len(pending)} aviseringar kunde inte skickas. Ett nytt försök görs.")


async def send_one(notice_id: int, adapters: dict[str, channels.Adapter], centres: dict[int, dict]) -> None:
    """Send (or make) one notice's message and record it; raises SendFailed, after recording the
    failure, when its channel did not take it. `centres` keeps each organisation's name and phone
    read once for the batch."""
    failure: SendFailed | None = None
    async with db.transaction():
        held = await db.fetchval("SELECT id FROM notice WHERE id = $1 AND state IN ('queued', 'failed') "
                                 "FOR UPDATE SKIP LOCKED", notice_id)
        if held is None:
            return  # sent meanwhile, or another worker holds it
        row = await db.fetchrow(notice_rows(Sql("n.id = :id", id=notice_id)))
        if (row["order_status"] not in ("new", "planned") or row["order_planned_date"] != row["planned_date"]
                or row["order_window_start"] != row["window_start"]):
            await db.execute("UPDATE notice SET state = 'stale', error = $2 WHERE id = $1", notice_id, CHANGED)
            return
        if row["organisation"] not in centres:
            centres[row["organisation"]] = await organisations.organisation(row["organisation"])
        organisation = centres[row["organisation"]]
        visit = visit_of(row, organisation["name"], organisation["phone"])
        channel, subject = row["channel"], ""
        if channel == "letter":
            one = letters.letter(visit)
            transport, to, body = "print", ", ".join(one.addressee), one.text
        else:
            if channel == "sms":
                to, body = channels.mobile_number(row["phone"]) or "", letters.sms_text(visit)
            else:
                to, (subject, body) = row["email"] or "", letters.email_text(visit)
            adapter = adapters[channel]
            transport = adapter.transport
            try:
                if not to:
                    raise SendFailed("Patienten har inte längre något nummer eller någon adress för kanalen.")
                await adapter.send(channels.Message(channel=channel, to=to, text=body, subject=subject))
            except SendFailed as exc:
                failure = exc
        await record(organisation_id=row["organisation"], notice_id=notice_id, patient_id=row["patient"],
                     channel=channel, transport=transport, recipient=to, subject=subject, body=body,
                     error=failure.message if failure else None)
        await db.execute(
            "UPDATE notice SET state = $2, error = $3, sent_at = CASE WHEN $3 = '' THEN now() ELSE sent_at END "
            "WHERE id = $1",
            notice_id, "failed" if failure else ("to_print" if channel == "letter" else "sent"),
            failure.message if failure else "")
    if failure:
        log.warning("notice_not_sent", extra={"notice": notice_id, "channel": channel, "transport": transport})
        raise failure
