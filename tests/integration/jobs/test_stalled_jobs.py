"""A worker killed mid-job (SIGKILL: no goodbye, its transaction never commits) leaves its job
running in the table; once its heartbeat is old, the queue's upkeep puts the job back, and the
next worker completes it, once. A job that is not retried (a periodic one) is failed instead, so
its lock frees the next tick."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import time

import pytest

from backend import db
from backend.jobs import queue, upkeep
from tests.support import job_tasks
from tests.support.jobs import run_jobs

pytestmark = pytest.mark.usefixtures("test_jobs")


async def status_of(job_id: int) -> str:
    return await db.fetchval("SELECT status::text FROM procrastinate_jobs WHERE id = $1", job_id)


async def wait_for(condition, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not await condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.1)


async def recover_stalled(seconds_since_heartbeat: float) -> int:
    async with queue.opened(db.DB.config["dsn"]):
        return await upkeep.retry_stalled_jobs(seconds_since_heartbeat)


async def test_the_job_of_a_killed_worker_is_run_again_by_the_next_and_completed_once(database_url):
    job_id = await queue.defer("tests.slow", key="killed", seconds=60)
    worker = subprocess.Popen(job_tasks.worker_command("--no-periodic", "--concurrency", "1"),
                              cwd=job_tasks.PROJECT_ROOT, env=job_tasks.worker_env(database_url),
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        async def started() -> bool:
            assert worker.poll() is None, worker.stderr.read()
            return await job_tasks.log_of("killed") == ["started"]

        await wait_for(started)
        assert await status_of(job_id) == "doing"
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=20)

    # Its heartbeat is no older than the worker: not yet taken for dead.
    assert await recover_stalled(seconds_since_heartbeat=600) == 0
    assert await status_of(job_id) == "doing"
    await asyncio.sleep(1.2)
    assert await recover_stalled(seconds_since_heartbeat=1) == 1
    assert await status_of(job_id) == "todo"
    [failure] = await db.fetch("SELECT attempt, reason FROM job_failure WHERE job_id = $1", job_id)
    assert failure["attempt"] == 1 and "Arbetsprocessen stannade" in failure["reason"]

    await run_jobs()
    assert await status_of(job_id) == "succeeded"
    assert await job_tasks.log_of("killed") == ["started", "started", "done"]
    assert await recover_stalled(seconds_since_heartbeat=1) == 0


async def test_a_stalled_job_that_is_not_retried_is_failed_and_frees_its_lock():
    dead = await db.fetchval("INSERT INTO procrastinate_workers (last_heartbeat) VALUES (now() - interval '1 hour') "
                             "RETURNING id")
    stuck = await queue.defer("tests.leaky", organisation_id=1, lock="tests.lock")
    await db.execute("UPDATE procrastinate_jobs SET status = 'doing', worker_id = $2 WHERE id = $1", stuck, dead)
    waiting = await queue.defer("tests.slow", key="after-lock", seconds=0, lock="tests.lock")
    await run_jobs()
    assert await status_of(waiting) == "todo"  # the lock is held by the stuck job

    assert await recover_stalled(seconds_since_heartbeat=60) == 0
    assert await status_of(stuck) == "failed"
    await run_jobs()
    assert await status_of(waiting) == "succeeded"
    await db.execute("DELETE FROM procrastinate_workers WHERE id = $1", dead)


async def test_the_upkeep_runs_on_the_queues_schedule():
    queue.app.perform_import_paths()
    schedules = {p.task.name: p.cron for p in queue.app.periodic_registry.periodic_tasks.values()}
    assert schedules["jobs.retry_stalled"] == "*/5 * * * *"
    assert schedules["jobs.prune"] == "40 3 * * *"
