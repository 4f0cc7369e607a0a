"""The job queue's tables and functions (procrastinate_*) belong to the jobs domain: another domain
enqueues through backend.jobs.queue.defer and reads the queue through backend.jobs, never in SQL of
its own."""

from __future__ import annotations

import pytest

from backend import boundaries as B
from tests.support.boundaries import Module, modules, ownership_violations, queue_functions_called, tables_named

PEEKING = '''
from backend import db

async def generation_waiting(run_id):
    return await db.fetchval(
        "SELECT count(*) FROM procrastinate_jobs j WHERE j.args->>'run_id' = $1 AND status = 'todo'", str(run_id))
'''

RETRYING = '''
from backend import db

async def try_again(job_id):
    await db.execute("SELECT procrastinate_retry_job_v2($1, now(), NULL, NULL, NULL)", job_id)
'''


def test_a_query_on_the_queues_table_outside_jobs_is_a_violation():
    assert ownership_violations(Module("backend.maintenance.service", "maintenance", PEEKING), {}) == [
        "backend.maintenance.service names table procrastinate_jobs (owned by jobs)"]
    assert ownership_violations(Module("backend.jobs.service", "jobs", PEEKING), {}) == []


def test_calling_the_queues_functions_outside_jobs_is_a_violation():
    assert ownership_violations(Module("backend.notices.service", "notices", RETRYING), {}) == [
        "backend.notices.service calls the queue's function procrastinate_retry_job_v2 (owned by jobs)"]
    assert ownership_violations(Module("backend.jobs.service", "jobs", RETRYING), {}) == []


@pytest.mark.parametrize("sql, expected", [
    ("SELECT 1 FROM procrastinate_jobs", {"procrastinate_jobs"}),
    ("SELECT max(at) FROM procrastinate_events e JOIN procrastinate_workers w ON true",
     {"procrastinate_events", "procrastinate_workers"}),
    ("DELETE FROM procrastinate_periodic_defers", {"procrastinate_periodic_defers"}),
    # An index or a function named like a table is not the table.
    ("SELECT * FROM procrastinate_jobs_queueing_lock_idx_v1", set()),
    ("SELECT * FROM procrastinate_fetch_job_v2(NULL, 1)", set()),
])
def test_the_checker_reads_the_queues_tables(sql, expected):
    assert tables_named(f"x = {sql!r}") == expected


def test_the_checker_finds_the_queues_functions_only_where_they_are_called():
    assert queue_functions_called('x = "SELECT unnest(procrastinate_defer_jobs_v1(ARRAY[]))"') == {
        "procrastinate_defer_jobs_v1"}
    assert queue_functions_called('"""The queue keeps procrastinate_jobs rows."""') == set()


def test_only_the_jobs_domain_touches_the_queue_today():
    touching = {m.name for m in modules()
                if m.unit not in B.ROOTS and (queue_functions_called(m.source)
                                              or tables_named(m.source) & set(B.QUEUE_TABLES))}
    assert touching and {name.split(".")[1] for name in touching} == {"jobs"}
