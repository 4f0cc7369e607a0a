"""The numbers the HMC is judged on, and the size of what it looks after."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from backend.devices import service as devices
from backend.workorders import service as workorders
from backend.workorders.service import REPAIR_TYPES, repair_within_kpi

REPAIR_TARGET = 0.88


async def overview(organisation_id: int, today: date) -> dict:
    categories = await devices.counts_by_category(organisation_id, today)
    since = date(today.year - 1, today.month, 1)
    repairs = await workorders.completed_between(organisation_id, REPAIR_TYPES, since)
    by_month: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for row in repairs:
        month = row["completed"].strftime("%Y-%m")
        by_month[month][1] += 1
        if repair_within_kpi(row["received"], row["completed"]):
            by_month[month][0] += 1
    months = [
        {"month": m, "within": w, "total": t, "share": w / t if t else None}
        for m, (w, t) in sorted(by_month.items())
    ]
    within = sum(m["within"] for m in months)
    total = sum(m["total"] for m in months)
    return {
        "categories": categories,
        "repair_months": months,
        "repair_share": within / total if total else None,
        "repair_target": REPAIR_TARGET,
    }
