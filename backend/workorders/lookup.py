"""Finding an order by its number (AO-…), as other systems know it: the API's one order."""

from __future__ import annotations

from backend import db


async def order_id_by_number(organisation_id: int, number: str) -> int | None:
    """The id of the organisation's order with this number, None when it has none."""
    return await db.fetchval("SELECT id FROM work_order WHERE organisation = $1 AND number = $2",
                             organisation_id, number.strip().upper())
