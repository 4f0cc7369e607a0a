"""The notices of a send and of a visit as the pages list them, the letters of a send as one PDF
to print, and marking them printed. A letter that goes to the cost bearer has no address of the
patient on it (visit_of)."""

from __future__ import annotations

import asyncio

from backend import db
from backend.accounts.service import Actor
from backend.audit.service import record_patient_reads
from backend.db import Sql, raw
from backend.notices import letters
from backend.notices.errors import NoticeError, NoticeNotFound
from backend.notices.proposals import PAGE_SIZE, has_address
from backend.notices.tables import ANSWER_LABELS, CHANNEL_LABELS, RECIPIENT_LABELS, STATE_LABELS
from backend.organisations import service as organisations
from backend.patients import service as patients
from backend.workdays import STOCKHOLM
from backend.workorders import notices as visits


def labels(notice: dict) -> dict:
    notice["state_label"] = STATE_LABELS.get(notice.get("state"), notice.get("state"))
    notice["channel_label"] = CHANNEL_LABELS.get(notice.get("channel"), notice.get("channel"))
    notice["recipient_label"] = RECIPIENT_LABELS.get(notice.get("recipient"), notice.get("recipient"))
    notice["answer_label"] = ANSWER_LABELS.get(notice.get("answer") or "")
    return notice


def notice_rows(condition: Sql) -> Sql:
    """Notices (n.*) with their visit, patient and cost bearer, for the condition on n."""
    return Sql(
        """
        SELECT n.*, f.number, f.version, f.status AS order_status, f.planned_date AS order_planned_date,
               f.window_start AS order_window_start, f.window_end AS order_window_end, f.individnummer,
               f.article_name, f.category_name, f.assignee_name,
               p.given_name, p.family_name, p.street, p.postal_code, p.city, p.phone, p.email, p.notice_channel,
               p.protected_identity, :bearer_name AS cost_bearer_name
        FROM notice n JOIN LATERAL (:facts) f ON true LEFT JOIN LATERAL (:contact) p ON true
        WHERE :condition
        """,
        facts=visits.visit_facts(raw("n.work_order")), contact=patients.notice_contact(raw("n.patient")),
        bearer_name=organisations.cost_bearer_name(raw("n.cost_bearer")), condition=condition)


def listed(row) -> dict:
    notice = labels(dict(row))
    notice["patient_name"] = f"{row['given_name']} {row['family_name']}" if row["given_name"] is not None else None
    notice["device"] = letters.device_words(row["category_name"], row["article_name"], row["individnummer"])
    return notice


async def batches(organisation_id: int, limit: int = 10) -> list[dict]:
    """The latest sends: when, how many notices, letters, failed and to contact."""
    rows = await db.fetch(
        """
        WITH latest AS (SELECT DISTINCT batch FROM notice WHERE organisation = $1 AND batch IS NOT NULL
                        ORDER BY batch DESC LIMIT $2)
        SELECT n.batch, min(n.created_at) AS created_at, count(*) AS notices,
               count(*) FILTER (WHERE n.channel = 'letter') AS letters,
               count(*) FILTER (WHERE n.state = 'failed') AS failed,
               count(*) FILTER (WHERE n.state = 'queued') AS queued,
               count(*) FILTER (WHERE n.state = 'manual') AS manual
        FROM notice n JOIN latest l ON l.batch = n.batch WHERE n.organisation = $1
        GROUP BY n.batch ORDER BY n.batch DESC
        """, organisation_id, limit)
    return [dict(r) for r in rows]


async def batch(actor: Actor, batch_id: int, page: int) -> tuple[dict, list[dict]]:
    """A send's totals and one page of its notices."""
    totals = await db.fetchrow(
        """
        SELECT min(created_at) AS created_at, count(*) AS notices,
               count(*) FILTER (WHERE channel = 'letter') AS letters,
               count(*) FILTER (WHERE channel = 'letter' AND state = 'to_print') AS to_print,
               count(*) FILTER (WHERE state = 'failed') AS failed,
               count(*) FILTER (WHERE state = 'queued') AS queued,
               count(*) FILTER (WHERE state = 'manual') AS manual
        FROM notice WHERE organisation = $1 AND batch = $2
        """, actor.organisation, batch_id)
    if not totals["notices"]:
        raise NoticeNotFound()
    rows = await db.fetch(Sql(
        "SELECT * FROM (:rows) x ORDER BY x.planned_date, x.id LIMIT :limit OFFSET :offset",
        rows=notice_rows(Sql("n.organisation = :org AND n.batch = :batch", org=actor.organisation, batch=batch_id)),
        limit=PAGE_SIZE, offset=(max(page, 1) - 1) * PAGE_SIZE))
    await record_patient_reads(actor, [r["patient"] for r in rows if r["patient"]], "notice_batch")
    return {"batch": batch_id, **dict(totals)}, [listed(r) for r in rows]


def visit_of(row, centre_name: str, centre_phone: str) -> letters.Visit:
    """A notice row (with its visit, patient and cost bearer) as the letters describe it. A letter
    that goes to the cost bearer instead has no address of the patient on it."""
    to_bearer = row["recipient"] == "cost_bearer"
    address = () if to_bearer or row["protected_identity"] or not has_address(row) else (
        row["street"], f"{row['postal_code']} {row['city']}")
    return letters.Visit(
        centre_name=centre_name, centre_phone=centre_phone, given_name=row["given_name"] or "",
        family_name=row["family_name"] or "", category_name=row["category_name"], article_name=row["article_name"],
        individnummer=row["individnummer"], day=row["planned_date"], window_start=row["window_start"],
        window_end=row["window_end"], technician_name=row["assignee_name"], address=address,
        cost_bearer_name=(row["cost_bearer_name"] or "Kostnadsbäraren") if to_bearer else None)


async def _letters(actor: Actor, condition: Sql, what: str) -> bytes:
    rows = await db.fetch(Sql("SELECT * FROM (:rows) x ORDER BY x.planned_date, x.id",
                              rows=notice_rows(Sql("n.organisation = :org AND n.channel = 'letter' AND :condition",
                                                    org=actor.organisation, condition=condition))))
    if not rows:
        raise NoticeNotFound()
    centre = await organisations.organisation(actor.organisation)
    await record_patient_reads(actor, [r["patient"] for r in rows if r["patient"]], what)
    written = [(letters.letter(visit_of(r, centre["name"], centre["phone"])), centre["name"], centre["phone"],
                (r["sent_at"] or r["created_at"]).astimezone(STOCKHOLM).date()) for r in rows]
    # A send's letters may be a thousand pages: made in a worker thread, not on the event loop.
    return await asyncio.to_thread(letters.render, written)


async def batch_letters(actor: Actor, batch_id: int) -> bytes:
    """Every letter of a send, one PDF to print."""
    return await _letters(actor, Sql("n.batch = :batch", batch=batch_id), "notice_letters")


async def notice_letter(actor: Actor, notice_id: int) -> bytes:
    """One notice's letter as a PDF (a letter lost in the post, printed again)."""
    return await _letters(actor, Sql("n.id = :id", id=notice_id), "notice_letter")


async def mark_printed(actor: Actor, batch_id: int, letters_seen: int) -> int:
    """The send's letters are printed: they leave the list of letters to print. `letters_seen` is
    how many the coordinator's page showed; a send that has more (or fewer) meanwhile is refused."""
    async with db.transaction():
        rows = await db.fetch("SELECT id FROM notice WHERE organisation = $1 AND batch = $2 AND channel = 'letter' "
                              "AND state = 'to_print' FOR UPDATE", actor.organisation, batch_id)
        if not rows:
            raise NoticeError("Det finns inga brev att skriva ut i utskicket.")
        if len(rows) != letters_seen:
            raise NoticeError("Utskicket har ändrats sedan sidan öppnades. Ladda om sidan och försök igen.")
        await db.execute("UPDATE notice SET state = 'printed' WHERE id = ANY($1::int[])", [r["id"] for r in rows])
        return len(rows)


