"""`runda worker` runs the background jobs: `--once` what is ready, else until SIGTERM or Ctrl-C,
which let the running job finish; bad configuration is one line. `runda dev` runs one beside the
web server, says so, says when it stops (and starts it again), and stops it on exit."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time

import asyncpg
import psutil
import pytest

from backend import db
from backend.jobs import queue
from tests.support import job_tasks
from tests.support.server import free_port, throwaway_database

pytestmark = pytest.mark.usefixtures("database")


@pytest.fixture
def fresh_database(server_url: str):
    with throwaway_database(server_url, "runda_worker") as url:
        yield url


@pytest.fixture
async def test_jobs(database):
    await job_tasks.create_log()
    yield
    await db.execute("DELETE FROM procrastinate_jobs WHERE task_name LIKE 'tests.%'")


def runda(*args: str, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "backend", *args], env=env, capture_output=True, text=True,
                          timeout=timeout)


async def status_of(job_id: int) -> str:
    return await db.fetchval("SELECT status::text FROM procrastinate_jobs WHERE id = $1", job_id)


async def eventually(condition, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not await condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.1)


async def test_once_runs_the_ready_jobs_and_exits(database_url):
    job_id = await queue.defer("jobs.prune", timestamp=0)
    done = await asyncio.to_thread(runda, "worker", "--once", env=job_tasks.worker_env(database_url))
    assert done.returncode == 0, done.stderr
    assert "the jobs that were ready have run" in done.stdout
    assert await status_of(job_id) == "succeeded"


def test_an_unmigrated_database_is_one_line(fresh_database):
    result = runda("worker", "--once", env=job_tasks.worker_env(fresh_database))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert [line for line in result.stderr.splitlines() if line.strip()] == [
        "runda: error: the database is not migrated (" + result.stderr.split("(", 1)[1].strip()]
    assert "runda migrate" in result.stderr


@pytest.mark.parametrize("concurrency", ["0", "many"])
def test_a_bad_concurrency_is_refused(concurrency):
    result = runda("worker", "--concurrency", concurrency, env={**os.environ, "RUNDA_DEV": "1"})
    assert result.returncode == 2 and "--concurrency" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.usefixtures("test_jobs")
async def test_sigterm_lets_the_running_job_finish_then_stops(database_url):
    job_id = await queue.defer("tests.slow", key="sigterm", seconds=2)
    worker = subprocess.Popen(job_tasks.worker_command("--no-periodic"), cwd=job_tasks.PROJECT_ROOT,
                              env=job_tasks.worker_env(database_url), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    try:
        async def started() -> bool:
            assert worker.poll() is None, worker.stderr.read()
            return await job_tasks.log_of("sigterm") == ["started"]

        await eventually(started)
        worker.send_signal(signal.SIGTERM)
        out, err = await asyncio.to_thread(worker.communicate, timeout=30)
    finally:
        if worker.poll() is None:
            worker.kill()
    assert worker.returncode == 0, err
    assert "worker running" in out and "worker stopped" in out
    assert await job_tasks.log_of("sigterm") == ["started", "done"]
    assert await status_of(job_id) == "succeeded"


class Lines:
    """A child's output, line by line, read as it comes."""

    def __init__(self, stream) -> None:
        self.lines: list[str] = []
        threading.Thread(target=lambda: self.lines.extend(iter(stream.readline, "")), daemon=True).start()

    def text(self) -> str:
        return "".join(self.lines)


def worker_children(process: subprocess.Popen) -> list[psutil.Process]:
    """The live `runda worker` children of `process` (a killed one lingers as a zombie until reaped)."""
    found = []
    for child in psutil.Process(process.pid).children():
        try:
            if child.status() != psutil.STATUS_ZOMBIE and "worker" in child.cmdline():
                found.append(child)
        except psutil.Error:  # gone, or a zombie, since it was listed
            pass
    return found


async def test_dev_runs_a_worker_beside_the_server_says_when_it_stops_and_stops_it(fresh_database):
    env = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "RUNDA_WORKER_PARENT"}}
    env.update(DATABASE_URL=fresh_database, RUNDA_DEV="1", PORT=str(free_port()), LOG_LEVEL="WARNING")
    dev = subprocess.Popen([sys.executable, "-m", "backend", "dev", "--scale", "0.01"], env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = Lines(dev.stdout), Lines(dev.stderr)
    try:
        async def serving() -> bool:
            assert dev.poll() is None, err.text()
            return "A worker runs the background jobs" in out.text()

        await eventually(serving, timeout=120)

        async def registered(count: int):
            async def check() -> bool:
                conn = await asyncpg.connect(fresh_database)
                try:
                    return await conn.fetchval("SELECT count(*) FROM procrastinate_workers") >= count
                finally:
                    await conn.close()
            return check

        await eventually(await registered(1))
        [first] = worker_children(dev)
        first.kill()  # the worker dies: dev says so and starts another

        async def restarted() -> bool:
            children = worker_children(dev)
            return "the background worker stopped" in err.text() and bool(children) and children[0].pid != first.pid

        await eventually(restarted)
        await eventually(await registered(2))
        [second] = worker_children(dev)

        dev.send_signal(signal.SIGINT)
        await asyncio.to_thread(dev.wait, timeout=60)
        assert not second.is_running() or second.status() == psutil.STATUS_ZOMBIE
        assert "Traceback" not in err.text()
    finally:
        if dev.poll() is None:
            dev.kill()
