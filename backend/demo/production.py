"""The demo region's FU production, run once the region is loaded: next month's FU generated from
the schedules (maintenance.generation, as the daily job would), and the patients told of the
visits at least two weeks away (notices.service.send_notices by the demo coordinator, sent here
and now as the queue's job would), so the dev outbox shows what would have been sent.

It goes through the domains' own functions, not COPY: it is what the centre does with the data,
and it runs after the planner's statistics are fresh.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Callable

from backend import db
from backend.accounts.service import Actor
from backend.accounts.tables import Role
from backend.demo import names as N
from backend.maintenance import generation
from backend.notices import service as notices
from backend.notices import tasks as notice_tasks
from backend.notices.errors import NoticeError, SendFailed


async def month_of_fu(organisation_id: int, today: date, progress: Callable[[str], None]) -> dict[str, int]:
    """Generate next month's FU and send the notices of every visit planned from two weeks ahead to
    the month's end; returns the rows made (work orders, notices, outbound messages)."""
    period = generation.proposal(today)
    run = await generation.generate(organisation_id, period, today=today, actor_name=generation.AUTO_NAME)
    progress(f"FU generated for {period.start}–{period.end}: {run['created']} work orders")
    coordinator = await db.fetchrow(
        "SELECT id, name FROM staff_user WHERE organisation = $1 AND role = 'coordinator' AND name = $2",
        organisation_id, N.DEMO_PEOPLE["coordinator"])
    actor = Actor(id=coordinator["id"], organisation=organisation_id, name=coordinator["name"],
                  role=Role.coordinator, care_unit=None)
    wanted = notices.ProposalFilter(today + timedelta(days=notices.NOTICE_DAYS), period.end)
    told = 0
    while True:  # a send takes at most SEND_LIMIT visits
        try:
            sent = await notices.send_notices(actor, None, wanted, today)
        except NoticeError:
            break  # nothing left to tell
        told += sent.notices
        # The job the send deferred, done here; when a worker runs it later it finds nothing left.
        # One transaction for the whole batch (the job's own are per notice): one commit, not one each.
        async with db.transaction():
            try:
                await notice_tasks.send_batch(sent.batch)
            except SendFailed:
                pass  # recorded on the notices that failed; the queued job tries them again
    messages = await db.fetchval("SELECT count(*) FROM outbound_message WHERE organisation = $1", organisation_id)
    progress(f"notices {told}, messages in the dev outbox {messages}")
    return {"work_order": run["created"], "notice": told, "outbound_message": messages}
