"""Finding a device and its card: identity, status and full service history."""

from __future__ import annotations

import json
from datetime import date, datetime

from backend import db
from backend.db import Sql
from backend.accounts.service import Actor
from backend.audit.service import record_patient_reads
from backend.devices.tables import DEVICE_STATUS_LABELS, DeviceStatus
from backend.patients.service import may_see
from backend.workorders.service import EVENT_LABELS, OUTCOME_LABELS, STATUS_LABELS, TYPE_LABELS
from backend.workorders.tables import Outcome, WorkOrderStatus, WorkOrderType


class DeviceNotFound(Exception):
    pass


def normalise_individnummer(text: str) -> str:
    return "".join(text.split()).upper()


async def device_card(actor: Actor, individnummer: str) -> dict:
    """Everything on the device card. The holder's name shows only to those who may see
    the patient, and that read is audit-logged."""
    device = await db.fetchrow(
        """
        SELECT d.*, a.name AS article_name, a.article_number, a.manufacturer,
               k.name AS category_name, k.iso_code, k.fu_interval_days, b.name AS owner_name
        FROM device d JOIN article a ON a.id = d.article
        LEFT JOIN device_category k ON k.id = a.category
        LEFT JOIN cost_bearer b ON b.id = d.owner
        WHERE d.organisation = $1 AND d.individnummer = $2
        """,
        actor.organisation, normalise_individnummer(individnummer),
    )
    if device is None:
        raise DeviceNotFound()
    history = await device_history(device["id"])
    holder = None
    if device["holder"] is not None and await may_see(actor, device["holder"]):
        holder = await db.fetchrow(
            "SELECT id, given_name, family_name FROM patient WHERE id = $1", device["holder"]
        )
        await record_patient_reads(actor, [device["holder"]], "device_card")
    card = dict(device)
    card["device_status_label"] = DEVICE_STATUS_LABELS[DeviceStatus(card["status"])]
    return {"device": card, "history": history, "holder": dict(holder) if holder else None}


# The history of the device `{device}` as one JSON array, newest first: for embedding in a
# larger query (the visit page) or running alone (the device card).
HISTORY_JSON_SQL = """
(SELECT coalesce(json_agg(h ORDER BY h.received_at DESC, h.id DESC), '[]') FROM (
    SELECT hw.id, hw.number, hw.type, hw.status, hw.description, hw.received_at, hw.completed_at, hw.cancelled_at,
           hw.cancel_reason, hw.outcome, hs.name AS assignee_name,
           (SELECT coalesce(json_agg(json_build_object('at', e.at, 'kind', e.kind, 'detail', e.detail,
                                                       'who', p.name) ORDER BY e.id), '[]')
            FROM work_order_event e LEFT JOIN staff_user p ON p.id = e.staff_user
            WHERE e.work_order = hw.id) AS events
    FROM work_order hw LEFT JOIN staff_user hs ON hs.id = hw.assignee
    WHERE hw.device = {device}) h)
"""


async def device_history(device_id: int) -> list[dict]:
    """Every order on the device, newest first, each with what happened, who and when (one query)."""
    return parse_history(await db.fetchval(f"SELECT {HISTORY_JSON_SQL.format(device='$1')}", device_id))


def parse_history(raw: str) -> list[dict]:
    history = []
    for entry in json.loads(raw):
        entry["status_label"] = STATUS_LABELS[WorkOrderStatus(entry["status"])]
        entry["type_label"] = TYPE_LABELS[WorkOrderType(entry["type"])]
        entry["outcome_label"] = OUTCOME_LABELS[Outcome(entry["outcome"])] if entry["outcome"] else None
        for key in ("received_at", "completed_at", "cancelled_at"):
            if entry[key]:
                entry[key] = datetime.fromisoformat(entry[key])
        entry["events"] = [{**e, "at": datetime.fromisoformat(e["at"]), "label": EVENT_LABELS.get(e["kind"], e["kind"])}
                           for e in entry["events"]]
        history.append(entry)
    return history


async def spare_parts(organisation_id: int) -> list[dict]:
    """The articles that are spare parts (no device category), for the parts list on a visit."""
    rows = await db.fetch(
        "SELECT id, article_number, name, manufacturer FROM article "
        "WHERE organisation = $1 AND category IS NULL ORDER BY name, manufacturer",
        organisation_id,
    )
    return [dict(r) for r in rows]


async def set_status(device_id: int, status: str) -> str:
    """Change a device's status (joins the caller's transaction); returns the status it had."""
    DeviceStatus(status)
    return await db.fetchval(
        "UPDATE device d SET status = $2 FROM device old WHERE d.id = $1 AND old.id = d.id RETURNING old.status",
        device_id, status,
    )


async def set_fu_dates(device_id: int, last: date, next_due: date | None) -> None:
    """Record a completed FU and when the next one is due (joins the caller's transaction)."""
    await db.execute("UPDATE device SET last_fu_date = $2, next_fu_date = $3 WHERE id = $1", device_id, last, next_due)


# --- queries other domains place in theirs ---------------------------------------------

_DEVICE_COLUMNS = """
d.id AS device_id, d.organisation AS device_organisation, d.individnummer, d.serial_number,
d.status AS device_status, d.holder, d.owner, d.in_service_date, d.expected_end_of_life, d.last_fu_date,
d.next_fu_date, a.id AS article_id, a.name AS article_name, a.article_number, a.manufacturer,
a.category AS category_id, k.code AS category_code, k.name AS category_name, k.iso_code, k.fu_interval_days
"""


def device_row(device: Sql) -> Sql:
    """The device `device` (an id expression of the caller's query) with its article and category,
    as a row source: `JOIN LATERAL (:device) d ON true`. Columns: device_id, device_organisation,
    individnummer, serial_number, device_status, holder, owner, in_service_date,
    expected_end_of_life, last_fu_date, next_fu_date, article_id, article_name, article_number,
    manufacturer, category_id, category_code, category_name, iso_code, fu_interval_days."""
    return Sql(f"SELECT {_DEVICE_COLUMNS} FROM device d JOIN article a ON a.id = d.article "
               "LEFT JOIN device_category k ON k.id = a.category WHERE d.id = :device", device=device)


def devices_where(condition: Sql) -> Sql:
    """Every device (with article and category, the columns of `device_row`) for which
    `condition` holds; `condition` may use the aliases d (device), a (article), k (category)."""
    return Sql(f"SELECT {_DEVICE_COLUMNS} FROM device d JOIN article a ON a.id = d.article "
               "LEFT JOIN device_category k ON k.id = a.category WHERE :condition", condition=condition)

