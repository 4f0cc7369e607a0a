"""Housekeeping every server process runs in the background while it serves: each job every
so often, never taking the server down with it.

Only for idempotent upkeep (forgetting what has expired): a missed or failed round is simply
done by the next one, so no queue is needed. Work that must happen once per event (e-mails,
reminders) belongs in a PostgreSQL-backed job queue instead (ARCHITECTURE.md). Jobs that must
not run in two processes at once take their own advisory lock.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import AsyncIterator, Awaitable, Callable

log = logging.getLogger("runda.periodic")


@dataclass(frozen=True)
class Periodic:
    name: str  # a fixed name for the logs
    run: Callable[[], Awaitable[object]]
    every_seconds: float


async def repeat(job: Periodic, first_after: float) -> None:
    """Run `job` after `first_after` seconds and then every `job.every_seconds`, until cancelled.
    A failure is logged (its type and where, never its message, which may quote data) and the
    next round comes as planned."""
    await asyncio.sleep(first_after)
    while True:
        started = time.perf_counter()
        try:
            result = await job.run()
        except Exception:
            log.exception("periodic_job_failed", extra={"job": job.name})
        else:
            log.info("periodic_job_done", extra={"job": job.name, "result": result,
                                                 "ms": round((time.perf_counter() - started) * 1000, 1)})
        await asyncio.sleep(job.every_seconds)


@asynccontextmanager
async def running(jobs: list[Periodic]) -> AsyncIterator[None]:
    """The jobs run in the background for the duration of the block. Each first runs soon after
    start (so a process restarted often still does its part), at a random moment, so processes
    started together do not all go at once."""
    tasks = [asyncio.create_task(repeat(job, random.uniform(0.05, 0.25) * job.every_seconds), name=job.name)
             for job in jobs]
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
