"""Test data for notices: generated FU visits, the coordinator who tells patients of them, and a
send whose messages are made at once (the sending job's function called directly)."""

from __future__ import annotations

from datetime import date, timedelta

from backend import db
from backend.accounts.service import Actor
from backend.accounts.tables import Role
from tests.support.factories import add_work_order


def coordinator(world) -> Actor:
    return Actor(id=world.staff["coordinator"], organisation=world.organisation, name="Test coordinator",
                 role=Role.coordinator, care_unit=None)


async def add_fu_visit(world, device: int, patient: int, *, days_ahead: int = 20, assignee: str | None = "technician",
                       today: date | None = None) -> int:
    """A generated FU order (as FU generation makes them) planned `days_ahead` days from today, 08:00–10:00."""
    day = (today or date.today()) + timedelta(days=days_ahead)
    order = await add_work_order(world, device, assignee=world.staff[assignee] if assignee else None, planned=day,
                                 type="maintenance", patient=patient, description="FU: Förebyggande underhåll")
    await db.execute("UPDATE work_order SET channel = 'generated' WHERE id = $1", order)
    return order


async def send_and_make(world, orders: list[int]) -> tuple[int, int, int | None]:
    """Tell the patients of `orders` and make the messages: (the first notice, the batch, its message)."""
    from backend.notices import service, tasks

    today = date.today()
    sent = await service.send_notices(coordinator(world), orders, service.ProposalFilter(today, today + timedelta(days=365)),
                                      today)
    await tasks.send_batch(batch=sent.batch)
    notice = await db.fetchval("SELECT min(id) FROM notice WHERE batch = $1", sent.batch)
    message = await db.fetchval("SELECT id FROM outbound_message WHERE notice = $1", notice)
    return notice, sent.batch, message
