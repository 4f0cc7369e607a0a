"""Periodic jobs are deferred by the workers' shared schedule: with two workers running, each tick
becomes one job, and a job that outlasts its tick never runs beside the next one (the lock)."""

from __future__ import annotations

import asyncio
import time

import pytest

from backend import db
from backend.jobs import queue

pytestmark = pytest.mark.usefixtures("test_jobs")

TASK = "tests.every_second"


@pytest.fixture
def every_second():
    """A periodic task due every second, taking 1.5 s: registered for this test only, and the only
    one the test's workers schedule (Runda's own would run too when their time is near)."""
    runs: list[tuple[int, float, float]] = []
    queue.app.perform_import_paths()
    schedules = queue.app.periodic_registry.periodic_tasks
    kept = dict(schedules)
    schedules.clear()

    @queue.periodic(TASK, cron="* * * * * *", label="Testjobb varje sekund")
    async def tick(timestamp: int) -> None:
        started = time.monotonic()
        await asyncio.sleep(1.5)
        runs.append((timestamp, started, time.monotonic()))

    yield runs
    schedules.clear()
    schedules.update(kept)
    queue.app.tasks.pop(TASK)
    queue.LABELS.pop(TASK)


async def test_two_workers_defer_each_tick_once_and_never_run_the_job_twice_at_once(database_url, every_second):
    async with queue.opened(database_url, max_size=12):
        workers = [queue.worker(concurrency=2, poll_seconds=0.1) for _ in range(2)]
        running = [asyncio.create_task(w.run()) for w in workers]
        await asyncio.sleep(5.5)
        for w in workers:
            w.stop()
        await asyncio.gather(*running)

    jobs = await db.fetch("SELECT (args->>'timestamp')::bigint AS tick, status::text AS status "
                          "FROM procrastinate_jobs WHERE task_name = $1", TASK)
    ticks = [j["tick"] for j in jobs]
    assert len(ticks) == len(set(ticks)) >= 2, "a tick deferred twice"
    runs = sorted(every_second, key=lambda r: r[1])
    assert len(runs) >= 3 and {r[0] for r in runs} <= set(ticks)
    for (_, _, ended), (_, started, _) in zip(runs, runs[1:]):
        assert started >= ended, "two runs of the periodic job overlapped"
    # While one ran, the next tick waited in the queue and later ticks were not queued behind it.
    assert sum(j["status"] == "todo" for j in jobs) <= 1
    await db.execute("DELETE FROM procrastinate_periodic_defers WHERE task_name = $1", TASK)
