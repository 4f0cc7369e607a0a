"""Tasks for the job queue's own tests, registered on the real queue when this module is imported
(by the tests, and by a `runda worker` started with it: see `worker_command`).

- `tests.flaky` fails with one of Runda's errors (a Swedish message) while FLAKY["failing"];
- `tests.leaky` fails with an error whose message holds personal data, which must not be kept;
- `tests.slow` writes to jobs_test_log when it starts and when it is done, and the first time it
  runs for a key it takes `seconds` first, long enough to kill its worker under it.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from backend import db
from backend.errors import DomainError
from backend.jobs import queue

PROJECT_ROOT = Path(__file__).resolve().parents[2]
FLAKY = {"failing": True}


class GatewayDown(DomainError):
    def __init__(self) -> None:
        super().__init__("SMS-tjänsten svarar inte just nu.")


@queue.task("tests.flaky", label="Testjobb som misslyckas")
async def flaky(organisation_id: int) -> None:
    if FLAKY["failing"]:
        raise GatewayDown()


@queue.task("tests.leaky", label="Testjobb med läckande fel", retry=False)
async def leaky(organisation_id: int) -> None:
    raise ValueError("Astrid Lindqvist, Björkvägen 12, 19400101-1234")


@queue.task("tests.slow", label="Testjobb som tar tid")
async def slow(key: str, seconds: float) -> None:
    await db.execute("INSERT INTO jobs_test_log (key, event) VALUES ($1, 'started')", key)
    if await db.fetchval("SELECT count(*) FROM jobs_test_log WHERE key = $1 AND event = 'started'", key) == 1:
        await asyncio.sleep(seconds)
    await db.execute("INSERT INTO jobs_test_log (key, event) VALUES ($1, 'done')", key)


async def create_log() -> None:
    await db.execute("CREATE TABLE IF NOT EXISTS jobs_test_log (id serial PRIMARY KEY, key text NOT NULL, "
                     "event text NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp())")


async def log_of(key: str) -> list[str]:
    return [r["event"] for r in await db.fetch("SELECT event FROM jobs_test_log WHERE key = $1 ORDER BY id", key)]


def worker_command(*args: str) -> list[str]:
    """`runda worker ARGS` that also knows these tasks (run from the project root)."""
    return [sys.executable, "-c", "import tests.support.job_tasks; from backend.cli import main; "
            f"main(['worker', *{list(args)!r}])"]


def worker_env(database_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "RUNDA_WORKER_PARENT"}}
    env.update(DATABASE_URL=database_url, RUNDA_DEV="1", LOG_LEVEL="WARNING", **extra)
    return env
