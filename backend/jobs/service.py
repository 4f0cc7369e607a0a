"""The job queue as an admin sees it (/admin/jobb): how many jobs are in each state, the jobs
themselves with when they ran and why they failed, and two actions: run a failed job again, and
cancel a queued one. Read and written on Runda's own connection.

Which jobs an admin sees: those about their organisation (`organisation_id` among the job's
arguments) and those of the installation as a whole (no `organisation_id`: the queue's upkeep,
pruning). A job's arguments are never shown: the page names the task and the Swedish reason."""

from __future__ import annotations

import logging

import asyncpg

from backend import db
from backend.db import Sql
from backend.errors import DomainError
from backend.jobs import queue

log = logging.getLogger("runda.jobs")

PAGE_SIZE = 25

# procrastinate's states, in the order the page shows them, and what the page calls them.
STATES = {
    "todo": "Köade",
    "doing": "Pågår",
    "failed": "Misslyckade",
    "succeeded": "Klara",
    "cancelled": "Avbrutna",
    "aborted": "Avbrutna under körning",
}
STATE_LABELS = {
    "todo": "Köat", "doing": "Pågår", "failed": "Misslyckades", "succeeded": "Klart",
    "cancelled": "Avbrutet", "aborted": "Avbrutet under körning", "aborting": "Avbryts",
}
EVENT_LABELS = {
    "deferred": "Köat",
    "scheduled": "Planerat att köras",
    "started": "Startade",
    "deferred_for_retry": "Köat för nytt försök",
    "failed": "Misslyckades",
    "succeeded": "Klart",
    "cancelled": "Avbrutet",
    "abort_requested": "Avbrytning begärd",
    "aborted": "Avbrutet under körning",
    "retried": "Köat igen av en administratör",
}
FINAL = ("succeeded", "failed", "cancelled", "aborted")


class JobNotFound(DomainError):
    def __init__(self) -> None:
        super().__init__("Jobbet finns inte (det kan ha rensats bort).")


class JobRefused(DomainError):
    """The job is not in a state that allows what was asked; nothing was changed."""


def visible(organisation_id: int) -> Sql:
    """The condition on `j` (procrastinate_jobs) for the jobs an organisation's admin sees."""
    return Sql("(NOT (j.args ? 'organisation_id') OR j.args->'organisation_id' = to_jsonb(:org::int))",
               org=organisation_id)


def _short_type(error_type: str | None) -> str:
    return (error_type or "").rsplit(".", 1)[-1]


def _job(row: asyncpg.Record, labels: dict[str, str]) -> dict:
    job = dict(row)
    job["label"] = labels.get(job["task_name"], job["task_name"])
    job["state_label"] = STATE_LABELS.get(job["status"], job["status"])
    if "error_type" in job:
        job["error_name"] = _short_type(job["error_type"])
    job["can_retry"] = job["status"] == "failed"
    job["can_cancel"] = job["status"] == "todo"
    return job


async def overview(organisation_id: int) -> dict:
    """Jobs per state (every state, zeros too) and the tasks that have jobs, with their labels."""
    rows = await db.fetch(Sql(
        "SELECT j.task_name, j.status::text AS status, count(*) AS n FROM procrastinate_jobs j "
        "WHERE :visible GROUP BY 1, 2", visible=visible(organisation_id)))
    counts = dict.fromkeys(STATES, 0)
    for row in rows:
        counts[row["status"]] = counts.get(row["status"], 0) + row["n"]
    labels = queue.labels()
    tasks = {row["task_name"] for row in rows} | set(labels)
    return {"counts": counts,
            "tasks": sorted(((name, labels.get(name, name)) for name in tasks), key=lambda t: t[1].lower())}


async def list_jobs(organisation_id: int, *, status: str | None = None, task: str | None = None,
                    page: int = 1) -> tuple[list[dict], bool]:
    """One page of jobs, newest first, each with when it was queued, started and ended, and its
    latest failure; and whether there is a next page."""
    rows = await db.fetch(Sql(
        """
        SELECT j.id, j.task_name, j.status::text AS status, j.attempts, j.scheduled_at,
               j.status = 'todo' AND j.scheduled_at > now() AS waiting,
               ev.queued_at, ev.started_at, ev.ended_at, f.error_type, f.reason, f.failed_at
        FROM procrastinate_jobs j
        LEFT JOIN LATERAL (
            SELECT min(e.at) FILTER (WHERE e.type = 'deferred') AS queued_at,
                   max(e.at) FILTER (WHERE e.type = 'started') AS started_at,
                   max(e.at) FILTER (WHERE e.type IN ('succeeded', 'failed', 'cancelled', 'aborted')) AS ended_at
            FROM procrastinate_events e WHERE e.job_id = j.id) ev ON true
        LEFT JOIN LATERAL (
            SELECT f.error_type, f.reason, f.failed_at FROM job_failure f WHERE f.job_id = j.id
            ORDER BY f.failed_at DESC, f.id DESC LIMIT 1) f ON true
        WHERE :visible AND (:status::text IS NULL OR j.status::text = :status)
          AND (:task::text IS NULL OR j.task_name = :task)
        ORDER BY j.id DESC
        LIMIT :limit OFFSET :offset
        """,
        visible=visible(organisation_id), status=status, task=task, limit=PAGE_SIZE + 1,
        offset=(page - 1) * PAGE_SIZE))
    labels = queue.labels()
    jobs = [_job(row, labels) for row in rows[:PAGE_SIZE]]
    return jobs, len(rows) > PAGE_SIZE


async def job(organisation_id: int, job_id: int) -> dict:
    """One job with every event of it (oldest first) and every failed attempt (latest first)."""
    row = await db.fetchrow(Sql(
        "SELECT j.id, j.task_name, j.status::text AS status, j.attempts, j.scheduled_at, j.queue_name, "
        "j.status = 'todo' AND j.scheduled_at > now() AS waiting "
        "FROM procrastinate_jobs j WHERE j.id = :id AND :visible",
        id=job_id, visible=visible(organisation_id)))
    if row is None:
        raise JobNotFound()
    found = _job(row, queue.labels())
    events = await db.fetch("SELECT type::text AS type, at FROM procrastinate_events WHERE job_id = $1 "
                            "ORDER BY at, id", job_id)
    found["events"] = [{"label": EVENT_LABELS.get(e["type"], e["type"]), **dict(e)} for e in events]
    found["queued_at"] = next((e["at"] for e in events if e["type"] == "deferred"), None)
    found["started_at"] = max((e["at"] for e in events if e["type"] == "started"), default=None)
    found["ended_at"] = max((e["at"] for e in events if e["type"] in FINAL), default=None)
    failures = await db.fetch("SELECT attempt, error_type, reason, failed_at FROM job_failure WHERE job_id = $1 "
                              "ORDER BY failed_at DESC, id DESC", job_id)
    found["failures"] = [{**dict(f), "error_name": _short_type(f["error_type"])} for f in failures]
    return found


def stopped_sql(job: Sql) -> Sql:
    """A condition for the caller's query: the job `job` (an id) will not run any more — it failed,
    was cancelled or aborted, or is gone — so whatever waited for it waits in vain."""
    return Sql("coalesce((SELECT j.status::text FROM procrastinate_jobs j WHERE j.id = :job), 'gone') "
               "NOT IN ('todo', 'doing')", job=job)


async def _locked_status(organisation_id: int, job_id: int) -> str:
    status = await db.fetchval(Sql(
        "SELECT j.status::text FROM procrastinate_jobs j WHERE j.id = :id AND :visible FOR UPDATE",
        id=job_id, visible=visible(organisation_id)))
    if status is None:
        raise JobNotFound()
    return status


async def retry(organisation_id: int, job_id: int, *, staff_user_id: int) -> None:
    """Queue a failed job again, to run at once: one more attempt (procrastinate counts it)."""
    async with db.transaction():
        if await _locked_status(organisation_id, job_id) != "failed":
            raise JobRefused("Bara ett misslyckat jobb kan köras igen.")
        try:
            async with db.savepoint():
                await db.execute("SELECT procrastinate_retry_job_v2($1, now(), NULL, NULL, NULL)", job_id)
        except asyncpg.UniqueViolationError:  # a job of the same kind already waits (its queueing lock)
            raise JobRefused("Ett likadant jobb väntar redan i kön; det körs snart.") from None
    log.info("job_retried", extra={"job": job_id, "staff_user": staff_user_id})


async def cancel(organisation_id: int, job_id: int, *, staff_user_id: int) -> None:
    """Take a queued job out of the queue; it never runs (one that has started runs to its end)."""
    async with db.transaction():
        if await _locked_status(organisation_id, job_id) != "todo":
            raise JobRefused("Bara ett jobb som väntar i kön kan avbrytas.")
        await db.execute("SELECT procrastinate_cancel_job_v1($1, false, false)", job_id)
    log.info("job_cancelled", extra={"job": job_id, "staff_user": staff_user_id})
