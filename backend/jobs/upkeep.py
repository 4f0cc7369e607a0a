"""The queue's own upkeep, run by its periodic tasks (tasks.py): a job left running by a worker
that died is queued again (or failed when it has no attempts left), and finished jobs are
forgotten after a while (failed ones kept longer, for the jobs page)."""

from __future__ import annotations

import logging

from procrastinate import exceptions
from procrastinate.jobs import Status

from backend.errors import DomainError
from backend.jobs import queue

log = logging.getLogger("runda.jobs")

# Finished jobs (done, cancelled, aborted) are kept this long; failed ones longer, since someone
# may still have to look into them. Their failures (job_failure) go with them.
KEEP_FINISHED_DAYS = 30
KEEP_FAILED_DAYS = 90


class WorkerStopped(DomainError):
    """What the jobs page says about an attempt whose worker died under it."""

    def __init__(self) -> None:
        super().__init__("Arbetsprocessen stannade mitt i jobbet (den stoppades eller datorn startades om).")


async def retry_stalled_jobs(seconds_since_heartbeat: float = queue.STALLED_AFTER_SECONDS) -> int:
    """Jobs running on a worker that has not given a sign of life for `seconds_since_heartbeat`
    (killed, its machine lost): each is queued again to run at once, or failed when its task
    retries no more (periodic jobs are not retried: the next tick runs them). Each gets a failure
    saying why. The queue needs to be open (a worker runs this). Returns how many were queued."""
    queue.app.perform_import_paths()  # every task known, wherever this runs (a worker has them already)
    manager = queue.app.job_manager
    queued = 0
    for job in await manager.get_stalled_jobs(seconds_since_heartbeat=seconds_since_heartbeat):
        assert job.id is not None
        task = queue.app.tasks.get(job.task_name)
        strategy = task.retry_strategy if task else None
        retry = strategy is not None and strategy.get_retry_decision(exception=WorkerStopped(), job=job) is not None
        try:
            if retry:
                await manager.retry_job(job)
            else:
                await manager.finish_job(job, status=Status.FAILED, delete_job=False)
        except exceptions.ConnectorException:  # another upkeep run got to it first
            continue
        queued += retry
        await queue.record_failure(job.id, job.task_name, job.attempts + 1, WorkerStopped())
        log.warning("stalled_job_recovered", extra={"task": job.task_name, "job": job.id, "queued_again": retry})
    return queued


async def prune_old_jobs() -> None:
    """Forget jobs finished more than KEEP_FINISHED_DAYS ago, failed ones after KEEP_FAILED_DAYS."""
    manager = queue.app.job_manager
    await manager.delete_old_jobs(nb_hours=KEEP_FINISHED_DAYS * 24, include_cancelled=True, include_aborted=True)
    await manager.delete_old_jobs(nb_hours=KEEP_FAILED_DAYS * 24, include_failed=True)
