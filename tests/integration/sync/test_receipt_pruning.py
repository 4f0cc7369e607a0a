"""Receipts of keyed writes are forgotten after RECEIPT_KEEP_DAYS (90) by a periodic job the queue
runs hourly, one at a time; never before 30 days, whatever is asked; the conflicts kept for a
person are never touched."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from datetime import date

import asyncpg
import pytest

from backend import db
from backend.jobs import queue
from backend.sync import service as sync
from backend.sync import tasks as sync_tasks
from tests.support.factories import add_device, add_work_order, delete_world, make_world


@pytest.fixture
async def world(database):
    world = await make_world()
    world.order = await add_work_order(world, await add_device(world, holder=None),
                                       assignee=world.staff["technician"], planned=date.today())
    yield world
    await delete_world(world)


async def receipt(world, days_old: int) -> str:
    key = str(uuid.uuid4())
    await db.execute(
        "INSERT INTO write_receipt (key, organisation, staff_user, path, body_hash, status, location, work_order, "
        "created_at) VALUES ($1::uuid, $2, $3, $4, '\\x00', 303, $4, $5, now() - make_interval(days => $6))",
        key, world.organisation, world.staff["technician"], f"/besok/{world.order}/tid", world.order, days_old)
    return key


async def receipts_left(world) -> set[int]:
    """How old (in whole days) the world's remaining receipts are."""
    rows = await db.fetch("SELECT extract(day FROM now() - created_at)::int AS days FROM write_receipt "
                          "WHERE organisation = $1", world.organisation)
    return {r["days"] for r in rows}


async def test_the_job_forgets_receipts_older_than_90_days_and_keeps_the_rest(world):
    for days in (0, 29, 31, 89, 91, 400):
        await receipt(world, days)
    assert await sync.prune_receipts() >= 2
    assert await receipts_left(world) == {0, 29, 31, 89}


async def test_receipts_are_kept_at_least_30_days_whatever_is_asked(world):
    for days in (29, 31):
        await receipt(world, days)
    await sync.prune_receipts(days=1)
    assert await receipts_left(world) == {29}
    await sync.forget_old_receipts(days=0)
    assert await receipts_left(world) == {29}


async def test_conflicts_are_never_pruned(world):
    key = await receipt(world, 400)
    await db.execute(
        "INSERT INTO sync_conflict (organisation, staff_user, work_order, key, path, fields, message, created_at) "
        "VALUES ($1, $2, $3, $4::uuid, '/besok/1/tid', '{\"minutes\": \"30\"}', 'Ordern är makulerad.', "
        "now() - interval '400 days')",
        world.organisation, world.staff["technician"], world.order, key)
    await sync.prune_receipts(days=30)
    assert await receipts_left(world) == set()
    assert await db.fetchval("SELECT count(*) FROM sync_conflict WHERE key = $1::uuid", key) == 1


async def test_only_one_process_prunes_at_a_time(database_url, world):
    await receipt(world, 400)
    other_process = await asyncpg.connect(database_url)
    try:
        async with other_process.transaction():
            assert await other_process.fetchval(
                "SELECT pg_try_advisory_xact_lock(hashtextextended('runda:prune_receipts', 0))")
            assert await sync.prune_receipts() is None
            assert await receipts_left(world) == {400}
    finally:
        await other_process.close()
    await sync.prune_receipts()
    assert await receipts_left(world) == set()


def test_the_queue_runs_the_job_hourly_one_at_a_time():
    queue.app.perform_import_paths()
    [schedule] = [p for p in queue.app.periodic_registry.periodic_tasks.values()
                  if p.task.name == "sync.prune_receipts"]
    assert schedule.cron == "17 * * * *"
    assert (schedule.task.lock, schedule.task.queueing_lock) == ("sync.prune_receipts", "sync.prune_receipts")


async def test_the_periodic_task_prunes(world):
    await receipt(world, 91)
    await receipt(world, 89)
    assert await sync_tasks.prune_receipts(timestamp=0) >= 1
    assert await receipts_left(world) == {89}


async def test_runda_prune_receipts_forgets_what_the_job_would(database_url, world):
    await receipt(world, 91)
    await receipt(world, 89)
    env = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"}
    env.update(DATABASE_URL=database_url, RUNDA_DEV="1")
    result = subprocess.run([sys.executable, "-m", "backend", "prune-receipts"], env=env, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "older than 90 days removed" in result.stdout
    assert await receipts_left(world) == {89}
