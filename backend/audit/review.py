"""Access-log review (loggkontroll, HSLF-FS 2016:40 4 kap. 9–10 §§): searching the log, the
selections a written routine names, and reviews that document what was checked and found.

The access log sits below the patient register and the care relations (work orders, bookings,
fault reports), so what the selections need from them comes in as `Sources`, built by the caller
from those domains' exported queries (audit/routes.py `review_sources`), as `patients.scope` takes
its care relation. Every opening of the log is recorded here (`audit_log_use`), and the patients it
shows are access-logged like any other read of patient data.
"""

from __future__ import annotations

import json
import random
from dataclasses import asdict, dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import Callable
from zoneinfo import ZoneInfo

from backend import db
from backend.accounts import areas
from backend.accounts.service import Actor, staff_name, staff_row
from backend.accounts.tables import ROLE_LABELS, Role
from backend.audit.service import INTEGRATION_ROLE, record_patient_reads
from backend.db import Sql, raw
from backend.errors import DomainError
from backend.organisations import service as organisations

STOCKHOLM = ZoneInfo("Europe/Stockholm")
PAGE_SIZE = 50
# A review judges each flagged access by hand: more than this is a selection to narrow first.
MAX_REVIEW_ITEMS = 500
# A search counts its accesses up to this many, then says "more than".
COUNT_LIMIT = 10_000
# The longest period one search covers (the log keeps five years and more).
MAX_PERIOD_DAYS = 6 * 366

WHAT_LABELS = {
    "patient": "Patientuppgifter",
    "patient_record": "Patientjournal (Runda)",
    "patient_search": "Patientsökning",
    "visit": "Besök",
    "day_list": "Dagens besök",
    "planning_day": "Planering av dag",
    "device_card": "Hjälpmedelskort",
    "device_loans": "Hjälpmedlets lån",
    "device_register": "Hjälpmedelsregistret",
    "fault_queue": "Felanmälningar att ta emot",
    "fault_triage": "Felanmälan",
    "fault_report_photo": "Foto i felanmälan",
    "repair_order": "Reparationsbeställning",
    "fitting_booking": "Utprovning",
    "notice": "Avisering",
    "notice_batch": "Aviseringsutskick",
    "notice_proposals": "Förslag på aviseringar",
    "notice_send": "Skickade aviseringar",
    "notice_to_contact": "Att kontakta",
    "notice_letters": "Aviseringsbrev",
    "outbox_list": "Utkorgen",
    "outbox_message": "Meddelande i utkorgen",
    "sync_conflict": "Konflikt från telefonen",
    "photo": "Foto",
    "export": "Export",
    "log_review": "Loggkontroll",
    "log_extract": "Loggutdrag",
}

FLAG_LABELS = {
    "sample": "Stickprov",
    "no_relation": "Ingen vårdrelation",
    "protected": "Skyddad identitet",
    "off_hours": "Utanför arbetstid",
    "many_patients": "Många patienter på kort tid",
    "other_unit": "Annan enhet eller kommun",
    "same_family_name": "Samma efternamn (svag signal)",
}
SIGNALS = ("no_relation", "protected", "off_hours", "many_patients", "other_unit", "same_family_name")
REASON_LABELS = {"routine": "Återkommande stickprov", "suspicion": "Vid misstanke"}
VERDICT_LABELS = {"ok": "Utan anmärkning", "remark": "Med anmärkning"}
USE_LABELS = {"search": "Sökning i loggen", "review": "Granskning", "review_export": "Export av granskning",
              "extract": "Loggutdrag"}


def role_label(role: str) -> str:
    """The reader's role in Swedish (an integration has none of staff's)."""
    try:
        return ROLE_LABELS[Role(role)]
    except ValueError:
        return "Integration" if role == INTEGRATION_ROLE else role


class ReviewError(DomainError):
    """A refused search, review or verdict, with its Swedish message and field."""


class ReviewNotFound(Exception):
    """No such review in the actor's organisation."""


@dataclass(frozen=True)
class Sources:
    """What the selections need from the domains above the log, as their exported queries:
    `patient(id)` a row source with given_name, family_name, protected_identity, care_unit and
    cost_bearer; `care_relation(staff, patient, at, days)` a condition: a work order, booking,
    fault report or repair order linked the person to the patient within `days` of `at`."""

    patient: Callable[[Sql], Sql]
    care_relation: Callable[[Sql, Sql, Sql, int], Sql]


@dataclass(frozen=True)
class Search:
    """Which accesses: a period of Swedish local dates (both included) and optional filters."""

    period_from: date
    period_until: date
    patient: int | None = None
    staff_user: int | None = None
    care_unit: int | None = None
    what: str | None = None

    @classmethod
    def last_month(cls, today: date) -> Search:
        return cls(today - timedelta(days=30), today)

    def check(self) -> None:
        if self.period_from > self.period_until:
            raise ReviewError("Periodens första dag ligger efter den sista.", "fran")
        if (self.period_until - self.period_from).days > MAX_PERIOD_DAYS:
            raise ReviewError("Välj en period på högst sex år.", "fran")

    def bounds(self) -> tuple[datetime, datetime]:
        """The period in UTC: from local midnight of the first day to local midnight after the last."""
        low = datetime.combine(self.period_from, time(0), STOCKHOLM)
        high = datetime.combine(self.period_until + timedelta(days=1), time(0), STOCKHOLM)
        return low, high


@dataclass(frozen=True)
class Selection:
    """The selections of a written routine, each optional, combinable. A random sample narrows the
    accesses to a share of the staff (and one day); the signals are then combined with "any" or "all"."""

    sample_percent: int | None = None   # share of the staff, 1–100
    sample_day: date | None = None      # one day of the period
    sample_seed: int = 0                # makes the same sample again (kept with the review)
    signals: tuple[str, ...] = ()
    match: str = "any"                  # any | all
    day_starts: int = 7                 # working hours, Swedish local time
    day_ends: int = 18
    many_count: int = 20                # this many different patients …
    many_minutes: int = 10              # … within this many minutes
    relation_days: int = 30             # a care relation counts this long before and after

    @property
    def empty(self) -> bool:
        return self.sample_percent is None and self.sample_day is None and not self.signals

    def check(self, search: Search) -> None:
        if self.sample_percent is not None and not 1 <= self.sample_percent <= 100:
            raise ReviewError("Andelen personal i stickprovet ska vara 1–100 %.", "andel")
        if self.sample_day is not None and not search.period_from <= self.sample_day <= search.period_until:
            raise ReviewError("Stickprovets dag ska ligga inom perioden.", "dag")
        unknown = set(self.signals) - set(SIGNALS)
        if unknown:
            raise ReviewError("Välj urval i listan.", "urval")
        if self.match not in ("any", "all"):
            raise ReviewError("Välj om något eller alla urval ska gälla.", "kombination")
        if not (0 <= self.day_starts < self.day_ends <= 24):
            raise ReviewError("Arbetstiden ska börja före den slutar (hela timmar 0–24).", "arbetstid_fran")
        if not 2 <= self.many_count <= 10_000:
            raise ReviewError("Antalet patienter ska vara 2–10 000.", "manga_antal")
        if not 1 <= self.many_minutes <= 24 * 60:
            raise ReviewError("Tiden ska vara 1–1 440 minuter.", "manga_minuter")
        if not 0 <= self.relation_days <= 365:
            raise ReviewError("Vårdrelationens marginal ska vara 0–365 dagar.", "relation_dagar")

    def with_random_day(self, search: Search, rng: random.Random) -> Selection:
        """The sample's day drawn from the period (a routine's "one random day")."""
        span = (search.period_until - search.period_from).days
        return replace(self, sample_day=search.period_from + timedelta(days=rng.randint(0, span)))


def describe(search: Search, selection: Selection, names: dict | None = None) -> str:
    """The search and selection in words, as a review's documentation shows them."""
    names = names or {}
    parts = [f"Period {search.period_from.isoformat()}–{search.period_until.isoformat()}"]
    if search.patient:
        parts.append(f"patient {names.get('patient') or search.patient}")
    if search.staff_user:
        parts.append(f"personal {names.get('staff_user') or search.staff_user}")
    if search.care_unit:
        parts.append(f"vårdenhet {names.get('care_unit') or search.care_unit}")
    if search.what:
        parts.append(f"åtkomst {WHAT_LABELS.get(search.what, search.what)}")
    if selection.sample_percent is not None:
        parts.append(f"stickprov {selection.sample_percent} % av personalen")
    if selection.sample_day is not None:
        parts.append(f"stickprovsdag {selection.sample_day.isoformat()}")
    labels = []
    for signal in selection.signals:
        label = FLAG_LABELS[signal]
        if signal == "off_hours":
            label += f" (före {selection.day_starts:02d}, efter {selection.day_ends:02d} eller helg)"
        elif signal == "many_patients":
            label += f" (minst {selection.many_count} på {selection.many_minutes} min)"
        elif signal == "no_relation":
            label += f" (±{selection.relation_days} dagar)"
        labels.append(label)
    if len(labels) == 1:
        parts.append(labels[0])
    elif labels:
        parts.append(("något av: " if selection.match == "any" else "alla av: ") + ", ".join(labels))
    return "; ".join(parts)


def selection_json(search: Search, selection: Selection) -> str:
    data = {"search": asdict(search), "selection": asdict(selection)}
    return json.dumps(data, default=str, ensure_ascii=False)


# --- the query ---------------------------------------------------------------------------------


def _flag_sql(signal: str, selection: Selection, sources: Sources) -> Sql:
    if signal == "protected":
        return Sql("coalesce(p.protected_identity, false)")
    if signal == "off_hours":
        # Local time, so a read at 06:30 in summer (04:30 UTC) and in winter (05:30 UTC) both count.
        return Sql("(extract(isodow FROM a.at AT TIME ZONE 'Europe/Stockholm') >= 6 "
                   "OR extract(hour FROM a.at AT TIME ZONE 'Europe/Stockholm') < :starts "
                   "OR extract(hour FROM a.at AT TIME ZONE 'Europe/Stockholm') >= :ends)",
                   starts=selection.day_starts, ends=selection.day_ends)
    if signal == "many_patients":
        return Sql("(a.staff_user IS NOT NULL AND (SELECT count(DISTINCT b.patient) FROM audit_log b "
                   "WHERE b.staff_user = a.staff_user AND b.at > a.at - make_interval(mins => :minutes) "
                   "AND b.at <= a.at) >= :count)",
                   minutes=selection.many_minutes, count=selection.many_count)
    if signal == "other_unit":
        return Sql("((a.care_unit IS NOT NULL AND p.care_unit IS DISTINCT FROM a.care_unit) "
                   "OR (a.role = 'technician' AND :has_area AND NOT :covers))",
                   has_area=areas.has_area_sql(raw("a.staff_user")),
                   covers=areas.area_filter_sql(raw("a.staff_user"), raw("p.cost_bearer")))
    if signal == "same_family_name":
        return Sql("(s.name IS NOT NULL AND p.family_name IS NOT NULL AND "
                   "lower(regexp_replace(btrim(s.name), '^.*\\s', '')) = lower(btrim(p.family_name)))")
    if signal == "no_relation":
        return Sql("(a.staff_user IS NOT NULL AND NOT :related)",
                   related=sources.care_relation(raw("a.staff_user"), raw("a.patient"), raw("a.at"),
                                                 selection.relation_days))
    raise ValueError(signal)


def _where(organisation_id: int, search: Search, selection: Selection) -> Sql:
    low, high = search.bounds()
    conditions = [Sql("a.organisation = :org AND a.at >= :low AND a.at < :high", org=organisation_id,
                      low=low, high=high)]
    if search.patient:
        conditions.append(Sql("a.patient = :patient", patient=search.patient))
    if search.staff_user:
        conditions.append(Sql("a.staff_user = :staff", staff=search.staff_user))
    if search.care_unit:
        conditions.append(Sql("a.care_unit = :unit", unit=search.care_unit))
    if search.what:
        conditions.append(Sql("a.what = :what", what=search.what))
    if selection.sample_percent is not None:
        # The same share of the staff each time for the same seed: a review can be made again.
        conditions.append(Sql(
            "((hashtext(coalesce(a.staff_user::text, 't' || a.api_token::text) || ':' || :seed) & 2147483647) "
            "% 100) < :percent", seed=str(selection.sample_seed), percent=selection.sample_percent))
    if selection.sample_day is not None:
        day = Search(selection.sample_day, selection.sample_day).bounds()
        conditions.append(Sql("a.at >= :day_low AND a.at < :day_high", day_low=day[0], day_high=day[1]))
    text = " AND ".join(f":c{i}" for i in range(len(conditions)))
    return Sql(text, **{f"c{i}": c for i, c in enumerate(conditions)})


def _selected(organisation_id: int, search: Search, selection: Selection, sources: Sources) -> Sql:
    """Every access the search and selection find, with what flagged it, as a row source `x`."""
    flags = {signal: _flag_sql(signal, selection, sources) for signal in selection.signals}
    flag_columns = "".join(f", :f_{s} AS flag_{s}" for s in flags)
    if flags:
        joiner = " OR " if selection.match == "any" else " AND "
        signal_filter = "WHERE " + joiner.join(f"x.flag_{s}" for s in flags)
    else:
        signal_filter = ""
    return Sql(
        f"""
        SELECT x.* FROM (
            SELECT a.id, a.at, a.staff_user, a.api_token, a.role, a.care_unit, a.patient, a.what,
                   s.name AS staff_name, p.given_name, p.family_name, p.protected_identity{flag_columns}
            FROM audit_log a
            LEFT JOIN LATERAL (:staff) s ON true
            LEFT JOIN LATERAL (:patient) p ON true
            WHERE :where
        ) x {signal_filter}
        """,
        staff=staff_row(raw("a.staff_user")), patient=sources.patient(raw("a.patient")),
        where=_where(organisation_id, search, selection), **{f"f_{s}": f for s, f in flags.items()})


def _access(row, selection: Selection) -> dict:
    flags = [s for s in selection.signals if row[f"flag_{s}"]]
    if selection.sample_percent is not None or selection.sample_day is not None:
        flags.insert(0, "sample")
    return {
        "id": row["id"], "at": row["at"], "staff_user": row["staff_user"], "api_token": row["api_token"],
        "staff_name": row["staff_name"] or ("Integration" if row["api_token"] else None), "role": row["role"],
        "role_label": role_label(row["role"]),
        "care_unit": row["care_unit"], "patient": row["patient"],
        "patient_name": " ".join(n for n in (row["given_name"], row["family_name"]) if n),
        "protected_identity": bool(row["protected_identity"]), "what": row["what"],
        "what_label": WHAT_LABELS.get(row["what"], row["what"]), "flags": flags,
        "flag_labels": [FLAG_LABELS[f] for f in flags],
    }


async def record_use(actor: Actor, kind: str, detail: str = "", patient_id: int | None = None) -> None:
    """The log was opened: who, when, how (a search, a review, an export, an extract)."""
    await db.execute(
        "INSERT INTO audit_log_use (organisation, staff_user, kind, patient, detail) VALUES ($1, $2, $3, $4, $5)",
        actor.organisation, actor.id, kind, patient_id, detail[:2000])


async def search_log(actor: Actor, search: Search, selection: Selection, sources: Sources, page: int = 1) -> dict:
    """One page of the accesses found (newest first), the total, and the opening recorded: in
    audit_log_use, and as a read of every patient the page shows."""
    search.check()
    selection.check(search)
    selected = _selected(actor.organisation, search, selection, sources)
    async with db.transaction():
        rows = await db.fetch(Sql(":selected ORDER BY at DESC, id DESC LIMIT :limit OFFSET :offset",
                                  selected=selected, limit=PAGE_SIZE + 1, offset=(page - 1) * PAGE_SIZE))
        # Counted up to COUNT_LIMIT ("more than"): a month of a region's reads need not be counted
        # one by one to be paged. Without signals the count needs neither the staff nor the patient.
        counted = (Sql("SELECT count(*) FROM (:selected LIMIT :cap) n", selected=selected, cap=COUNT_LIMIT + 1)
                   if selection.signals else
                   Sql("SELECT count(*) FROM (SELECT 1 FROM audit_log a WHERE :where LIMIT :cap) n",
                       where=_where(actor.organisation, search, selection), cap=COUNT_LIMIT + 1))
        total = await db.fetchval(counted)
        found = [_access(r, selection) for r in rows[:PAGE_SIZE]]
        await record_use(actor, "search", describe(search, selection))
        await record_patient_reads(actor, [f["patient"] for f in found], "log_review")
    return {"accesses": found, "total": min(total, COUNT_LIMIT), "over_limit": total > COUNT_LIMIT,
            "more": len(rows) > PAGE_SIZE}


# --- reviews ---------------------------------------------------------------------------------


async def create_review(actor: Actor | None, organisation_id: int, reason: str, search: Search,
                        selection: Selection, sources: Sources) -> int:
    """A review of what the search and selection flag: every access copied as an item to judge.
    `actor` None: prepared by the monthly reminder (no reviewer yet)."""
    if reason not in REASON_LABELS:
        raise ReviewError("Välj varför granskningen görs.", "skal")
    search.check()
    selection.check(search)
    if selection.empty and not (search.patient or search.staff_user):
        raise ReviewError("Välj minst ett urval (stickprov eller signal), en patient eller en person.", "urval")
    selected = _selected(organisation_id, search, selection, sources)
    async with db.transaction():
        rows = await db.fetch(Sql(":selected ORDER BY at, id LIMIT :limit", selected=selected,
                                  limit=MAX_REVIEW_ITEMS + 1))
        if len(rows) > MAX_REVIEW_ITEMS:
            raise ReviewError(f"Urvalet ger fler än {MAX_REVIEW_ITEMS} åtkomster. Smalna av det (kortare period, "
                              "mindre stickprov eller fler urval som alla ska gälla).", "urval")
        review_id = await db.fetchval(
            """
            INSERT INTO audit_review (organisation, reviewer, reason, period_from, period_until, selection, selection_text)
            VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7) RETURNING id
            """,
            organisation_id, actor.id if actor else None, reason, search.period_from, search.period_until,
            selection_json(search, selection), describe(search, selection))
        items = [_access(r, selection) for r in rows]
        if items:
            await db.execute(
                """
                INSERT INTO audit_review_item (review, audit_id, at, staff_user, api_token, role, care_unit, patient,
                                               what, flags)
                SELECT $1, i.audit_id, i.at, i.staff_user, i.api_token, i.role, i.care_unit, i.patient, i.what,
                       string_to_array(i.flags, ',')
                FROM unnest($2::bigint[], $3::timestamptz[], $4::int[], $5::int[], $6::text[], $7::int[], $8::int[],
                            $9::text[], $10::text[])
                     AS i(audit_id, at, staff_user, api_token, role, care_unit, patient, what, flags)
                """,
                review_id, [i["id"] for i in items], [i["at"] for i in items], [i["staff_user"] for i in items],
                [i["api_token"] for i in items], [i["role"] for i in items], [i["care_unit"] for i in items],
                [i["patient"] for i in items], [i["what"] for i in items], [",".join(i["flags"]) for i in items])
        if actor is not None:
            await record_use(actor, "review", f"granskning {review_id}: {describe(search, selection)}")
    return review_id


async def reviews(organisation_id: int, limit: int = 200) -> list[dict]:
    """The organisation's reviews, newest first, with how many items and how many are judged."""
    rows = await db.fetch(
        Sql("""
        SELECT r.id, r.reason, r.period_from, r.period_until, r.selection_text, r.status, r.created_at, r.closed_at,
               r.reviewer, :reviewer_name AS reviewer_name, :closer_name AS closed_by_name,
               (SELECT count(*) FROM audit_review_item i WHERE i.review = r.id) AS item_count,
               (SELECT count(*) FROM audit_review_item i WHERE i.review = r.id AND i.verdict IS NOT NULL) AS judged,
               (SELECT count(*) FROM audit_review_item i WHERE i.review = r.id AND i.verdict = 'remark') AS remarks
        FROM audit_review r WHERE r.organisation = :org ORDER BY r.created_at DESC, r.id DESC LIMIT :limit
        """, org=organisation_id, limit=limit,
            reviewer_name=staff_name_sql("r.reviewer"), closer_name=staff_name_sql("r.closed_by")))
    return [_review_dict(r) for r in rows]


def staff_name_sql(column: str) -> Sql:
    return staff_name(raw(column))


def _review_dict(row) -> dict:
    review = dict(row)
    review["reason_label"] = REASON_LABELS[review["reason"]]
    review["status_label"] = "Avslutad" if review["status"] == "closed" else "Pågår"
    return review


async def review(actor: Actor, review_id: int, sources: Sources, *, record: str | None = "review") -> dict:
    """One review with its items (oldest access first). Opening it is recorded as a use of the log
    and a read of its patients, unless `record` is None (the caller records its own kind)."""
    row = await db.fetchrow(
        Sql("""
        SELECT r.id, r.reason, r.period_from, r.period_until, r.selection_text, r.status, r.created_at, r.closed_at,
               r.conclusion, r.reviewer, :reviewer_name AS reviewer_name, :closer_name AS closed_by_name,
               :org_name AS organisation_name
        FROM audit_review r WHERE r.id = :id AND r.organisation = :org
        """, id=review_id, org=actor.organisation, reviewer_name=staff_name_sql("r.reviewer"),
            closer_name=staff_name_sql("r.closed_by"), org_name=organisations.organisation_name(raw("r.organisation"))))
    if row is None:
        raise ReviewNotFound(review_id)
    items = await db.fetch(
        Sql("""
        SELECT i.id, i.audit_id, i.at, i.staff_user, i.api_token, i.role, i.care_unit, i.patient, i.what, i.flags,
               i.verdict, i.comment, i.judged_at, :staff_name AS staff_name, :judge_name AS judged_by_name,
               :unit_name AS care_unit_name, p.given_name, p.family_name, p.protected_identity
        FROM audit_review_item i LEFT JOIN LATERAL (:patient) p ON true
        WHERE i.review = :id ORDER BY i.at, i.id
        """, id=review_id, staff_name=staff_name_sql("i.staff_user"), judge_name=staff_name_sql("i.judged_by"),
            unit_name=organisations.care_unit_name(raw("i.care_unit")), patient=sources.patient(raw("i.patient"))))
    result = _review_dict(row)
    result["accesses"] = [{
        **dict(i), "patient_name": " ".join(n for n in (i["given_name"], i["family_name"]) if n),
        "staff_name": i["staff_name"] or ("Integration" if i["api_token"] else ""),
        "what_label": WHAT_LABELS.get(i["what"], i["what"]),
        "flag_labels": [FLAG_LABELS.get(f, f) for f in i["flags"]],
        "role_label": role_label(i["role"]),
        "verdict_label": VERDICT_LABELS.get(i["verdict"] or "", "Ej bedömd"),
    } for i in items]
    if record is not None:
        async with db.transaction():
            await record_use(actor, record, f"granskning {review_id}")
            await record_patient_reads(actor, [i["patient"] for i in result["accesses"]], "log_review")
    return result


async def judge(actor: Actor, review_id: int, item_id: int, verdict: str, comment: str) -> None:
    """An access judged: "utan anmärkning" (ok) or "med anmärkning" (remark, which needs a comment).
    A closed review is not changed."""
    if verdict not in VERDICT_LABELS:
        raise ReviewError("Välj utan eller med anmärkning.", "bedomning")
    comment = comment.strip()
    if verdict == "remark" and not comment:
        raise ReviewError("Skriv vad anmärkningen gäller.", "kommentar")
    async with db.transaction():
        status = await db.fetchval("SELECT status FROM audit_review WHERE id = $1 AND organisation = $2 FOR UPDATE",
                                   review_id, actor.organisation)
        if status is None:
            raise ReviewNotFound(review_id)
        if status == "closed":
            raise ReviewError("Granskningen är avslutad och kan inte ändras.", "bedomning")
        done = await db.execute(
            "UPDATE audit_review_item SET verdict = $3, comment = $4, judged_by = $5, judged_at = now() "
            "WHERE id = $2 AND review = $1", review_id, item_id, verdict, comment, actor.id)
        if done.endswith(" 0"):
            raise ReviewNotFound(review_id)
        await db.execute("UPDATE audit_review SET reviewer = coalesce(reviewer, $2) WHERE id = $1", review_id, actor.id)


async def close(actor: Actor, review_id: int, conclusion: str) -> None:
    """The review closed with its conclusion, once every access in it is judged."""
    conclusion = conclusion.strip()
    if not conclusion:
        raise ReviewError("Skriv granskningens slutsats.", "slutsats")
    async with db.transaction():
        row = await db.fetchrow(
            "SELECT status, (SELECT count(*) FROM audit_review_item i WHERE i.review = r.id AND i.verdict IS NULL) "
            "AS open_items FROM audit_review r WHERE r.id = $1 AND r.organisation = $2 FOR UPDATE",
            review_id, actor.organisation)
        if row is None:
            raise ReviewNotFound(review_id)
        if row["status"] == "closed":
            raise ReviewError("Granskningen är redan avslutad.", "slutsats")
        if row["open_items"]:
            raise ReviewError(f"{row['open_items']} åtkomster är inte bedömda än.", "slutsats")
        await db.execute(
            "UPDATE audit_review SET status = 'closed', conclusion = $2, closed_at = now(), closed_by = $3, "
            "reviewer = coalesce(reviewer, $3) WHERE id = $1", review_id, conclusion, actor.id)


async def open_reminders(organisation_id: int) -> list[dict]:
    """Reviews the monthly reminder prepared that nobody has taken up or closed yet."""
    return [r for r in await reviews(organisation_id, limit=50) if r["status"] == "open" and r["reviewer"] is None]


async def prepare_monthly_sample(organisation_id: int, month: date, sources: Sources, *,
                                 rng: random.Random | None = None, staff_percent: int = 10) -> int | None:
    """The routine's monthly review, prepared for a reviewer: ~10 % of the staff on one random day of
    `month`. None when that month's routine review exists already (the job may run twice)."""
    rng = rng or random.Random()
    first = month.replace(day=1)
    last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    async with db.transaction():
        await db.execute("SELECT pg_advisory_xact_lock(hashtext('audit_review_month'), $1)", organisation_id)
        if await db.fetchval("SELECT 1 FROM audit_review WHERE organisation = $1 AND reason = 'routine' "
                             "AND period_from = $2 AND period_until = $3", organisation_id, first, last):
            return None
        search = Search(first, last)
        selection = Selection(sample_percent=staff_percent, sample_seed=rng.randint(1, 2**31 - 1)).with_random_day(
            search, rng)
        try:
            return await create_review(None, organisation_id, "routine", search, selection, sources)
        except ReviewError:
            # Too many accesses on that day for one review: take a smaller share of the staff.
            selection = replace(selection, sample_percent=max(1, staff_percent // 5))
            return await create_review(None, organisation_id, "routine", search, selection, sources)


__all__ = [
    "FLAG_LABELS", "MAX_REVIEW_ITEMS", "PAGE_SIZE", "REASON_LABELS", "SIGNALS", "USE_LABELS", "VERDICT_LABELS",
    "WHAT_LABELS", "ReviewError", "ReviewNotFound", "Search", "Selection", "Sources", "close", "create_review",
    "describe", "judge", "open_reminders", "prepare_monthly_sample", "record_use", "review", "reviews",
    "search_log",
]


def _no_patient_facts(patient: Sql) -> Sql:
    return Sql("SELECT NULL::int AS organisation, NULL::text AS given_name, NULL::text AS family_name, "
               "NULL::text AS personal_number, NULL::boolean AS protected_identity, NULL::int AS care_unit, "
               "NULL::int AS cost_bearer")


def _no_relation_known(staff_user: Sql, patient: Sql, at: Sql, days: int) -> Sql:
    return Sql("TRUE")


# For a random sample alone (the monthly reminder's job, which sits below the patient register):
# a sample needs nothing from above, and the review's page reads the patients' names when shown.
SAMPLE_ONLY = Sources(patient=_no_patient_facts, care_relation=_no_relation_known)
