"""Background upkeep: a failing round is logged (without its message) and the next one runs;
the jobs stop with the server."""

from __future__ import annotations

import asyncio
import json
import logging

from backend.logs import JsonFormatter
from backend.periodic import Periodic, repeat, running


class FlakyJob:
    def __init__(self) -> None:
        self.rounds = 0

    async def __call__(self) -> int:
        self.rounds += 1
        if self.rounds == 1:
            raise ValueError("Astrid Lindqvist, Björkvägen 12, 19400101-1234")
        return 3


async def test_a_failing_round_is_logged_without_its_message_and_the_next_round_runs(caplog):
    job = FlakyJob()
    caplog.set_level(logging.INFO, logger="runda.periodic")
    task = asyncio.create_task(repeat(Periodic("flaky", job, 0.001), first_after=0))
    while job.rounds < 3:
        await asyncio.sleep(0.001)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    failed, *done = [r for r in caplog.records if r.name == "runda.periodic"]
    line = json.loads(JsonFormatter().format(failed))
    assert (line["event"], line["job"], line["error"]) == ("periodic_job_failed", "flaky", "ValueError")
    assert "Astrid" not in json.dumps(line) and "19400101" not in json.dumps(line)
    assert {(r.getMessage(), r.result) for r in done} == {("periodic_job_done", 3)}


async def test_the_jobs_stop_when_the_server_stops():
    job = FlakyJob()
    async with running([Periodic("flaky", job, 0.001)]):
        while job.rounds < 2:
            await asyncio.sleep(0.001)
    stopped_at = job.rounds
    await asyncio.sleep(0.01)
    assert job.rounds == stopped_at
