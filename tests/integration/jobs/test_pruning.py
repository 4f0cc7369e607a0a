"""Finished jobs are forgotten after 30 days and failed ones after 90 (with their failures); a job
still waiting or running is never forgotten, however old."""

from __future__ import annotations

import pytest

from backend import db
from backend.jobs import queue, upkeep

pytestmark = pytest.mark.usefixtures("test_jobs")


async def old_job(status: str, days: int) -> int:
    job_id = await queue.defer("tests.slow", key=f"{status}-{days}", seconds=0, scheduled_at=None)
    if status != "todo":
        await db.execute("UPDATE procrastinate_jobs SET status = $2::procrastinate_job_status WHERE id = $1",
                         job_id, status)
    await db.execute("UPDATE procrastinate_events SET at = now() - make_interval(days => $2) WHERE job_id = $1",
                     job_id, days)
    if status == "failed":
        await db.execute("INSERT INTO job_failure (job_id, task_name, attempt, error_type, reason) "
                         "VALUES ($1, 'tests.slow', 1, 'x.Error', '')", job_id)
    return job_id


async def test_old_finished_jobs_are_forgotten_failed_ones_later_and_waiting_ones_never():
    kept = [await old_job("succeeded", 29), await old_job("failed", 89), await old_job("todo", 400),
            await old_job("doing", 400)]
    gone = [await old_job("succeeded", 31), await old_job("cancelled", 31), await old_job("aborted", 31),
            await old_job("failed", 91)]
    async with queue.opened(db.DB.config["dsn"]):
        await upkeep.prune_old_jobs()
    left = {r["id"] for r in await db.fetch("SELECT id FROM procrastinate_jobs WHERE id = any($1)", kept + gone)}
    assert left == set(kept)
    assert await db.fetchval("SELECT count(*) FROM job_failure WHERE job_id = any($1)", gone) == 0
    assert await db.fetchval("SELECT count(*) FROM job_failure WHERE job_id = any($1)", kept) == 1
