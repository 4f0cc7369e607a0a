"""No double booking, ever: fifty prescribers racing for one slot on fifty connections."""

import asyncio
from datetime import datetime, time

import asyncpg
import pytest

from backend.fittings import booking as booking_rules
from backend.fittings import service
from backend.fittings.availability import STOCKHOLM
from backend.piccolo_conf import DB


def local(*wall_clock: int) -> datetime:
    """A Stockholm wall-clock time (year, month, day, hour, minute) as an aware datetime."""
    return datetime(*wall_clock, tzinfo=STOCKHOLM)


NOW = local(2026, 9, 1, 8)
SLOT = local(2026, 9, 7, 9)
ATTEMPTS = 50


@pytest.fixture
async def fifty_connections(database):
    """Runda's pool swapped for one with a connection per attempt, all open before the race."""
    pool = await asyncpg.create_pool(database, min_size=ATTEMPTS, max_size=ATTEMPTS)
    previous, DB.pool = DB.pool, pool
    try:
        yield pool
    finally:
        DB.pool = previous
        await pool.close()


async def race(world) -> list[object]:
    patients = [await world.add_patient() for _ in range(ATTEMPTS)]
    prescribers = [world.prescriber, world.colleague] + [await world.add_prescriber() for _ in range(3)]
    start = asyncio.Event()

    async def attempt(i: int):
        await start.wait()
        return await world.book(SLOT, now=NOW, patient=patients[i], prescriber=prescribers[i % len(prescribers)])

    tasks = [asyncio.create_task(attempt(i)) for i in range(ATTEMPTS)]
    await asyncio.sleep(0)
    start.set()
    return await asyncio.gather(*tasks, return_exceptions=True)


def tally(results):
    booked = [r for r in results if isinstance(r, service.Booking)]
    refused = [r for r in results if isinstance(r, service.SlotTaken)]
    others = [r for r in results if not isinstance(r, (service.Booking, service.SlotTaken))]
    assert others == [], others
    return booked, refused


async def test_fifty_simultaneous_attempts_at_one_slot_give_one_booking_and_49_refusals(world, fifty_connections):
    await world.weekly([0], time(9), time(12), resources=(world.room,))
    results = await race(world)
    booked, refused = tally(results)
    assert len(booked) == 1 and len(refused) == ATTEMPTS - 1
    assert all(r.message == "Tiden hann bokas av någon annan" for r in refused)
    assert all(SLOT not in [s.starts_at for s in r.alternatives] for r in refused)
    assert all(r.alternatives for r in refused)
    rows = await DB.pool.fetchval(
        "SELECT count(*) FROM fitting_booking WHERE organisation = $1 AND status = 'booked'", world.organisation
    )
    assert rows == 1


async def test_the_database_alone_refuses_the_race_even_if_the_check_in_code_were_wrong(
    world, fifty_connections, monkeypatch
):
    """With the application's availability check switched off, every attempt reaches INSERT
    at the same time; only the exclusion constraints stand between them."""
    await world.weekly([0], time(9), time(12), resources=(world.room,))
    slot = (await world.slots(NOW, limit=1))[0]
    arrived = 0
    everyone_here = asyncio.Event()

    async def blind_check(**kwargs):
        nonlocal arrived
        arrived += 1
        if arrived == ATTEMPTS:
            everyone_here.set()
        await asyncio.wait_for(everyone_here.wait(), timeout=30)  # all 50 transactions are open
        return slot

    monkeypatch.setattr(booking_rules, "_claim_slot", blind_check)
    booked, refused = tally(await race(world))
    assert len(booked) == 1 and len(refused) == ATTEMPTS - 1


async def test_a_transaction_that_keeps_deadlocking_is_refused_in_swedish_not_a_crash(monkeypatch):
    attempts = 0

    async def always_deadlocks():
        nonlocal attempts
        attempts += 1
        raise asyncpg.exceptions.DeadlockDetectedError("deadlock detected")

    monkeypatch.setattr(booking_rules.random, "uniform", lambda a, b: 0.0)
    with pytest.raises(service.TryAgain, match="Försök igen"):
        await booking_rules._retrying(always_deadlocks)
    assert attempts == booking_rules._ATTEMPTS

