"""The numbers the HMC is judged on, and the size of what it looks after."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from backend import db
from backend.workorders.service import REPAIR_TYPES, repair_within_kpi

REPAIR_TARGET = 0.88


async def overview(organisation_id: int, today: date) -> dict:
    categories = await db.fetch(
        """
        SELECT k.name, k.iso_code, count(d.id) AS devices,
               count(d.id) FILTER (WHERE d.holder IS NOT NULL) AS on_loan,
               count(d.id) FILTER (WHERE d.next_fu_date < $2) AS fu_overdue
        FROM device_category k LEFT JOIN article a ON a.category = k.id LEFT JOIN device d ON d.article = a.id
        WHERE k.organisation = $1 GROUP BY k.id ORDER BY count(d.id) DESC
        """,
        organisation_id, today,
    )
    since = date(today.year - 1, today.month, 1)
    repairs = await db.fetch(
        """
        SELECT (received_at AT TIME ZONE 'Europe/Stockholm')::date AS received,
               (completed_at AT TIME ZONE 'Europe/Stockholm')::date AS completed
        FROM work_order
        WHERE organisation = $1 AND status = 'completed' AND type = ANY($2::text[]) AND completed_at >= $3
        """,
        organisation_id, [t.value for t in REPAIR_TYPES], since,
    )
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
        "categories": [dict(c) for c in categories],
        "repair_months": months,
        "repair_share": within / total if total else None,
        "repair_target": REPAIR_TARGET,
    }
