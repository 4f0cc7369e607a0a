"""The access log's jobs: its monthly partitions kept ahead and pruned after the retention, and the
monthly review reminder (the routine's random sample prepared for a reviewer)."""

from __future__ import annotations

import random

from backend.audit import partitions, review
from backend.jobs import queue
from backend.organisations import service as organisations
from backend.settings import audit_retention_years
from backend.workdays import add_months, month_start, today


@queue.periodic("audit.partitions", cron="40 3 * * *", label="Förbered och gallra åtkomstloggens månader")
async def maintain_partitions(timestamp: int) -> dict:
    """Each night: the coming months' partitions made, those older than the retention dropped."""
    return await partitions.maintain(today(), audit_retention_years())


@queue.periodic("audit.review_reminder", cron="0 5 1 * *", label="Påminn om månadens loggkontroll")
async def review_reminder(timestamp: int) -> int:
    """On the first of each month: last month's random-sample review (about 10 % of the staff, one
    random day) prepared for every organisation, shown to its reviewers until someone closes it."""
    last_month = add_months(month_start(today()), -1)
    made = 0
    for organisation in await organisations.organisation_slugs():
        if await review.prepare_monthly_sample(organisation["id"], last_month, review.SAMPLE_ONLY,
                                               rng=random.SystemRandom()) is not None:
            made += 1
    return made
