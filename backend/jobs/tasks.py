"""The queue's own upkeep, on the queue's schedule (the rules are in upkeep.py)."""

from __future__ import annotations

from backend.jobs import queue, upkeep


@queue.periodic("jobs.retry_stalled", cron="*/5 * * * *", label="Återuppta jobb vars arbetsprocess stannat")
async def retry_stalled(timestamp: int, seconds_since_heartbeat: float = queue.STALLED_AFTER_SECONDS) -> int:
    return await upkeep.retry_stalled_jobs(seconds_since_heartbeat)


@queue.periodic("jobs.prune", cron="40 3 * * *", label="Rensa gamla jobb")
async def prune(timestamp: int) -> None:
    await upkeep.prune_old_jobs()
