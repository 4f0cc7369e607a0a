"""The board shows a repair's KPI clock (done within 5 working days) beside its own "Klart
senast" where the two differ, so an order on time by its 10-day clock is not shown as fine
when it has already missed the KPI the service level counts."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta

import pytest

from backend import db
from backend.workdays import STOCKHOLM, add_working_days, today, working_days_between
from tests.support.factories import add_device, add_work_order, delete_world, make_world
from tests.support.http import signed_in_client


@pytest.fixture
async def world(database):
    world = await make_world()
    yield world
    await delete_world(world)


async def order_received(world, working_days_ago: int, *, type: str = "repair_on_site", finish_in: int) -> str:
    device = await add_device(world, holder=None)
    order = await add_work_order(world, device, type=type, status="new")
    received = today()
    while working_days_between(received, today()) < working_days_ago:
        received -= timedelta(days=1)
    await db.execute(
        "UPDATE work_order SET received_at = $1, start_due = NULL, finish_due = $2 WHERE id = $3",
        datetime.combine(received, time(9), STOCKHOLM), add_working_days(received, finish_in), order)
    return await db.fetchval("SELECT number FROM work_order WHERE id = $1", order)


def row_of(page: str, number: str) -> str:
    return re.search(rf">{re.escape(number)}</a>.*?</tr>", page, re.S).group(0)


async def test_a_repair_on_time_by_its_own_clock_but_past_the_kpi_shows_both(app, world):
    missed = await order_received(world, 7, finish_in=10)
    fresh = await order_received(world, 0, finish_in=10)
    urgent = await order_received(world, 0, type="urgent_repair", finish_in=1)
    client = await signed_in_client(app, world.organisation, world.staff["coordinator"])
    try:
        board = (await client.get("/arbetsordrar/")).text
    finally:
        await client.aclose()
    assert "I tid" in row_of(board, missed) and "KPI missad" in row_of(board, missed)
    assert "KPI i tid" in row_of(board, fresh)
    assert f"KPI {add_working_days(today(), 5).isoformat()}" in row_of(board, fresh)
    assert "KPI" not in row_of(board, urgent)  # its own clock is stricter: one date is enough
