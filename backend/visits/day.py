"""The technician's day kept on the phone: every page today's visits need without signal."""

from __future__ import annotations

from datetime import date

from backend import db
from backend.db import Sql, raw
from backend.devices import service as devices
from backend.workorders import service as workorders


async def day_ahead(actor_id: int, organisation_id: int, day: date) -> list[str]:
    """Every page the technician's visits on `day` need without signal: the day itself, each
    visit (with its checklist and the device's history), each device's card, the visit's
    photos and the parts list. The phone fetches and keeps them (see day.js)."""
    row = await db.fetchrow(Sql(
        """
        WITH day AS (
            SELECT w.id, w.position, d.individnummer FROM (:day) w JOIN LATERAL (:device) d ON true)
        SELECT coalesce((SELECT array_agg(id ORDER BY position) FROM day), '{}') AS orders,
               coalesce((SELECT array_agg(DISTINCT individnummer) FROM day), '{}') AS devices,
               coalesce((SELECT array_agg(ph.id ORDER BY ph.id) FROM work_photo ph JOIN day ON day.id = ph.work_order),
                        '{}') AS photos
        """,
        day=workorders.day_orders(actor_id, organisation_id, day), device=devices.device_row(raw("w.device"))))
    return (["/min-dag", "/besok/reservdelar"]
            + [f"/besok/{order_id}" for order_id in row["orders"]]
            + [f"/enheter/{number}" for number in row["devices"]]
            + [f"/foton/{photo_id}" for photo_id in row["photos"]])
