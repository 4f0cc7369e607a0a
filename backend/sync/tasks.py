"""Writes from the field, on the queue's schedule: old receipts of keyed writes are forgotten hourly."""

from __future__ import annotations

from backend.jobs import queue
from backend.sync import service


@queue.periodic("sync.prune_receipts", cron="17 * * * *", label="Rensa gamla kvitton på skrivningar från fältet")
async def prune_receipts(timestamp: int) -> int | None:
    """The queue runs one at a time; the service's own lock also keeps `runda prune-receipts`
    from running beside it."""
    return await service.prune_receipts()
