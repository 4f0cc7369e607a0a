"""One notice and the patient's answer, as the coordinator records it: "Tiden passar inte" moves
the visit (workorders.notices.move_visit) and the new time is proposed again; "Patienten vill
ringa upp", and every notice that needs a person, is on the list of whom to contact until someone
records that they did; and the field's "could not reach the patient" (tell_cost_bearer)."""

from __future__ import annotations

from datetime import date, time

from backend import db
from backend.accounts.service import Actor
from backend.audit.service import record_patient_reads
from backend.changes import service as changes
from backend.db import Sql, raw
from backend.notices.errors import NoticeError, NoticeNotFound
from backend.notices.outbox import message_of_notice
from backend.notices.proposals import PAGE_SIZE
from backend.notices.sends import listed, notice_rows
from backend.notices.tables import ANSWER_LABELS, STATE_LABELS
from backend.patients import service as patients
from backend.workorders import notices as visits
from backend.workorders.service import check_version, lock_order, order_row

FIELD_LABELS = {"answer": "Svar", "answer_note": "Anteckning", "state": "Status"}
FIELD_VALUES = {"answer": ANSWER_LABELS, "state": {s.value: label for s, label in STATE_LABELS.items()}}


async def notice(actor: Actor, notice_id: int) -> dict:
    """The notice with its visit, patient, message and the order's other notices: an audited read."""
    row = await db.fetchrow(notice_rows(Sql("n.id = :id AND n.organisation = :org", id=notice_id,
                                             org=actor.organisation)))
    if row is None:
        raise NoticeNotFound()
    found = listed(row)
    others = await db.fetch(Sql("SELECT * FROM (:rows) x ORDER BY x.created_at DESC, x.id DESC", rows=notice_rows(
        Sql("n.work_order = :order AND n.id <> :id", order=row["work_order"], id=notice_id))))
    found["others"] = [listed(r) for r in others]
    found["message"] = await message_of_notice(notice_id)
    found["history"] = await changes.history(actor.organisation, "notice", notice_id)
    found["to_contact"] = row["handled_at"] is None and (row["state"] == "manual" or row["answer"] == "call_back")
    found["movable"] = row["reason"] == "visit" and row["order_status"] in visits.NOT_YET_VISITED
    if row["patient"]:
        await record_patient_reads(actor, [row["patient"]], "notice")
    return found


async def _locked(actor: Actor, notice_id: int) -> dict:
    row = await db.fetchrow("SELECT id, work_order, reason, state, answer, answer_note, handled_at FROM notice "
                            "WHERE id = $1 AND organisation = $2 FOR UPDATE", notice_id, actor.organisation)
    if row is None:
        raise NoticeNotFound()
    return dict(row)


def _seen(notice: dict) -> dict:
    return {"answer": notice["answer"], "answer_note": notice["answer_note"], "state": notice["state"]}


async def _answer(actor: Actor, notice: dict, answer: str | None, note: str, *, handled: bool) -> None:
    before = _seen(notice)
    state = "handled" if handled and notice["state"] == "manual" else notice["state"]
    await db.execute(
        """
        UPDATE notice SET answer = $2, answer_note = $3, answered_at = now(), answered_by = $4, state = $5,
               handled_at = CASE WHEN $6::bool THEN now() END, handled_by = CASE WHEN $6 THEN $4::int END
        WHERE id = $1
        """, notice["id"], answer, note, actor.id, state, handled)
    await changes.record(actor.organisation, "notice", notice["id"], "changed", actor=actor.id, actor_name=actor.name,
                         before=before, after={"answer": answer, "answer_note": note, "state": state})


async def record_new_time(actor: Actor, notice_id: int, version: int, *, day: date, window_start: time,
                          window_end: time, today: date) -> int:
    """"Tiden passar inte": the visit moves to the time the patient asked for (its version goes up
    and the move is in the order's history), and the new time is proposed to be told of. Returns
    the order's new version."""
    async with db.transaction():
        found = await _locked(actor, notice_id)
        if found["reason"] != "visit":
            raise NoticeError("Aviseringen gäller inget planerat besök att flytta.")
        new_version = await visits.move_visit(actor, found["work_order"], version, day=day, window_start=window_start,
                                              window_end=window_end, today=today, why="Ny tid efter patientens svar")
        await _answer(actor, found, "moved", f"Ny tid {day.isoformat()} {window_start:%H:%M}–{window_end:%H:%M}",
                      handled=True)
        return new_version


async def record_call_back(actor: Actor, notice_id: int, version: int, note: str) -> None:
    """"Patienten vill ringa upp": the notice goes on the list of whom to contact. `version` is the
    order's as the coordinator saw it: an order changed meanwhile is refused."""
    async with db.transaction():
        found = await _locked(actor, notice_id)
        await check_version(await lock_order(actor, found["work_order"], assigned=False), version)
        await _answer(actor, found, "call_back", note, handled=False)


async def mark_contacted(actor: Actor, notice_id: int, note: str) -> None:
    """Someone talked to the cost bearer (or the patient): the notice leaves the list of whom to
    contact, with what was said."""
    if not note:
        raise NoticeError("Skriv kort vad ni kom överens om.", "note")
    async with db.transaction():
        found = await _locked(actor, notice_id)
        if found["handled_at"] is not None or not (found["state"] == "manual" or found["answer"] == "call_back"):
            raise NoticeError("Aviseringen väntar inte på någon kontakt.", "note")
        await _answer(actor, found, found["answer"], note, handled=True)


def _to_contact(organisation_id: int) -> Sql:
    return Sql("n.organisation = :org AND n.handled_at IS NULL AND (n.state = 'manual' OR n.answer = 'call_back')",
               org=organisation_id)


async def count_to_contact(actor: Actor) -> int:
    return await db.fetchval(Sql("SELECT count(*) FROM notice n WHERE :condition",
                                 condition=_to_contact(actor.organisation)))


async def to_contact(actor: Actor, page: int) -> tuple[list[dict], int]:
    """The notices a person must follow up ("Att kontakta"), oldest first, and how many in all."""
    condition = _to_contact(actor.organisation)
    total = await count_to_contact(actor)
    rows = await db.fetch(Sql("SELECT * FROM (:rows) x ORDER BY x.created_at, x.id LIMIT :limit OFFSET :offset",
                              rows=notice_rows(condition), limit=PAGE_SIZE, offset=(max(page, 1) - 1) * PAGE_SIZE))
    await record_patient_reads(actor, [r["patient"] for r in rows if r["patient"]], "notice_to_contact")
    return [listed(r) for r in rows], total


# --- from the field --------------------------------------------------------------------------


async def tell_cost_bearer(organisation_id: int, work_order_id: int, reason: str) -> None:
    """The field could not reach the patient (an FU visit): the order's cost bearer is to be
    contacted by a person, so the notice goes on the list of whom to contact with `reason`
    (Swedish, for the coordinator). The cost bearer is the patient's, or the device's owner when
    the order names no patient. Joins the caller's transaction."""
    row = await db.fetchrow(Sql(
        """
        SELECT v.id, v.patient, v.planned_date, v.window_start, v.window_end,
               coalesce(p.cost_bearer, v.device_owner) AS cost_bearer
        FROM (:order) o JOIN LATERAL (:visit) v ON true LEFT JOIN LATERAL (:contact) p ON true
        """,
        order=order_row(work_order_id, organisation_id), visit=visits.visit_facts(raw("o.id")),
        contact=patients.notice_contact(raw("v.patient"))))
    if row is None:
        raise NoticeNotFound()
    await db.execute(
        """
        INSERT INTO notice (organisation, work_order, patient, cost_bearer, recipient, channel, reason, note,
                            planned_date, window_start, window_end, state, manual)
        VALUES ($1, $2, $3, $4, 'cost_bearer', 'phone', 'unreachable', $5, $6, $7, $8, 'manual', true)
        """,
        organisation_id, row["id"], row["patient"], row["cost_bearer"], reason.strip()[:2000], row["planned_date"],
        row["window_start"], row["window_end"])


