"""A technician's visit: what is needed at the door, and every action taken there.

Changes to the order itself (start, pause, complete, could not complete) name the
`version` they were based on and are refused with VersionConflict when someone changed
the order meanwhile. What the technician records (checklist answers, parts, time, notes,
photos, safety decisions) is appended as rows of its own, so two people can never
overwrite each other; it is accepted while the order is open and assigned to them, and
(`late`) when a coordinator applies a submission that was kept as a conflict.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime

from backend import db
from backend.accounts.service import Actor
from backend.accounts.tables import Role
from backend.audit.service import record_patient_reads
from backend.devices import service as devices
from backend.devices.tables import DEVICE_STATUS_LABELS, DeviceStatus
from backend.maintenance import service as maintenance
from backend.photos import Photo
from backend.sync import service as sync
from backend.workdays import today
from backend.workorders.service import (
    EVENT_LABELS,
    NOT_COMPLETED_LABELS,
    OUTCOME_LABELS,
    REPAIR_TYPES,
    STATUS_LABELS,
    TYPE_LABELS,
    NotOpen,
    WorkOrderError,
    WorkOrderNotFound,
    apply_change,
    check_version,
    create_work_order,
    lock_order,
    record_event,
    sla_state,
    SLA_LABELS,
    WritesMissing,
)
from backend.workorders.tables import NotCompletedReason, Outcome, WorkOrderStatus, WorkOrderType

# While an order is in one of these, its technician records work on it.
RECORDING_STATUSES = ("planned", "in_progress", "paused")
NOTE_LABELS = {"fault_found": "Fel", "action_taken": "Åtgärd", "note": "Anteckning"}
# The device's status after a completed repair, by outcome (None: unchanged).
STATUS_AFTER_OUTCOME = {
    Outcome.fixed: "in_use",
    Outcome.needs_follow_up: None,
    Outcome.taken_to_workshop: "in_repair",
    Outcome.replacement_left: "in_repair",  # the device goes to the workshop, a replacement stays
    Outcome.condemned: "condemned",
}
DEVICE_STATUS_WORDS = {"in_use": "i bruk", "out_of_use": "ur bruk", "in_repair": "på reparation",
                       "condemned": "utdömt"}


@dataclass(frozen=True)
class RepairReport:
    fault_found: str
    action_taken: str


# --- reading ---------------------------------------------------------------------------

_VISIT_SQL = """
SELECT w.id, w.number, w.type, w.status, w.channel, w.description, w.assignee, w.planned_date, w.window_start,
       w.window_end, w.version, w.received_at, w.start_due, w.finish_due, w.started_at, w.completed_at,
       w.cancelled_at, w.cancel_reason, w.outcome, w.not_completed_reason, w.message_to_orderer, w.follow_up_of,
       w.patient, w.device, w.updated_at, w.site_contact,
       d.individnummer, d.serial_number, d.status AS device_status, d.in_service_date, d.expected_end_of_life,
       d.last_fu_date, d.next_fu_date, a.name AS article_name, a.article_number, a.manufacturer,
       k.id AS category_id, k.name AS category_name, k.iso_code, k.fu_interval_days,
       p.given_name, p.family_name, p.street, p.postal_code, p.city, p.phone, p.door_code, p.access_notes,
       p.protected_identity, o.name AS orderer_name, u.name AS care_unit_name, s.name AS assignee_name,
       f.number AS follow_up_of_number
FROM work_order w JOIN device d ON d.id = w.device JOIN article a ON a.id = d.article
LEFT JOIN device_category k ON k.id = a.category LEFT JOIN patient p ON p.id = w.patient
LEFT JOIN staff_user o ON o.id = w.orderer LEFT JOIN care_unit u ON u.id = w.care_unit
LEFT JOIN staff_user s ON s.id = w.assignee LEFT JOIN work_order f ON f.id = w.follow_up_of
WHERE w.id = $1 AND w.organisation = $2
"""

# Everything recorded on an order, in one round trip.
_RECORD_SQL = """
SELECT
  (SELECT coalesce(json_agg(x ORDER BY x.id), '[]') FROM (
      SELECT pu.id, pu.quantity, pu.added_at, ar.article_number, ar.name, ar.manufacturer, s.name AS who
      FROM part_used pu JOIN article ar ON ar.id = pu.article JOIN staff_user s ON s.id = pu.added_by
      WHERE pu.work_order = $1) x) AS parts,
  (SELECT coalesce(json_agg(x ORDER BY x.id), '[]') FROM (
      SELECT t.id, t.minutes, t.added_at, s.name AS who FROM time_entry t JOIN staff_user s ON s.id = t.added_by
      WHERE t.work_order = $1) x) AS times,
  (SELECT coalesce(json_agg(x ORDER BY x.id), '[]') FROM (
      SELECT n.id, n.kind, n.text, n.added_at, s.name AS who FROM work_note n JOIN staff_user s ON s.id = n.added_by
      WHERE n.work_order = $1) x) AS notes,
  (SELECT coalesce(json_agg(x ORDER BY x.id), '[]') FROM (
      SELECT ph.id, ph.caption, ph.width, ph.height, ph.added_at, s.name AS who
      FROM work_photo ph JOIN staff_user s ON s.id = ph.added_by WHERE ph.work_order = $1) x) AS photos,
  (SELECT coalesce(json_agg(x ORDER BY x.id), '[]') FROM (
      SELECT e.id, e.kind, e.detail, e.at, s.name AS who FROM work_order_event e
      LEFT JOIN staff_user s ON s.id = e.staff_user WHERE e.work_order = $1) x) AS events,
  (SELECT coalesce(json_agg(x ORDER BY x.id), '[]') FROM (
      SELECT c.id, c.item_key, c.answer, c.measurement, c.comment, c.answered_at, s.name AS who
      FROM (SELECT DISTINCT ON (item_key) * FROM checklist_answer WHERE work_order = $1
            ORDER BY item_key, id DESC) c
      JOIN staff_user s ON s.id = c.answered_by) x) AS answers,
  (SELECT coalesce(json_agg(x ORDER BY x.id), '[]') FROM (
      SELECT sd.id, sd.item_key, sd.decision, sd.comment, sd.decided_at, s.name AS who,
             f.number AS follow_up_number
      FROM (SELECT DISTINCT ON (item_key) * FROM safety_decision WHERE work_order = $1
            ORDER BY item_key, id DESC) sd
      JOIN staff_user s ON s.id = sd.decided_by LEFT JOIN work_order f ON f.id = sd.follow_up_order) x) AS decisions
"""


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


# The whole visit in one round trip: the order, its record, the checklist and the device's history.
_VISIT_FULL_SQL = (
    _VISIT_SQL.replace(
        "\nFROM work_order w JOIN device d",
        ",\n" + _RECORD_SQL.strip().removeprefix("SELECT") + ",\n"
        + maintenance.CHECKLIST_JSON_SQL.format(order="w.id", category="a.category") + " AS checklist,\n"
        + devices.HISTORY_JSON_SQL.format(device="w.device") + " AS history,\n"
        + sync.OPEN_CONFLICTS_JSON_SQL.format(order="w.id") + " AS conflicts"
        + "\nFROM work_order w JOIN device d", 1)
)


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
    row = await db.fetchrow(_VISIT_FULL_SQL, work_order_id, actor.organisation)
    if row is None:
        raise WorkOrderNotFound()
    order = _labelled({k: v for k, v in row.items() if k not in _JSON_COLUMNS}, today())
    record = _record_from(row)
    checklist = maintenance.parse_checklist(row["checklist"]) if order["is_fu"] else None
    state = maintenance.state_from(checklist, record["answers"], record["decisions"]) if checklist else None
    history = [h for h in devices.parse_history(row["history"]) if h["id"] != order["id"]]
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


PATIENT_FIELDS = ("given_name", "family_name", "street", "postal_code", "city", "phone", "door_code", "access_notes",
                  "site_contact")


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


# --- changing the order ----------------------------------------------------------------


async def _change_status(actor: Actor, work_order_id: int, version: int, allowed: tuple[str, ...]) -> dict:
    order = await lock_order(actor, work_order_id)
    await check_version(order, version)
    if order["status"] not in allowed:
        raise NotOpen(order["status"])
    return order


async def start_visit(actor: Actor, work_order_id: int, version: int) -> int:
    async with db.transaction():
        order = await _change_status(actor, work_order_id, version, ("planned", "paused"))
        new_version = await apply_change(order, "status = 'in_progress', started_at = coalesce(started_at, now())")
        await record_event(order["id"], actor.id, "started", "" if order["status"] == "planned" else "Återupptaget")
        return new_version


async def pause_visit(actor: Actor, work_order_id: int, version: int, reason: str) -> int:
    async with db.transaction():
        order = await _change_status(actor, work_order_id, version, ("in_progress",))
        new_version = await apply_change(order, "status = 'paused'")
        await record_event(order["id"], actor.id, "paused", reason)
        return new_version


async def could_not_complete(actor: Actor, work_order_id: int, version: int, reason: str, detail: str,
                             message_to_orderer: str) -> int:
    """Patient not home, not reachable, or declined: the order goes back to the coordinator, who
    cancels (makulerar) or reschedules it; the message for the orderer is stored on the order."""
    try:
        label = NOT_COMPLETED_LABELS[NotCompletedReason(reason)]
    except ValueError:
        raise WorkOrderError("Välj varför besöket inte kunde utföras.", "reason") from None
    if reason == NotCompletedReason.other and not detail:
        raise WorkOrderError("Beskriv varför besöket inte kunde utföras.", "detail")
    if not message_to_orderer:
        raise WorkOrderError("Skriv ett meddelande till beställaren.", "message_to_orderer")
    async with db.transaction():
        order = await _change_status(actor, work_order_id, version, RECORDING_STATUSES)
        new_version = await apply_change(order, "status = 'not_completed', not_completed_reason = $2, message_to_orderer = $3",
                                 reason, message_to_orderer)
        await record_event(order["id"], actor.id, "not_completed", f"{label}. {detail}".strip(" ."))
        return new_version


async def complete_visit(actor: Actor, work_order_id: int, version: int, outcome: str | None,
                         expected_writes: int | None = None) -> int:
    """Finish the visit. An FU needs every checklist item answered and a decision for every
    failed safety item, and sets the device's next FU date; a repair needs the action taken
    and an outcome, which sets the device's status.

    `expected_writes` is how many changes the technician's phone had made to this visit before
    the completion: the visit is not finished while any of them has not arrived."""
    async with db.transaction():
        order = await _change_status(actor, work_order_id, version, RECORDING_STATUSES)
        if expected_writes:
            arrived = await db.fetchval(
                "SELECT count(*) FROM write_receipt WHERE work_order = $1 AND staff_user = $2", order["id"], actor.id)
            if arrived < expected_writes:
                raise WritesMissing(expected_writes - arrived)
        done_on = today()
        if order["type"] == WorkOrderType.maintenance:
            checklist = await maintenance.checklist_for_order(order["id"])
            if checklist is not None:
                state = await maintenance.checklist_state(order["id"], checklist)
                if state.unanswered:
                    n = len(state.unanswered)
                    raise WorkOrderError(
                        f"{n} {'punkt' if n == 1 else 'punkter'} i checklistan är inte besvarade.",
                        f"item-{state.unanswered[0].key}")
                if state.undecided:
                    raise WorkOrderError("Välj vad som görs med hjälpmedlet för varje underkänd säkerhetspunkt.",
                                         f"decision-{state.undecided[0].key}")
            outcome = None
            next_due = maintenance.next_fu_date(done_on, order["fu_interval_days"])
            await devices.set_fu_dates(order["device"], done_on, next_due)
            await record_event(order["id"], actor.id, "fu_done",
                               f"Nästa FU {next_due.isoformat()}" if next_due else "")
        else:
            try:
                chosen = Outcome(outcome or "")
            except ValueError:
                raise WorkOrderError("Välj resultat av besöket.", "outcome") from None
            if order["type"] in REPAIR_TYPES and not await db.fetchval(
                    "SELECT EXISTS (SELECT 1 FROM work_note WHERE work_order = $1 AND kind = 'action_taken')",
                    order["id"]):
                raise WorkOrderError("Beskriv vilken åtgärd som gjordes innan du slutför.", "action_taken")
            outcome = chosen.value
            status = STATUS_AFTER_OUTCOME[chosen]
            if status and status != order["device_status"]:
                await devices.set_status(order["device"], status)
                await record_event(order["id"], actor.id, "device_status",
                                   f"Hjälpmedlet är {DEVICE_STATUS_WORDS[status]}")
        new_version = await apply_change(order, "status = 'completed', outcome = $2, completed_at = now(), "
                                        "started_at = coalesce(started_at, now())", outcome)
        await record_event(order["id"], actor.id, "completed",
                           OUTCOME_LABELS[Outcome(outcome)] if outcome else "")
        return new_version


# --- recording work (append-only rows) -------------------------------------------------


async def _recordable(actor: Actor, work_order_id: int, late: bool) -> dict:
    """The order, locked, while its technician records work on it.

    `late`: a submission kept as a conflict and applied afterwards by a coordinator
    (backend/sync/conflicts.py). The work was done, so it is recorded as the technician's
    whoever has the order now and whatever its status."""
    order = await lock_order(actor, work_order_id, assigned=not late)
    if not late and order["status"] not in RECORDING_STATUSES:
        raise NotOpen(order["status"])
    return order


async def save_checklist(actor: Actor, work_order_id: int, answers: list[maintenance.Answer],
                         decisions: dict[str, tuple[str, str]] | None = None, *, late: bool = False) -> int:
    """Store the answers that changed; returns how many. Raises ChecklistError on a bad answer.

    `decisions` (item key → decision, comment) are made in the same submission for safety items
    failed in it, so a technician without signal can fill the whole checklist in one go; they
    are stored with the answers or not at all."""
    async with db.transaction():
        await _recordable(actor, work_order_id, late)
        checklist = await maintenance.checklist_for_order(work_order_id)
        if checklist is None:
            raise WorkOrderError("Det finns ingen checklista för den här typen av hjälpmedel.")
        state = await maintenance.checklist_state(work_order_id, checklist)
        saved = await maintenance.save_answers(work_order_id=work_order_id, checklist=checklist, answers=answers,
                                               actor_id=actor.id, current=state)
        failed_now = {a.item_key for a in answers if a.answer == "fail"}
        for item_key, (decision, comment) in (decisions or {}).items():
            if item_key in failed_now and item_key not in state.decisions:
                await decide_on_safety_item(actor, work_order_id, item_key, decision, comment, late=late)
        return saved


async def decide_on_safety_item(actor: Actor, work_order_id: int, item_key: str, decision: str,
                                comment: str, *, late: bool = False) -> str | None:
    """What happens after a failed safety item: out of use, repaired on the spot, or a follow-up
    repair order. The device's status follows. Returns the follow-up order's number, if any."""
    if decision not in maintenance.DECISION_LABELS:
        raise WorkOrderError("Välj vad som görs med hjälpmedlet.", f"decision-{item_key}")
    async with db.transaction():
        order = await _recordable(actor, work_order_id, late)
        checklist = await maintenance.checklist_for_order(work_order_id)
        state = await maintenance.checklist_state(work_order_id, checklist) if checklist else None
        item = checklist.item(item_key) if checklist else None
        if state is None or item is None or item not in state.failed_safety_items:
            raise WorkOrderError("Punkten är inte en underkänd säkerhetspunkt. Ladda om sidan.")
        follow_up = None
        if decision == "follow_up_order":
            answer = state.answers[item_key]
            follow_up = await create_work_order(
                organisation_id=order["organisation"], type=WorkOrderType.repair_on_site.value,
                device_id=order["device"], channel="hmc", actor_id=actor.id, patient_id=order["patient"],
                description=f"Underkänd säkerhetspunkt vid FU {order['number']}: {item.text}. "
                            f"{answer['comment']} {comment}".strip(),
                follow_up_of=order["id"],
            )
        await maintenance.record_decision(work_order_id=order["id"], item_key=item_key, decision=decision,
                                          comment=comment, actor_id=actor.id,
                                          follow_up_order_id=follow_up["id"] if follow_up else None)
        detail = f"{item.text}: {maintenance.DECISION_LABELS[decision]}"
        if follow_up:
            detail += f" ({follow_up['number']})"
        await record_event(order["id"], actor.id, "safety_decision", detail)
        status = maintenance.STATUS_AFTER_DECISION[decision]
        if status != order["device_status"]:
            await devices.set_status(order["device"], status)
            await record_event(order["id"], actor.id, "device_status", f"Hjälpmedlet är {DEVICE_STATUS_WORDS[status]}")
        return follow_up["number"] if follow_up else None


def article_number_of(reference: str) -> str:
    """The article number at the start of what was typed or picked from the list
    ("123456 · Batteri 12 V" or just "123456")."""
    return reference.split("·", 1)[0].strip().split(" ", 1)[0] if reference else ""


async def add_part(actor: Actor, work_order_id: int, article_reference: str, quantity: int, *,
                   late: bool = False) -> None:
    if not 1 <= quantity <= 999:
        raise WorkOrderError("Antalet ska vara ett heltal från 1 till 999.", "quantity")
    number = article_number_of(article_reference)
    async with db.transaction():
        await _recordable(actor, work_order_id, late)
        article = await db.fetchval(
            "SELECT id FROM article WHERE organisation = $1 AND article_number = $2 AND category IS NULL",
            actor.organisation, number,
        )
        if article is None:
            raise WorkOrderError("Artikeln finns inte i reservdelslistan. Välj en artikel ur listan.", "article")
        await db.execute(
            "INSERT INTO part_used (work_order, article, quantity, added_by) VALUES ($1, $2, $3, $4)",
            work_order_id, article, quantity, actor.id,
        )


async def add_time(actor: Actor, work_order_id: int, minutes: int, *, late: bool = False) -> None:
    if not 1 <= minutes <= 24 * 60:
        raise WorkOrderError("Tiden ska vara mellan 1 och 1440 minuter.", "minutes")
    async with db.transaction():
        await _recordable(actor, work_order_id, late)
        await db.execute("INSERT INTO time_entry (work_order, minutes, added_by) VALUES ($1, $2, $3)",
                         work_order_id, minutes, actor.id)


async def add_report(actor: Actor, work_order_id: int, report: RepairReport, *, late: bool = False) -> None:
    """Fault found and action taken, each a note of its own."""
    if not report.fault_found and not report.action_taken:
        raise WorkOrderError("Beskriv felet eller åtgärden.", "fault_found")
    async with db.transaction():
        await _recordable(actor, work_order_id, late)
        for kind, text in (("fault_found", report.fault_found), ("action_taken", report.action_taken)):
            if text:
                await db.execute("INSERT INTO work_note (work_order, kind, text, added_by) VALUES ($1, $2, $3, $4)",
                                 work_order_id, kind, text, actor.id)


async def add_note(actor: Actor, work_order_id: int, text: str, *, late: bool = False) -> None:
    if not text:
        raise WorkOrderError("Skriv anteckningen.", "note")
    async with db.transaction():
        await _recordable(actor, work_order_id, late)
        await db.execute("INSERT INTO work_note (work_order, kind, text, added_by) VALUES ($1, 'note', $2, $3)",
                         work_order_id, text, actor.id)


async def add_photo(actor: Actor, work_order_id: int, photo: Photo, caption: str, *, late: bool = False) -> int:
    async with db.transaction():
        await _recordable(actor, work_order_id, late)
        return await db.fetchval(
            "INSERT INTO work_photo (work_order, content, content_type, width, height, caption, added_by) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
            work_order_id, photo.content, photo.content_type, photo.width, photo.height, caption, actor.id,
        )


async def photo(actor: Actor, photo_id: int) -> tuple[bytes, str]:
    """A photo's bytes, for the order's technician and the organisation's coordinators and admins."""
    row = await db.fetchrow(
        "SELECT ph.content, ph.content_type, w.assignee FROM work_photo ph JOIN work_order w ON w.id = ph.work_order "
        "WHERE ph.id = $1 AND w.organisation = $2",
        photo_id, actor.organisation,
    )
    if row is None or not (actor.role in (Role.coordinator, Role.admin)
                           or (actor.role is Role.technician and row["assignee"] == actor.id)):
        raise WorkOrderNotFound()
    return row["content"], row["content_type"]
