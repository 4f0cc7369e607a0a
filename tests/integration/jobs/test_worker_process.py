"""A running worker process (as beside the browser tests' live server) is woken by a new job at
once, through PostgreSQL's NOTIFY, rather than at its next poll."""

from __future__ import annotations

import asyncio
import time

from backend import db
from backend.jobs import queue
from tests.support.jobs import WorkerProcess


async def test_a_running_worker_takes_a_new_job_at_once(database_url, database):
    worker = WorkerProcess(database_url)
    await asyncio.to_thread(worker.start)
    try:
        await asyncio.sleep(0.5)  # past its first look at the queue
        async with db.transaction():
            job_id = await queue.defer("jobs.prune", timestamp=0)
        deferred = time.monotonic()
        while await db.fetchval("SELECT status::text FROM procrastinate_jobs WHERE id = $1", job_id) != "succeeded":
            assert time.monotonic() - deferred < 3, "the worker waited for its poll (5 s)"
            await asyncio.sleep(0.05)
    finally:
        await asyncio.to_thread(worker.stop)
    assert worker.process.returncode == 0
