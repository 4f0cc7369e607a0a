"""Route planning's jobs on the queue: each night, the past days' planned km are walked and kept
for the driving KPI (kpi.record_past_days), so its page never walks two years of routes itself."""

from __future__ import annotations

from backend.jobs import queue
from backend.organisations import service as organisations
from backend.routing import kpi
from backend.workdays import today


@queue.periodic("routing.record_route_days", cron="40 1 * * *", label="Spara körsträckor för dagar som varit")
async def record_route_days(timestamp: int) -> int:
    """Every organisation's technician-days before today, walked and kept (see kpi.record_past_days)."""
    kept = 0
    for organisation in await organisations.organisation_slugs():
        kept += await kpi.record_past_days(organisation["id"], today())
    return kept
