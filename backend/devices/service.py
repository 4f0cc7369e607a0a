"""Finding a device and its card: identity, status and full service history."""

from __future__ import annotations

from backend import db
from backend.accounts.service import Actor
from backend.audit.service import record_patient_reads
from backend.devices.tables import DEVICE_STATUS_LABELS, DeviceStatus
from backend.patients.service import may_see
from backend.workorders.service import STATUS_LABELS, TYPE_LABELS
from backend.workorders.tables import WorkOrderStatus, WorkOrderType


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
    history = await db.fetch(
        """
        SELECT w.number, w.type, w.status, w.description, w.received_at, w.completed_at, w.cancelled_at,
               w.cancel_reason, w.outcome, s.name AS assignee_name
        FROM work_order w LEFT JOIN staff_user s ON s.id = w.assignee
        WHERE w.device = $1 ORDER BY w.received_at DESC
        """,
        device["id"],
    )
    holder = None
    if device["holder"] is not None and await may_see(actor, device["holder"]):
        holder = await db.fetchrow(
            "SELECT id, given_name, family_name FROM patient WHERE id = $1", device["holder"]
        )
        await record_patient_reads(actor, [device["holder"]], "device_card")
    card = dict(device)
    card["status_label"] = DEVICE_STATUS_LABELS[DeviceStatus(card["status"])]
    events = [{**dict(h), "status_label": STATUS_LABELS[WorkOrderStatus(h["status"])],
               "type_label": TYPE_LABELS[WorkOrderType(h["type"])]} for h in history]
    return {"device": card, "history": events, "holder": dict(holder) if holder else None}
