"""A device's history of orders, and the queries other domains place in theirs (an order as a row,
its number, its events, the technician's care relation to a patient)."""

from __future__ import annotations

import json
from datetime import datetime

from backend import db
from backend.accounts.service import Actor, staff_name
from backend.db import Sql, raw
from backend.devices import schedules
from backend.devices import service as devices
from backend.workorders.rules import OPEN_STATUSES
from backend.workorders.tables import EVENT_LABELS, OUTCOME_LABELS, STATUS_LABELS, TYPE_LABELS, Outcome, WorkOrderStatus, WorkOrderType


# --- a device's history --------------------------------------------------------------------


def device_history_json(device: Sql, limit: int | None = None) -> Sql:
    """Every order on the device `device`, newest first (the latest `limit`), each with what
    happened, who and when, as one JSON array (a scalar subquery); `parse_history` reads it."""
    return Sql(
        """
        (SELECT coalesce(json_agg(h ORDER BY h.received_at DESC, h.id DESC), '[]') FROM (
            SELECT hw.id, hw.number, hw.type, hw.status, hw.description, hw.received_at, hw.completed_at,
                   hw.cancelled_at, hw.cancel_reason, hw.outcome, :assignee AS assignee_name,
                   (SELECT coalesce(json_agg(json_build_object('at', e.at, 'kind', e.kind, 'detail', e.detail,
                                                               'who', :who) ORDER BY e.id), '[]')
                    FROM work_order_event e WHERE e.work_order = hw.id) AS events
            FROM work_order hw WHERE hw.device = :device
            ORDER BY hw.received_at DESC, hw.id DESC LIMIT :limit) h)
        """,
        assignee=staff_name(raw("hw.assignee")), who=staff_name(raw("e.staff_user")), device=device, limit=limit)


def parse_history(raw_json: str) -> list[dict]:
    history = []
    for entry in json.loads(raw_json):
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


async def device_history(device_id: int, limit: int | None = None) -> list[dict]:
    """The orders on a device, newest first (the latest `limit`), each with its events (one query):
    the device card's history and what the coordinator sees deciding what a report needs."""
    return parse_history(await db.fetchval(Sql("SELECT :history", history=device_history_json(Sql(":id", id=device_id),
                                                                                          limit))))


# --- queries other domains place in theirs ---------------------------------------------


def order_row(work_order_id: int, organisation_id: int) -> Sql:
    """The work order (every column) in the organisation, as a row source: `FROM (:order) w`."""
    return Sql("SELECT * FROM work_order WHERE id = :id AND organisation = :org", id=work_order_id,
               org=organisation_id)


def order_number(work_order: Sql) -> Sql:
    """The order's number, AO-…, as a scalar subquery (NULL for NULL)."""
    return Sql("(SELECT number FROM work_order WHERE id = :order)", order=work_order)


def order_category(work_order: Sql) -> Sql:
    """The device category of the order's device, as a scalar subquery."""
    return Sql("(SELECT d.category_id FROM work_order w JOIN LATERAL (:device) d ON true WHERE w.id = :order)",
               device=devices.device_row(raw("w.device")), order=work_order)


def order_checklist_code(work_order: Sql) -> Sql:
    """The checklist code the order answers: its FU schedule's ("fu", the yearly service's, for an
    order made without one), as a scalar subquery."""
    # An alias of its own: the caller's `work_order` may name its query's `w`.
    return Sql("(SELECT :code FROM work_order w_cc WHERE w_cc.id = :order)",
               code=schedules.checklist_code_sql(raw("w_cc.fu_schedule")), order=work_order)


def order_brief(work_order: Sql) -> Sql:
    """The order's number, status, assignee and patient, as a row source: `JOIN LATERAL (:order) w ON true`."""
    return Sql("SELECT number, status, assignee, patient, organisation AS order_organisation FROM work_order "
               "WHERE id = :order", order=work_order)


def order_outcome(work_order: Sql) -> Sql:
    """How the order ended or stands, as a row source (`LEFT JOIN LATERAL (:order) w ON true`):
    number, status, outcome, not_completed_reason, cancel_reason, completed_at, cancelled_at,
    finish_due. No patient data."""
    return Sql("SELECT number, status, outcome, not_completed_reason, cancel_reason, completed_at, cancelled_at, "
               "finish_due FROM work_order WHERE id = :order", order=work_order)


def events_json(work_order: Sql) -> Sql:
    """What happened to the order, oldest first, as a JSON array (id, kind, detail, at, who)."""
    return Sql(
        """
        (SELECT coalesce(json_agg(x ORDER BY x.id), '[]') FROM (
            SELECT e.id, e.kind, e.detail, e.at, :who AS who FROM work_order_event e WHERE e.work_order = :order) x)
        """,
        who=staff_name(raw("e.staff_user")), order=work_order)


def technician_relation(actor: Actor, patient: Sql) -> Sql:
    """A care relation (patients.scope): an open order assigned to the technician names the patient."""
    return Sql("EXISTS (SELECT 1 FROM work_order w WHERE w.patient = :patient AND w.assignee = :me "
               "AND w.status = ANY(:open::text[]))",
               patient=patient, me=actor.id, open=[s.value for s in OPEN_STATUSES])


def recent_orders(patient: Sql, limit: int = 20) -> Sql:
    """The patient's latest orders, newest first, with the device's number, as a row source."""
    return Sql(
        """
        SELECT w.number, w.type, w.status, w.received_at, w.planned_date, w.finish_due, d.individnummer
        FROM work_order w JOIN LATERAL (:device) d ON true
        WHERE w.patient = :patient ORDER BY w.received_at DESC LIMIT :limit
        """,
        device=devices.device_row(raw("w.device")), patient=patient, limit=limit)


async def patients_recent_orders(patient_id: int) -> list[dict]:
    """The patient's latest orders with their type and status in words (for the patient's record;
    no access check: the caller's)."""
    return [{**dict(r), "type_label": TYPE_LABELS[WorkOrderType(r["type"])],
             "status_label": STATUS_LABELS[WorkOrderStatus(r["status"])]}
            for r in await db.fetch(recent_orders(Sql(":id", id=patient_id)))]
