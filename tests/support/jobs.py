"""Running queued jobs in tests: a real procrastinate worker on the test database, in the test's
own process (`run_jobs`) or as a `runda worker` process beside a live server (`WorkerProcess`)."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import threading

from backend import db
from backend.jobs import queue
from tests.support.server import stop_process


async def run_jobs(*, concurrency: int = 1) -> None:
    """Run every job that is ready now (and any it defers that are ready too) with a real worker
    on the test database, and return when none is left."""
    await queue.run_until_empty(db.DB.config["dsn"], concurrency=concurrency)


async def finished_job(task_name: str, *, status: str = "succeeded", **args) -> int:
    """A job that a worker has run to `status` (succeeded or failed), as the queue records it, without
    running it: for pages that show jobs."""
    async with db.transaction():  # no worker sees it waiting
        job_id = await queue.defer(task_name, **args)
        await db.execute("UPDATE procrastinate_jobs SET status = 'doing' WHERE id = $1", job_id)
    await db.execute("SELECT procrastinate_finish_job_v1($1, $2::procrastinate_job_status, false)", job_id, status)
    return job_id


class WorkerProcess:
    """`runda worker` as a child process on a test database, as production runs it (no periodic
    jobs: a test decides what is queued). Started, it has said it is running; stopped, it has let
    its running jobs finish."""

    def __init__(self, database_url: str, *args: str, **env: str) -> None:
        self.args = ["--no-periodic", *args]
        self.env = {k: v for k, v in os.environ.items() if k not in {"RUNDA_DEV", "RUNDA_WORKER_PARENT"}}
        self.env.update(DATABASE_URL=database_url, SECRET_KEY=secrets.token_urlsafe(32), LOG_LEVEL="WARNING", **env)
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 30) -> None:
        self.process = subprocess.Popen([sys.executable, "-m", "backend", "worker", *self.args], env=self.env,
                                        stdout=subprocess.PIPE, text=True)  # its log: the test's stderr
        ready = threading.Event()
        threading.Thread(target=self._read, args=(ready,), daemon=True).start()
        if not ready.wait(timeout):
            self.process.kill()
            raise AssertionError(f"the worker did not start within {timeout:g} s")
        if self.process.poll() is not None:
            raise AssertionError(f"the worker exited ({self.process.returncode}); see its log")

    def _read(self, ready: threading.Event) -> None:
        assert self.process is not None and self.process.stdout is not None
        for line in self.process.stdout:
            if "worker running" in line:
                ready.set()
        ready.set()  # it exited

    def stop(self) -> None:
        stop_process(self.process, 40)
