"""How long a visit takes on site, per work-order type and device category.

Learned from the time technicians record (the median of completed orders of that type and
category over the last year, when there are at least LEARN_FROM of them), else the organisation's
default for the type and category, else its default for the type, else the built-in one below.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date, timedelta

from backend import db
from backend.db import Sql, raw
from backend.devices import service as devices
from backend.errors import DomainError
from backend.visits import service as visits
from backend.workdays import today as today_in_sweden
from backend.workorders import planning
from backend.workorders.tables import TYPE_LABELS, WorkOrderType

# Completed orders of a type and category needed before their recorded time is trusted.
LEARN_FROM = 5
LEARN_DAYS = 365
# Built-in time on site when nothing else is known (minutes).
BUILT_IN = {
    WorkOrderType.maintenance.value: 45,
    WorkOrderType.repair_on_site.value: 60,
    WorkOrderType.urgent_repair.value: 60,
    WorkOrderType.technical_review.value: 60,
    WorkOrderType.installation.value: 90,
    WorkOrderType.quick_service.value: 30,
    WorkOrderType.repair_hmc.value: 60,
    WorkOrderType.fitting.value: 60,
}
FALLBACK = 60


class DurationError(DomainError):
    pass


async def learned(organisation_id: int, since: date) -> dict[tuple[str, int], int]:
    """(type, category) -> median recorded minutes, where at least LEARN_FROM orders recorded time."""
    rows = await db.fetch(Sql(
        """
        SELECT x.type, x.category, percentile_disc(0.5) WITHIN GROUP (ORDER BY x.minutes) AS minutes
        FROM (SELECT c.type, d.category_id AS category, :minutes AS minutes
              FROM (:completed) c JOIN LATERAL (:device) d ON true) x
        WHERE x.minutes > 0 AND x.category IS NOT NULL
        GROUP BY x.type, x.category HAVING count(*) >= :least
        """,
        minutes=visits.recorded_minutes(raw("c.id")), completed=planning.completed_orders(organisation_id, since),
        device=devices.device_row(raw("c.device")), least=LEARN_FROM))
    return {(r["type"], r["category"]): int(r["minutes"]) for r in rows}


async def defaults(organisation_id: int) -> dict[tuple[str, int | None], int]:
    """The organisation's own defaults: (type, category or None for every category) -> minutes."""
    rows = await db.fetch("SELECT type, device_category, minutes FROM visit_duration WHERE organisation = $1",
                          organisation_id)
    return {(r["type"], r["device_category"]): r["minutes"] for r in rows}


# What recorded time says changes slowly (a median over a year), and reading it means going over
# every completed order of the year: each process keeps it for a while. The organisation's own
# defaults are read every time, so a change on /planering/besokstider shows at once.
LEARNED_TTL_S = 600.0
_learned_cache: dict[tuple[int, date], tuple[float, dict[tuple[str, int], int]]] = {}


async def estimator(organisation_id: int, *, today: date | None = None, fresh: bool = False
                    ) -> Callable[[str, int], int]:
    """(type, category id) -> minutes on site. One or two queries (the learned medians are kept
    LEARNED_TTL_S seconds; `fresh` reads them again); the answer is a plain function."""
    since = (today or today_in_sweden()) - timedelta(days=LEARN_DAYS)
    key = (organisation_id, since)
    cached = _learned_cache.get(key)
    if fresh or cached is None or cached[0] < time.monotonic():
        cached = (time.monotonic() + LEARNED_TTL_S, await learned(organisation_id, since))
        _learned_cache[key] = cached
    from_history = cached[1]
    own = await defaults(organisation_id)

    def minutes(type_: str, category: int | None) -> int:
        if category is not None and (type_, category) in from_history:
            return from_history[(type_, category)]
        if (type_, category) in own:
            return own[(type_, category)]
        if (type_, None) in own:
            return own[(type_, None)]
        return BUILT_IN.get(type_, FALLBACK)

    return minutes


# --- the register page ----------------------------------------------------------------------

PLANNED_TYPES = (WorkOrderType.maintenance, WorkOrderType.repair_on_site, WorkOrderType.urgent_repair,
                 WorkOrderType.technical_review, WorkOrderType.installation)


async def duration_rows(organisation_id: int) -> list[dict]:
    """Every default the organisation set (id, type, type_label, device_category, minutes)."""
    rows = await db.fetch("SELECT id, type, device_category, minutes FROM visit_duration WHERE organisation = $1 "
                          "ORDER BY type, device_category NULLS FIRST", organisation_id)
    return [{**dict(r), "type_label": TYPE_LABELS.get(WorkOrderType(r["type"]), r["type"])} for r in rows]


async def set_duration(organisation_id: int, type_: str, category_id: int | None, minutes: int | None,
                       known_categories: set[int]) -> None:
    """Set (or with minutes None, remove) a default time on site for a type and category."""
    if type_ not in {t.value for t in PLANNED_TYPES}:
        raise DurationError("Välj en typ av arbetsorder ur listan.", "type")
    if category_id is not None and category_id not in known_categories:
        raise DurationError("Välj en kategori ur listan.", "category")
    if minutes is None:
        await db.execute("DELETE FROM visit_duration WHERE organisation = $1 AND type = $2 "
                         "AND device_category IS NOT DISTINCT FROM $3", organisation_id, type_, category_id)
        return
    if not 5 <= minutes <= 600:
        raise DurationError("Tiden är 5–600 minuter.", "minutes")
    await db.execute(
        "INSERT INTO visit_duration (organisation, type, device_category, minutes) VALUES ($1, $2, $3, $4) "
        "ON CONFLICT (organisation, type, coalesce(device_category, 0)) DO UPDATE SET minutes = excluded.minutes",
        organisation_id, type_, category_id, minutes)
