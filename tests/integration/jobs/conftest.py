"""The job queue's tests share the session's database: each forgets the test jobs it made."""

from __future__ import annotations

import pytest

from backend import db
from tests.support import job_tasks


@pytest.fixture
async def test_jobs(database):
    """Forget the jobs of the test tasks before and after (the queue is shared by the session)."""
    await job_tasks.create_log()
    await db.execute("DELETE FROM procrastinate_jobs WHERE task_name LIKE 'tests.%'")
    job_tasks.FLAKY["failing"] = True
    yield
    await db.execute("DELETE FROM procrastinate_jobs WHERE task_name LIKE 'tests.%'")
    job_tasks.FLAKY["failing"] = True
