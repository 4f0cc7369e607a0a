"""Runda's job queue: procrastinate, on Runda's own PostgreSQL.

Work that must happen once per event or in the background (FU generation, notices, reminders,
pruning) is a job: a domain writes its task functions in `backend/<domain>/tasks.py` (listed in
TASK_MODULES), decorated with `task` or `periodic`, and enqueues them with `defer`.

- `defer` writes the job on Runda's own asyncpg connection: inside `db.transaction()` the job
  exists only if the transaction commits, so a row and the job that works on it never part.
- Workers are processes of their own (`runda worker`; `worker:` in the Procfile). They talk to
  PostgreSQL through procrastinate's psycopg connector and use `backend.db` for the work itself.
  Behind a transaction-mode pooler a worker should connect directly (WORKER_DATABASE_URL): LISTEN
  does not pass such a pooler, so a worker that goes through it polls for new jobs instead.
- A failing job is retried with backoff (RETRY); each failed attempt is recorded in job_failure
  with its reason for the admin's jobs page; after the last attempt the job stays failed there.
- Periodic jobs are deferred by the workers' shared schedule (one job per tick, whatever the
  number of workers) and carry a lock, so one runs at a time.
- A worker that dies mid-job (killed, the machine lost) stops its heartbeat; the queue's own
  upkeep (backend/jobs/tasks.py) puts such a job back in the queue, so it runs again.

A task's arguments are JSON and land in the logs: pass ids, never personal data. A job about one
organisation passes `organisation_id=`: the jobs page (/admin/jobb) shows it to that organisation's
admins only; a job without one (the queue's upkeep, pruning) is the installation's, shown to every
admin. Tasks run on the worker's event loop: CPU-heavy work goes to a thread, or the heartbeat stops.
"""

from __future__ import annotations

import functools
import json
import logging
import os
from collections.abc import Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any, AsyncIterator

import asyncpg
import procrastinate
from procrastinate import PsycopgConnector, RetryStrategy
from procrastinate.worker import Worker

from backend import db
from backend.errors import DomainError

log = logging.getLogger("runda.jobs")

# Every module with tasks: the worker imports them all (strings, so this base of the domains
# imports none of them).
TASK_MODULES = [
    "backend.jobs.tasks",
    "backend.sync.tasks",
    "backend.notices.tasks",
    "backend.maintenance.tasks",
    "backend.audit.tasks",
    "backend.routing.tasks",
    "backend.reports.tasks",
    "backend.recalls.tasks",
]

DEFAULT_QUEUE = "default"

# 5 attempts in all (the first and 4 retries), waiting 12, 14, 18 and 26 s (10 s + 2^n) between
# them: a gateway that is down for a minute is ridden out; a job that fails for good is failed
# within about a minute and a half.
RETRY = RetryStrategy(max_attempts=4, wait=10, exponential_wait=2)

# Workers say they are alive every HEARTBEAT_SECONDS; one silent for STALLED_AFTER_SECONDS is
# taken for dead and its running jobs are queued again. Generous, so that a task holding the event
# loop for a while is not run twice.
HEARTBEAT_SECONDS = 10.0
STALLED_AFTER_SECONDS = 120.0
# A stopping worker (SIGTERM, Ctrl-C) lets its running jobs finish for this long, then aborts them
# (a task that retries is queued again); platforms kill a process some 30 s after asking it to stop.
SHUTDOWN_GRACE_SECONDS = 25.0

app = procrastinate.App(connector=PsycopgConnector(), import_paths=TASK_MODULES)

# Task name -> what the jobs page calls it, in Swedish.
LABELS: dict[str, str] = {}

Task = Callable[..., Awaitable[Any]]


def task(name: str, *, lock: str | None = None, queueing_lock: str | None = None,
         retry: RetryStrategy | bool = RETRY, queue: str = DEFAULT_QUEUE,
         label: str | None = None) -> Callable[[Task], Task]:
    """Register `fn` as the task `name` (a fixed dotted name: jobs in the table outlive the code's
    layout); `label` is what the jobs page calls it (Swedish). The function itself is returned
    unchanged, so it can be called directly."""

    def register(fn: Task) -> Task:
        app.task(name=name, lock=lock, queueing_lock=queueing_lock, retry=retry, queue=queue,
                 pass_context=True)(_recording_failures(name, fn))
        if label:
            LABELS[name] = label
        return fn

    return register


def periodic(name: str, *, cron: str, retry: RetryStrategy | bool = False,
             queue: str = DEFAULT_QUEUE, label: str | None = None) -> Callable[[Task], Task]:
    """Register `fn(timestamp: int)` to run on the cron schedule (in UTC; a sixth field is
    seconds), one at a time across all workers (the lock), and not queued twice (the queueing
    lock). `label` as for `task`."""

    def register(fn: Task) -> Task:
        registered = app.task(name=name, lock=name, queueing_lock=name, retry=retry, queue=queue,
                              pass_context=True)(_recording_failures(name, fn))
        app.periodic(cron=cron, periodic_id=name)(registered)
        if label:
            LABELS[name] = label
        return fn

    return register


def labels() -> dict[str, str]:
    """Every known task's name -> its Swedish label (its name when it has none)."""
    app.perform_import_paths()
    return {name: LABELS.get(name, name) for name in app.tasks
            if not name.startswith(("builtin:", "procrastinate."))}  # procrastinate's own, unused


def _recording_failures(name: str, fn: Task) -> Callable[..., Awaitable[Any]]:
    @functools.wraps(fn)
    async def run(context: procrastinate.JobContext, **kwargs: Any) -> Any:
        try:
            return await fn(**kwargs)
        except Exception as exc:
            job = context.job
            await record_failure(job.id, name, job.attempts + 1, exc)
            log.warning("job_failed", extra={"task": name, "job": job.id, "attempt": job.attempts + 1,
                                             "error": type(exc).__name__})
            raise

    return run


def failure_reason(exc: BaseException) -> str:
    """What the jobs page may show: Runda's own errors carry a Swedish message without personal
    data; anything else may quote data, so only its class is kept."""
    return exc.message if isinstance(exc, DomainError) else ""


async def record_failure(job_id: int, task_name: str, attempt: int, exc: BaseException) -> None:
    try:
        await db.execute("INSERT INTO job_failure (job_id, task_name, attempt, error_type, reason) "
                         "VALUES ($1, $2, $3, $4, $5)",
                         job_id, task_name, attempt, f"{type(exc).__module__}.{type(exc).__qualname__}"[:200],
                         failure_reason(exc))
    except Exception:  # the failure itself must still reach procrastinate, which retries it
        log.exception("job_failure_not_recorded", extra={"task": task_name, "job": job_id})


async def defer(task_name: str, *, lock: str | None = None, queueing_lock: str | None = None,
                scheduled_at: datetime | None = None, priority: int = 0, queue: str = DEFAULT_QUEUE,
                **args: Any) -> int | None:
    """Enqueue `task_name` with keyword `args` (JSON) on Runda's connection (the caller's
    transaction, if any). Returns the job's id, or None when a job with the same
    `queueing_lock` is already waiting (nothing enqueued)."""
    sql = ("SELECT unnest(procrastinate_defer_jobs_v1(ARRAY[ROW($1, $2, $3, $4, $5, $6::jsonb, $7)"
           "::procrastinate_job_to_defer_v1]))")
    values = (queue, task_name, priority, lock, queueing_lock, json.dumps(args), scheduled_at)
    if queueing_lock is None:
        return await db.fetchval(sql, *values)
    try:
        if db.in_transaction():
            async with db.savepoint():
                return await db.fetchval(sql, *values)
        return await db.fetchval(sql, *values)
    except asyncpg.UniqueViolationError:  # procrastinate_jobs_queueing_lock_idx_v1
        return None


_opened = False


@asynccontextmanager
async def opened(url: str, *, max_size: int = 4, through_pooler: bool = False) -> AsyncIterator[procrastinate.App]:
    """The queue's app with its psycopg pool open on `url` (Runda's own pool is opened by the caller).
    Inside an `opened` block another one is the same: the app has one pool per process.
    `through_pooler`: `url` leads to a transaction-mode pooler, so psycopg must not prepare named
    statements (it does after a query's fifth run), which would live on one server connection only."""
    global _opened
    if _opened:
        yield app
        return
    connection = {"prepare_threshold": None} if through_pooler else {}
    # A connector of its own each time: procrastinate's keeps a pool it was handed after closing.
    with app.replace_connector(PsycopgConnector(conninfo=url, min_size=1, max_size=max_size, kwargs=connection)):
        _opened = True
        try:
            async with app.open_async():
                yield app
        finally:
            _opened = False


class _Worker(Worker):
    """procrastinate's worker, which may leave scheduling the periodic jobs to the others."""

    def __init__(self, *args: Any, schedules_periodic: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.schedules_periodic = schedules_periodic

    async def _periodic_deferrer(self) -> None:
        if self.schedules_periodic:
            await super()._periodic_deferrer()


def worker(*, concurrency: int = 1, once: bool = False, periodic: bool = True,
           install_signal_handlers: bool = False, heartbeat_seconds: float = HEARTBEAT_SECONDS,
           poll_seconds: float = 5.0, listen: bool = True) -> Worker:
    """A worker on the (opened) app: every queue, `concurrency` jobs at once. `once`: run what is
    ready now and return; `periodic`: also defer the periodic jobs when due (several workers may:
    each tick is deferred once). Signal handlers make SIGTERM and Ctrl-C stop it gracefully: running
    jobs get SHUTDOWN_GRACE_SECONDS to finish. A new job wakes it at once (LISTEN/NOTIFY); a job that
    waited for a lock or its time is found by polling every `poll_seconds`. `listen=False` (through a
    transaction pooler, where LISTEN is lost with the server connection it ran on): polling only."""
    app.perform_import_paths()
    return _Worker(app=app, concurrency=concurrency, wait=not once, schedules_periodic=periodic and not once,
                   name=f"runda-{os.getpid()}", listen_notify=listen and not once, delete_jobs="never",
                   fetch_job_polling_interval=poll_seconds,
                   install_signal_handlers=install_signal_handlers, update_heartbeat_interval=heartbeat_seconds,
                   stalled_worker_timeout=STALLED_AFTER_SECONDS, shutdown_graceful_timeout=SHUTDOWN_GRACE_SECONDS)


async def run_until_empty(url: str, *, concurrency: int = 1) -> None:
    """Run a worker on `url` until no job is ready to run now (tests and `runda worker --once`);
    it defers no periodic jobs. Runda's own pool must be open on the same database."""
    async with opened(url, max_size=concurrency + 2):
        await worker(concurrency=concurrency, once=True).run()
