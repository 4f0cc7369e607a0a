"""Safety notices' job: the work orders of a notice that names more units than a request should
make (the rules are in service.py)."""

from __future__ import annotations

from backend.jobs import queue
from backend.recalls import service


@queue.task(service.ORDERS_TASK, label="Skapa arbetsordrar för ett säkerhetsmeddelande")
async def create_orders(recall_id: int, organisation_id: int, actor_id: int | None = None) -> int:
    """The notice's remaining orders, from where a stopped job left off."""
    return await service.make_queued_orders(organisation_id, recall_id, actor_id)
