"""A `runda worker` killed (SIGKILL) in the middle of a generation run for real: its batch in
progress is undone, the job is put back once the worker's heartbeat is old, and the next worker
goes on from the last batch done. Every device due gets exactly one order, numbered without gaps."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import time

import pytest

from backend import db
from backend.jobs import queue, upkeep
from backend.maintenance import generation
from tests.integration.maintenance.test_fu_generation import TODAY, YEAR, devices_due_in, doubles, generated
from tests.integration.maintenance.test_fu_due_list import fu_schedule_of
from tests.support import job_tasks, slow_generation
from tests.support.factories import add_patient, delete_world, make_world
from tests.support.jobs import run_jobs


@pytest.fixture
async def world(database):
    world = await make_world()
    world.patient = await add_patient(world)
    world.schedule = await fu_schedule_of(world)
    yield world
    await delete_world(world)


async def job_of(run_id: int) -> dict:
    return dict(await db.fetchrow(
        "SELECT id, status::text AS status, attempts FROM procrastinate_jobs "
        "WHERE task_name = $1 AND (args->>'run_id')::int = $2", generation.TASK, run_id))


async def test_a_worker_killed_mid_run_leaves_the_rest_to_the_next_worker_without_doubles(world, database_url):
    devices = await devices_due_in(world, 12)
    run_id = await generation.create_run(world.organisation, YEAR, actor_id=world.staff["coordinator"],
                                         actor_name="Test coordinator")
    worker = subprocess.Popen(slow_generation.worker_command("--no-periodic", "--concurrency", "1"),
                              cwd=job_tasks.PROJECT_ROOT, env=job_tasks.worker_env(database_url),
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:  # until the worker has committed its first batch of three, and not the last
            assert worker.poll() is None, worker.stderr.read()
            assert time.monotonic() < deadline, "the worker did not start the run"
            run = await generation.run_page(world.organisation, run_id)
            if run["done_devices"] >= slow_generation.BATCH_DEVICES:
                break
            await asyncio.sleep(0.05)
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=20)

    killed = await generation.run_page(world.organisation, run_id)
    assert killed["state"] == "running" and 0 < killed["done_devices"] < len(devices)
    made_before = len(await generated(world))
    assert made_before == killed["created"] == killed["done_devices"]  # a batch in progress left nothing
    assert (await job_of(run_id))["status"] == "doing"

    # The queue's upkeep takes the worker for dead once its heartbeat is old, and puts the job back.
    await asyncio.sleep(1.2)
    async with queue.opened(db.DB.config["dsn"]):
        assert await upkeep.retry_stalled_jobs(1) >= 1
    assert (await job_of(run_id))["status"] == "todo"

    await run_jobs()  # the next worker (at the normal pace)
    done = await generation.run_page(world.organisation, run_id)
    assert (done["state"], done["created"], done["done_devices"], done["total_devices"]) == ("done", 12, 12, 12)
    assert (await job_of(run_id))["status"] == "succeeded"
    orders = await generated(world)
    assert {o["device"] for o in orders} == set(devices) and len(orders) == 12 and await doubles(world) == 0
    serials = sorted(int(o["number"].rsplit("-", 1)[1]) for o in orders)
    assert serials == list(range(serials[0], serials[0] + 12))  # numbered without gaps, the killed batch's too
