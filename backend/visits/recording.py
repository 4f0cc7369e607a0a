"""Every action a technician takes on a visit.

Changes to the order itself (start, pause, complete, could not complete) name the
`version` they were based on and are refused with VersionConflict when someone changed
the order meanwhile. What the technician records (checklist answers, parts, time, notes,
photos, safety decisions) is appended as rows of its own, so two people can never
overwrite each other; it is accepted while the order is open and assigned to them, and
(`late`) when a coordinator applies a submission that was kept as a conflict.
"""

from __future__ import annotations

from dataclasses import dataclass


from backend import db
from backend.accounts.service import Actor
from backend.devices import service as devices
from backend.devices.schedules import FU_CHECKLIST
from backend.maintenance import service as maintenance
from backend.notices import service as notices
from backend.photos import Photo
from backend.sync import service as sync
from backend.visits.page import RECORDING_STATUSES
from backend.workdays import today
from backend.workorders import follow_ups
from backend.workorders.service import (
    NOT_COMPLETED_LABELS,
    OUTCOME_LABELS,
    REPAIR_TYPES,
    NotOpen,
    WorkOrderError,
    WritesMissing,
    apply_change,
    check_version,
    create_work_order,
    lock_order,
    record_event,
)
from backend.workorders.tables import NotCompletedReason, Outcome, WorkOrderType
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
    cancels (makulerar) or reschedules it; the message for the orderer is stored on the order.

    An FU whose patient could not be reached is cancelled at once with that reason (the device is
    due again, and the due list says why), and the cost bearer is told instead of the patient."""
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
        why = f"{label}. {detail}".strip(" .")
        if order["type"] == WorkOrderType.maintenance and reason == NotCompletedReason.unreachable:
            await record_event(order["id"], actor.id, "not_completed", why)
            new_version = await follow_ups.cancel_unreachable(order, actor.id, why, message_to_orderer)
            await notices.tell_cost_bearer(order["organisation"], order["id"],
                                           f"{why}. Teknikerns meddelande: {message_to_orderer}")
            return new_version
        new_version = await apply_change(order, "status = 'not_completed', not_completed_reason = $2, message_to_orderer = $3",
                                 reason, message_to_orderer)
        await record_event(order["id"], actor.id, "not_completed", why)
        return new_version


async def complete_visit(actor: Actor, work_order_id: int, version: int, outcome: str | None,
                         expected_writes: int | None = None, follow_up: str = "") -> int:
    """Finish the visit. An FU needs every checklist item answered and a decision for every
    failed safety item, and sets the device's next FU date; a repair needs the action taken
    and an outcome, which sets the device's status.

    "Behöver uppföljning" (an FU's only outcome; a repair's among others) needs `follow_up`, what
    is to be followed up, and creates the follow-up order with it in the same transaction.

    `expected_writes` is how many changes the technician's phone had made to this visit before
    the completion: the visit is not finished while any of them has not arrived."""
    if outcome == Outcome.needs_follow_up and not follow_up:
        raise WorkOrderError("Beskriv vad som behöver följas upp.", "follow_up")
    async with db.transaction():
        order = await _change_status(actor, work_order_id, version, RECORDING_STATUSES)
        if expected_writes:
            arrived = await sync.writes_arrived(order["id"], actor.id)
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
            outcome = Outcome.needs_follow_up.value if outcome == Outcome.needs_follow_up else None
            if order["checklist_code"] == FU_CHECKLIST:  # the yearly service: the device's FU dates
                next_due = maintenance.next_fu_date(done_on, order["fu_interval_days"])
                await devices.set_fu_dates(order["device"], done_on, next_due)
                await record_event(order["id"], actor.id, "fu_done",
                                   f"Nästa FU {next_due.isoformat()}" if next_due else "")
            else:  # another schedule (a sling check): its next date follows from this order
                await record_event(order["id"], actor.id, "fu_done", "")
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
        detail = OUTCOME_LABELS[Outcome(outcome)] if outcome else ""
        if outcome == Outcome.needs_follow_up:
            created = await follow_ups.create_follow_up(order, actor.id, follow_up)
            detail += f": uppföljning {created['number']}"
        await record_event(order["id"], actor.id, "completed", detail)
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
        article = await devices.spare_part_id(actor.organisation, number)
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


async def attach_report_photo(work_order_id: int, actor_id: int, *, content: bytes, content_type: str,
                              width: int, height: int, caption: str) -> None:
    """The reporter's photo goes with the order, so the technician sees it with the visit's own."""
    await db.execute(
        "INSERT INTO work_photo (work_order, content, content_type, width, height, caption, added_by) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7)",
        work_order_id, content, content_type, width, height, caption, actor_id,
    )

