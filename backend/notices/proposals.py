"""The visits to tell patients of, and sending the notices: a visit proposed is a generated FU
visit planned in the period that nobody has been told of at its present time, with the channel the
patient's preference gives (channels.route_for), flagged when it is less than two weeks away. A
send writes its notices (one batch) and defers the one job that sends them, in one transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from backend import db
from backend.accounts.service import Actor
from backend.audit.service import record_patient_reads
from backend.db import Sql, raw
from backend.jobs import queue
from backend.notices import letters
from backend.notices.channels import route_for
from backend.notices.errors import NoticeError
from backend.notices.tables import CHANNEL_LABELS, RECIPIENT_LABELS
from backend.organisations import service as organisations
from backend.patients import service as patients
from backend.workorders import notices as visits

PAGE_SIZE = 50
NOTICE_DAYS = 14  # the regional rule: the patient is told at least two weeks before the visit
DEFAULT_DAYS = 42  # the proposals' period by default: the coming six weeks
MAX_PERIOD_DAYS = 366
SEND_LIMIT = 2000  # at most this many visits in one send ("all in the selection")
SEND_TASK = "notices.send_batch"


@dataclass(frozen=True)
class ProposalFilter:
    since: date
    until: date
    cost_bearer: int | None = None  # the patient's municipality (or regional unit)

    @classmethod
    def default(cls, today: date) -> "ProposalFilter":
        return cls(today, today + timedelta(days=DEFAULT_DAYS))

    def check(self) -> "ProposalFilter":
        if self.until < self.since:
            raise NoticeError("Perioden måste sluta på eller efter sin första dag.", "till")
        if (self.until - self.since).days > MAX_PERIOD_DAYS:
            raise NoticeError("Välj en period på högst ett år.", "till")
        return self


def has_address(row) -> bool:
    return bool(row["street"] and row["postal_code"] and row["city"])


def _to_tell(organisation_id: int, wanted: ProposalFilter, only: list[int] | None = None) -> Sql:
    """The visits of the filter not yet told of at their present time, with the patient's contact."""
    return Sql(
        """
        SELECT v.id, v.number, v.version, v.planned_date, v.window_start, v.window_end, v.patient,
               p.given_name, p.family_name, p.street, p.postal_code, p.city, p.phone, p.email, p.notice_channel,
               p.protected_identity, p.cost_bearer
        FROM (:visits) v JOIN LATERAL (:contact) p ON true
        WHERE (:bearer::int IS NULL OR p.cost_bearer = :bearer)
          AND (:only::int[] IS NULL OR v.id = ANY(:only::int[]))
          AND NOT EXISTS (SELECT 1 FROM notice n WHERE n.work_order = v.id AND n.reason = 'visit'
                          AND n.planned_date = v.planned_date
                          AND coalesce(n.window_start, '00:00'::time) = coalesce(v.window_start, '00:00'::time))
        """,
        visits=visits.planned_fu_visits(organisation_id, wanted.since, wanted.until),
        contact=patients.notice_contact(raw("v.patient")), bearer=wanted.cost_bearer, only=only)


def _route(row) -> dict:
    route = route_for(preference=row["notice_channel"], phone=row["phone"], email=row["email"],
                      has_address=has_address(row), protected=row["protected_identity"])
    return {"recipient": route.recipient, "channel": route.channel, "manual": route.manual, "note": route.note}


def _proposal(row, today: date) -> dict:
    route = _route(row)
    return {
        "id": row["id"], "number": row["number"], "planned_date": row["planned_date"],
        "window_start": row["window_start"], "window_end": row["window_end"], "patient": row["patient"],
        "patient_name": f"{row['given_name']} {row['family_name']}", "protected": row["protected_identity"],
        "cost_bearer_name": row["cost_bearer_name"],
        "device": letters.device_words(row["category_name"], row["article_name"], row["individnummer"]),
        "technician": letters.first_name(row["assignee_name"]),
        **route, "channel_label": CHANNEL_LABELS[route["channel"]],
        "recipient_label": RECIPIENT_LABELS[route["recipient"]],
        # Less than two weeks away: too late to tell the patient as the rule says.
        "late": (row["planned_date"] - today).days < NOTICE_DAYS,
    }


async def proposals(actor: Actor, wanted: ProposalFilter, page: int, today: date) -> tuple[list[dict], int]:
    """One page of the visits to tell patients of, by day, and how many there are in all."""
    wanted = wanted.check()
    found = _to_tell(actor.organisation, wanted)
    total = await db.fetchval(Sql("SELECT count(*) FROM (:found) x", found=found))
    # The device, technician and municipality only for the page's rows.
    rows = await db.fetch(Sql(
        """
        SELECT x.*, f.individnummer, f.article_name, f.category_name, f.assignee_name,
               :bearer_name AS cost_bearer_name
        FROM (SELECT * FROM (:found) y ORDER BY y.planned_date, y.window_start NULLS LAST, y.id
              LIMIT :limit OFFSET :offset) x
        JOIN LATERAL (:facts) f ON true
        ORDER BY x.planned_date, x.window_start NULLS LAST, x.id
        """,
        found=found, limit=PAGE_SIZE, offset=(max(page, 1) - 1) * PAGE_SIZE, facts=visits.visit_facts(raw("x.id")),
        bearer_name=organisations.cost_bearer_name(raw("x.cost_bearer"))))
    await record_patient_reads(actor, [r["patient"] for r in rows], "notice_proposals")
    return [_proposal(r, today) for r in rows], total


@dataclass(frozen=True)
class Sent:
    batch: int | None
    notices: int  # created in this send
    manual: int  # of which a person must contact someone
    letters: int  # of which letters to print


async def send_notices(actor: Actor, order_ids: list[int] | None, wanted: ProposalFilter, today: date) -> Sent:
    """Tell the patients of the chosen visits (`order_ids`; None: every visit of the filter, at most
    SEND_LIMIT): the notices of one send, and the one job that sends them, in one transaction.
    A visit already told of at its present time (a second coordinator was quicker) is left out."""
    wanted = wanted.check()
    if order_ids is not None and not order_ids:
        raise NoticeError("Välj minst ett besök att avisera.", "order")
    async with db.transaction():
        rows = await db.fetch(Sql("SELECT * FROM (:found) x ORDER BY x.planned_date, x.id LIMIT :limit",
                                  found=_to_tell(actor.organisation, wanted, order_ids), limit=SEND_LIMIT))
        if not rows:
            raise NoticeError("Det finns inget kvar att avisera bland de valda besöken: de kan redan vara aviserade.",
                              "order")
        await record_patient_reads(actor, [r["patient"] for r in rows], "notice_send")
        batch = await db.fetchval("SELECT nextval('notice_batch')")
        routes = [_route(r) for r in rows]
        created = await db.fetch(
            """
            INSERT INTO notice (organisation, work_order, patient, cost_bearer, recipient, channel, reason, note,
                                planned_date, window_start, window_end, state, manual, batch, created_by)
            SELECT $1, t.work_order, t.patient, t.cost_bearer, t.recipient, t.channel, 'visit', t.note, t.day,
                   t.window_start, t.window_end, CASE WHEN t.manual THEN 'manual' ELSE 'queued' END, t.manual, $2, $3
            FROM unnest($4::int[], $5::int[], $6::int[], $7::text[], $8::text[], $9::text[], $10::date[],
                        $11::time[], $12::time[], $13::bool[])
                 AS t(work_order, patient, cost_bearer, recipient, channel, note, day, window_start, window_end, manual)
            ON CONFLICT (work_order, planned_date, (coalesce(window_start, '00:00'::time))) WHERE reason = 'visit'
            DO NOTHING
            RETURNING id, channel, manual
            """,
            actor.organisation, batch, actor.id, [r["id"] for r in rows], [r["patient"] for r in rows],
            [r["cost_bearer"] for r in rows], [x["recipient"] for x in routes], [x["channel"] for x in routes],
            [x["note"] for x in routes], [r["planned_date"] for r in rows], [r["window_start"] for r in rows],
            [r["window_end"] for r in rows], [x["manual"] for x in routes])
        if not created:
            raise NoticeError("Besöken har redan aviserats av någon annan.", "order")
        if any(not n["manual"] for n in created):
            await queue.defer(SEND_TASK, batch=batch, organisation_id=actor.organisation)
    return Sent(batch=batch, notices=len(created), manual=sum(1 for n in created if n["manual"]),
                letters=sum(1 for n in created if n["channel"] == "letter"))


async def resend_batch(actor: Actor, batch: int) -> int:
    """Send a batch's failed messages again (the queue gave up on them): returns how many."""
    async with db.transaction():
        failed = await db.fetchval("SELECT count(*) FROM notice WHERE organisation = $1 AND batch = $2 "
                                   "AND state = 'failed'", actor.organisation, batch)
        if not failed:
            raise NoticeError("Inget i utskicket har misslyckats: det finns inget att skicka igen.")
        await queue.defer(SEND_TASK, batch=batch, organisation_id=actor.organisation,
                          queueing_lock=f"{SEND_TASK}:{batch}")
    return failed


