"""Reading a visit: the order, what was recorded on it, its checklist, the device's history and
the order's open conflicts, in one query; the protocol; a visit's photo."""

from __future__ import annotations

import json
from datetime import date, datetime

from backend import db
from backend.accounts.service import Actor, staff_name
from backend.accounts.tables import Role
from backend.audit.service import record_patient_reads
from backend.db import Sql, raw
from backend.devices import service as devices
from backend.devices.tables import DEVICE_STATUS_LABELS, DeviceStatus
from backend.maintenance import service as maintenance
from backend.organisations.service import care_unit_name
from backend.patients import service as patients
from backend.sync import service as sync
from backend.workdays import today
from backend.workorders import service as workorders
from backend.workorders.service import REPAIR_TYPES, SLA_LABELS, WorkOrderNotFound, sla_state
from backend.workorders.tables import (
    EVENT_LABELS,
    NOT_COMPLETED_LABELS,
    OUTCOME_LABELS,
    STATUS_LABELS,
    TYPE_LABELS,
    NotCompletedReason,
    Outcome,
    WorkOrderStatus,
    WorkOrderType,
)

# While an order is in one of these, its technician records work on it.
RECORDING_STATUSES = ("planned", "in_progress", "paused")
NOTE_LABELS = {"fault_found": "Fel", "action_taken": "Åtgärd", "note": "Anteckning"}
PATIENT_FIELDS = ("given_name", "family_name", "street", "postal_code", "city", "phone", "door_code", "access_notes",
                  "site_contact")

# The whole visit in one round trip: the order with its device and patient, its record, the
# checklist, the device's history and the order's open conflicts, each placed by its owner.
_VISIT_SQL = """
SELECT w.id, w.number, w.type, w.status, w.channel, w.description, w.assignee, w.planned_date, w.window_start,
       w.window_end, w.version, w.received_at, w.start_due, w.finish_due, w.started_at, w.completed_at,
       w.cancelled_at, w.cancel_reason, w.outcome, w.not_completed_reason, w.message_to_orderer, w.follow_up_of,
       w.patient, w.device, w.updated_at, w.site_contact,
       w.plan_locked, w.technicians_needed, w.second_assignee, w.required_technician,
       d.individnummer, d.serial_number, d.device_status, d.in_service_date, d.expected_end_of_life,
       d.last_fu_date, d.next_fu_date, d.article_name, d.article_number, d.manufacturer,
       d.category_id, d.category_name, d.iso_code, d.fu_interval_days,
       p.given_name, p.family_name, p.street, p.postal_code, p.city, p.phone, p.door_code, p.access_notes,
       p.protected_identity, :orderer_name AS orderer_name, :care_unit_name AS care_unit_name,
       :assignee_name AS assignee_name, :follow_up_of_number AS follow_up_of_number,
       :parts AS parts, :times AS times, :notes AS notes, :photos AS photos, :events AS events,
       :answers AS answers, :decisions AS decisions, :checklist AS checklist, :history AS history,
       :conflicts AS conflicts
FROM (:order) w JOIN LATERAL (:device) d ON true LEFT JOIN LATERAL (:patient) p ON true
"""

# What the technician recorded on the order (this domain's own rows), each a JSON array by id.
_PARTS_SQL = """
(SELECT coalesce(json_agg(x ORDER BY x.id), '[]') FROM (
    SELECT pu.id, pu.quantity, pu.added_at, ar.article_number, ar.name, ar.manufacturer, :who AS who
    FROM part_used pu JOIN LATERAL (:article) ar ON true WHERE pu.work_order = :order) x)
"""
_TIMES_SQL = """
(SELECT coalesce(json_agg(x ORDER BY x.id), '[]') FROM (
    SELECT t.id, t.minutes, t.added_at, :who AS who FROM time_entry t WHERE t.work_order = :order) x)
"""
_NOTES_SQL = """
(SELECT coalesce(json_agg(x ORDER BY x.id), '[]') FROM (
    SELECT n.id, n.kind, n.text, n.added_at, :who AS who FROM work_note n WHERE n.work_order = :order) x)
"""
_PHOTOS_SQL = """
(SELECT coalesce(json_agg(x ORDER BY x.id), '[]') FROM (
    SELECT ph.id, ph.caption, ph.width, ph.height, ph.added_at, :who AS who
    FROM work_photo ph WHERE ph.work_order = :order) x)
"""


def _visit_query(work_order_id: int, organisation_id: int) -> Sql:
    order = raw("w.id")
    return Sql(
        _VISIT_SQL,
        order=workorders.order_row(work_order_id, organisation_id),
        device=devices.device_row(raw("w.device")),
        patient=patients.at_the_door(raw("w.patient")),
        orderer_name=staff_name(raw("w.orderer")),
        care_unit_name=care_unit_name(raw("w.care_unit")),
        assignee_name=staff_name(raw("w.assignee")),
        follow_up_of_number=workorders.order_number(raw("w.follow_up_of")),
        parts=Sql(_PARTS_SQL, who=staff_name(raw("pu.added_by")), article=devices.article_row(raw("pu.article")),
                  order=order),
        times=Sql(_TIMES_SQL, who=staff_name(raw("t.added_by")), order=order),
        notes=Sql(_NOTES_SQL, who=staff_name(raw("n.added_by")), order=order),
        photos=Sql(_PHOTOS_SQL, who=staff_name(raw("ph.added_by")), order=order),
        events=workorders.events_json(order),
        answers=maintenance.answers_json(order),
        decisions=maintenance.decisions_json(order),
        checklist=maintenance.checklist_json(order, raw("d.category_id")),
        history=workorders.device_history_json(raw("w.device")),
        conflicts=sync.open_conflicts_json(order),
    )


def _times(rows: list[dict], *keys: str) -> list[dict]:
    for row in rows:
        for key in keys:
            if row.get(key):
                row[key] = datetime.fromisoformat(row[key])
    return rows


_JSON_COLUMNS = {"parts", "times", "notes", "photos", "events", "answers", "decisions", "checklist", "history",
                 "conflicts"}


def _labelled(order: dict, on: date) -> dict:
    order["type_label"] = TYPE_LABELS[WorkOrderType(order["type"])]
    order["status_label"] = STATUS_LABELS[WorkOrderStatus(order["status"])]
    state = sla_state(order["status"], order["start_due"], order["finish_due"], order["started_at"] is not None, on)
    order["sla"], order["sla_label"] = state, SLA_LABELS[state]
    order["outcome_label"] = OUTCOME_LABELS[Outcome(order["outcome"])] if order["outcome"] else None
    order["not_completed_label"] = (NOT_COMPLETED_LABELS[NotCompletedReason(order["not_completed_reason"])]
                                    if order["not_completed_reason"] else None)
    order["is_fu"] = order["type"] == WorkOrderType.maintenance
    order["is_repair"] = order["type"] in REPAIR_TYPES or order["type"] == WorkOrderType.technical_review
    order["recording"] = order["status"] in RECORDING_STATUSES
    order["device_status_label"] = DEVICE_STATUS_LABELS[DeviceStatus(order["device_status"])]
    return order


def _record_from(row) -> dict:
    record = {key: json.loads(row[key]) for key in ("parts", "times", "notes", "photos", "events", "answers",
                                                    "decisions")}
    for key, stamp in (("parts", "added_at"), ("times", "added_at"), ("notes", "added_at"), ("photos", "added_at"),
                       ("events", "at"), ("answers", "answered_at"), ("decisions", "decided_at")):
        _times(record[key], stamp)
    for event in record["events"]:
        event["label"] = EVENT_LABELS.get(event["kind"], event["kind"])
    for note in record["notes"]:
        note["label"] = NOTE_LABELS[note["kind"]]
    record["minutes"] = sum(t["minutes"] for t in record["times"])
    return record


async def order_page_data(actor: Actor, work_order_id: int) -> dict:
    """The order, its record, its checklist, the device's history and the order's open conflicts
    (submissions kept for a person to resolve), in one query. No access check and no audit row:
    the caller decides who may see what."""
    row = await db.fetchrow(_visit_query(work_order_id, actor.organisation))
    if row is None:
        raise WorkOrderNotFound()
    order = _labelled({k: v for k, v in row.items() if k not in _JSON_COLUMNS}, today())
    record = _record_from(row)
    checklist = maintenance.parse_checklist(row["checklist"]) if order["is_fu"] else None
    state = maintenance.state_from(checklist, record["answers"], record["decisions"]) if checklist else None
    history = [h for h in workorders.parse_history(row["history"]) if h["id"] != order["id"]]
    conflicts = _times(json.loads(row["conflicts"]), "created_at")
    return {"order": order, "record": record, "checklist": checklist, "state": state, "history": history,
            "conflicts": conflicts}


async def visit(actor: Actor, work_order_id: int, *, audit_as: str = "visit") -> dict:
    """The visit page's data in one query (and the audit row), whatever the size of the history,
    the checklist or the record. A technician sees only orders assigned to them."""
    data = await order_page_data(actor, work_order_id)
    order = data["order"]
    if actor.role is Role.technician:
        if order["assignee"] != actor.id:
            raise WorkOrderNotFound()
        data["conflicts"] = [c for c in data["conflicts"] if c["staff_user"] == actor.id]  # their own
    if order["patient"]:
        await record_patient_reads(actor, [order["patient"]], audit_as)
    return data


async def protocol(actor: Actor, work_order_id: int) -> dict:
    """What was assessed and done on an order, linked from the device's history: the device,
    the checklist with the questions of its version, decisions, parts, time, notes, events.
    Nothing about the patient, so any technician or coordinator may read it."""
    data = await order_page_data(actor, work_order_id)
    for key in PATIENT_FIELDS:
        data["order"][key] = None
    if not (actor.role in (Role.coordinator, Role.admin) or data["order"]["assignee"] == actor.id):
        data["record"]["photos"] = []
    return data


async def photo(actor: Actor, photo_id: int) -> tuple[bytes, str]:
    """A photo's bytes, for the order's technician and the organisation's coordinators and admins."""
    row = await db.fetchrow(Sql(
        "SELECT ph.content, ph.content_type, w.assignee, w.patient FROM work_photo ph JOIN LATERAL (:order) w ON true "
        "WHERE ph.id = :id AND w.order_organisation = :org",
        order=workorders.order_brief(raw("ph.work_order")), id=photo_id, org=actor.organisation))
    if row is None or not (actor.role in (Role.coordinator, Role.admin)
                           or (actor.role is Role.technician and row["assignee"] == actor.id)):
        raise WorkOrderNotFound()
    # A photo of a patient's home is part of their record: its read is logged like the record's.
    if row["patient"] is not None:
        await record_patient_reads(actor, [row["patient"]], "photo")
    return row["content"], row["content_type"]
