"""A job is written with the transaction that defers it, and a job that fails is retried with
backoff, each failed attempt recorded with what the jobs page may show of why; after the last
attempt it stays failed."""

from __future__ import annotations

import pytest

from backend import db
from backend.jobs import queue
from tests.support import job_tasks
from tests.support.jobs import run_jobs

pytestmark = pytest.mark.usefixtures("test_jobs")


async def job_row(job_id: int):
    return await db.fetchrow("SELECT status::text AS status, attempts, scheduled_at FROM procrastinate_jobs "
                             "WHERE id = $1", job_id)


async def failures(job_id: int) -> list:
    return await db.fetch("SELECT attempt, error_type, reason, failed_at FROM job_failure WHERE job_id = $1 "
                          "ORDER BY attempt", job_id)


async def due_now(job_id: int) -> None:
    """Skip the backoff's wait: the job is due at once."""
    await db.execute("UPDATE procrastinate_jobs SET scheduled_at = now() WHERE id = $1", job_id)


async def test_a_job_deferred_in_a_transaction_exists_only_if_it_commits():
    with pytest.raises(RuntimeError):
        async with db.transaction():
            await queue.defer("tests.slow", key="rolled-back", seconds=0)
            raise RuntimeError("the row that went with it failed")
    assert await db.fetchval("SELECT count(*) FROM procrastinate_jobs WHERE args->>'key' = 'rolled-back'") == 0

    async with db.transaction():
        job_id = await queue.defer("tests.slow", key="committed", seconds=0)
    await run_jobs()
    assert (await job_row(job_id))["status"] == "succeeded"
    assert await job_tasks.log_of("committed") == ["started", "done"]


async def test_a_queueing_lock_keeps_a_second_job_out_of_the_queue():
    first = await queue.defer("tests.slow", key="once", seconds=0, queueing_lock="tests.once")
    async with db.transaction():
        assert await queue.defer("tests.slow", key="twice", seconds=0, queueing_lock="tests.once") is None
        await db.execute("SELECT 1")  # the transaction goes on after the refused job
    assert first is not None


async def test_a_failing_job_is_retried_with_growing_waits_and_then_left_failed():
    job_id = await queue.defer("tests.flaky", organisation_id=1)
    waits = []
    for attempt in range(1, 6):
        await run_jobs()
        job, recorded = await job_row(job_id), await failures(job_id)
        assert [f["attempt"] for f in recorded] == list(range(1, attempt + 1))
        assert recorded[-1]["reason"] == "SMS-tjänsten svarar inte just nu."
        assert recorded[-1]["error_type"] == "tests.support.job_tasks.GatewayDown"
        assert job["attempts"] == attempt
        if attempt < 5:
            assert job["status"] == "todo"
            waits.append((job["scheduled_at"] - recorded[-1]["failed_at"]).total_seconds())
            await run_jobs()  # not due yet: nothing runs
            assert (await job_row(job_id))["attempts"] == attempt
            await due_now(job_id)
        else:
            assert job["status"] == "failed"
    # 10 s + 2^n: 12, 14, 18 and 26 s
    assert [round(w) for w in waits] == [12, 14, 18, 26]


async def test_a_foreign_error_is_kept_by_its_kind_only():
    job_id = await queue.defer("tests.leaky", organisation_id=1)
    await run_jobs()
    assert (await job_row(job_id))["status"] == "failed"  # not retried: retry=False
    [failure] = await failures(job_id)
    assert (failure["error_type"], failure["reason"]) == ("builtins.ValueError", "")


async def test_tasks_have_swedish_labels():
    labels = queue.labels()
    assert labels["tests.flaky"] == "Testjobb som misslyckas"
    assert labels["sync.prune_receipts"] == "Rensa gamla kvitton på skrivningar från fältet"
    assert {"jobs.retry_stalled", "jobs.prune"} <= set(labels)
    assert not any(name.startswith(("builtin:", "procrastinate.")) for name in labels)
