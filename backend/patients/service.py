"""Who may see which patient, and the patient's record. Every read is audit-logged."""

from __future__ import annotations

import re
from typing import Callable

from backend import db
from backend.accounts.service import Actor
from backend.accounts.tables import Role
from backend.audit.service import record_patient_reads
from backend.changes import service as changes
from backend.db import Sql, raw
from backend.errors import DomainError
from backend.organisations import service as organisations

SEARCH_LIMIT = 50


class PatientNotVisible(Exception):
    """The patient does not exist for this person: never say which of the two."""


# A care relation besides the register's own (a technician's open order naming the patient): given
# the patient's id expression, a condition. It lives in a domain above this one, so the caller passes it.
CareRelation = Callable[[Sql], Sql]


def _visible(actor: Actor, care_relation: CareRelation | None) -> Sql:
    """The condition on patient row `p` under which `actor` may see it.

    Coordinators and admins see their organisation's patients, prescribers their care unit's.
    A technician sees a patient only through the care relation the caller passes; without
    one a technician sees nobody."""
    if actor.role in (Role.coordinator, Role.admin):
        return Sql("p.organisation = :org", org=actor.organisation)
    if actor.role is Role.prescriber:
        return Sql("p.organisation = :org AND p.care_unit = :unit", org=actor.organisation, unit=actor.care_unit)
    if actor.role is Role.technician and care_relation is not None:
        return Sql("p.organisation = :org AND :related", org=actor.organisation, related=care_relation(raw("p.id")))
    return Sql("FALSE")


def scope(actor: Actor, patient: Sql, care_relation: CareRelation | None = None) -> Sql:
    """A condition for another domain's query: may `actor` see the patient `patient` (an id expression)?"""
    return Sql("EXISTS (SELECT 1 FROM patient p WHERE p.id = :patient AND :visible)",
               patient=patient, visible=_visible(actor, care_relation))


async def may_see(actor: Actor, patient_id: int, care_relation: CareRelation | None = None) -> bool:
    return bool(await db.fetchval(Sql("SELECT 1 FROM patient p WHERE p.id = :id AND :visible", id=patient_id,
                                      visible=_visible(actor, care_relation))))


def _search_terms(query: str) -> tuple[str | None, str | None]:
    """A personnummer (digits, with or without century and dash) or name words."""
    digits = re.sub(r"[^0-9]", "", query)
    if len(digits) >= 10 and len(digits) == len(re.sub(r"[\s-]", "", query)):
        if len(digits) == 10:
            digits = ("19" if int(digits[:2]) > 26 else "20") + digits
        return f"{digits[:8]}-{digits[8:12]}", None
    words = " ".join(query.split())
    return None, words or None


async def search_patients(actor: Actor, query: str) -> list[dict]:
    """Patients the actor may see whose personnummer is the one typed, or whose name has the words
    typed in it (technicians search no register: they reach patients through their visits)."""
    personal_number, words = _search_terms(query)
    if not personal_number and (not words or len(words) < 2):
        return []
    rows = await db.fetch(Sql(
        """
        SELECT p.id, p.given_name, p.family_name, p.personal_number, p.birth_year, p.city,
               p.protected_identity, :unit_name AS care_unit_name
        FROM patient p
        WHERE :visible
          AND ((:pnr::text IS NOT NULL AND p.personal_number = :pnr)
               OR (:words::text IS NOT NULL AND (p.given_name || ' ' || p.family_name) ILIKE '%' || :words || '%'))
        ORDER BY p.family_name, p.given_name LIMIT :limit
        """,
        unit_name=organisations.care_unit_name(raw("p.care_unit")), visible=_visible(actor, None), pnr=personal_number, words=words, limit=SEARCH_LIMIT,
    ))
    result = [dict(r) for r in rows]
    await record_patient_reads(actor, [r["id"] for r in result], "patient_search")
    return result


async def patient_record(actor: Actor, patient_id: int, care_relation: CareRelation | None = None) -> dict:
    """The patient with their care unit and cost bearer: one audited read. The record page adds the
    devices they hold and their orders from those domains."""
    row = await db.fetchrow(Sql(
        """
        SELECT p.*, :unit_name AS care_unit_name, :bearer_name AS cost_bearer_name
        FROM patient p WHERE p.id = :id AND :visible
        """,
        unit_name=organisations.care_unit_name(raw("p.care_unit")),
        bearer_name=organisations.cost_bearer_name(raw("p.cost_bearer")), id=patient_id,
        visible=_visible(actor, care_relation),
    ))
    if row is None:
        raise PatientNotVisible()
    await record_patient_reads(actor, [patient_id], "patient_record")
    return dict(row)


async def patient_brief(actor: Actor, patient_id: int, what: str, care_relation: CareRelation | None = None) -> dict:
    """Name and personnummer of a patient the actor may see (e.g. to book for): one audited read."""
    row = await db.fetchrow(Sql(
        "SELECT p.id, p.given_name, p.family_name, p.personal_number FROM patient p WHERE p.id = :id AND :visible",
        id=patient_id, visible=_visible(actor, care_relation)))
    if row is None:
        raise PatientNotVisible()
    await record_patient_reads(actor, [patient_id], what)
    return dict(row)


# --- queries other domains place in theirs ---------------------------------------------


def at_the_door(patient: Sql) -> Sql:
    """What a visitor needs at the patient's door, as a row source (`LEFT JOIN LATERAL (:p) p ON
    true`): given_name, family_name, street, postal_code, city, phone, door_code, access_notes,
    protected_identity. No access check: the caller's query decides whose visit it is."""
    return Sql("SELECT given_name, family_name, street, postal_code, city, phone, door_code, access_notes, "
               "protected_identity FROM patient WHERE id = :patient", patient=patient)


def visible_names(actor: Actor, patient: Sql, care_relation: CareRelation | None = None) -> Sql:
    """The patient's id and names when `actor` may see them (no row otherwise), as a row source.
    The caller records the read in the access log."""
    return Sql("SELECT p.id, p.given_name, p.family_name FROM patient p WHERE p.id = :patient AND :visible",
               patient=patient, visible=_visible(actor, care_relation))


async def patient_contacts(actor: Actor, patient_ids: list[int], what: str) -> list[dict]:
    """Name, personnummer, phone and address of the organisation's patients `patient_ids`, for a
    record naming them that the actor may already see (a fitting booking): one audited read.
    The address is None for a protected identity (skyddade personuppgifter)."""
    rows = await db.fetch(
        "SELECT id, given_name, family_name, personal_number, phone, street, postal_code, city, "
        "protected_identity FROM patient WHERE id = ANY($1::int[]) AND organisation = $2",
        sorted(set(patient_ids)), actor.organisation,
    )
    await record_patient_reads(actor, [r["id"] for r in rows], what)
    return [
        {"id": r["id"], "name": f"{r['given_name']} {r['family_name']}", "personal_number": r["personal_number"],
         "phone": r["phone"] or "",
         "address": None if r["protected_identity"] else f"{r['street']}, {r['postal_code']} {r['city']}"}
        for r in rows
    ]


# --- how the patient is told of a visit (backend/notices) ------------------------------

NOTICE_CHANNELS = {"letter": "Brev", "sms": "SMS", "email": "E-post",
                   "none": "Ingen: kontakta kostnadsbäraren"}
NOTICE_FIELD_LABELS = {"notice_channel": "Avisering", "email": "E-post"}
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")


class NoticePreferenceRefused(DomainError):
    """The preferred channel or e-mail address cannot be kept as given; nothing was written."""


def notice_contact(patient: Sql) -> Sql:
    """What telling the patient of a visit needs, as a row source (`JOIN LATERAL (:p) p ON true`):
    given_name, family_name, street, postal_code, city, phone, email, notice_channel,
    protected_identity, cost_bearer. No access check: the caller's query decides."""
    return Sql("SELECT given_name, family_name, street, postal_code, city, phone, email, notice_channel, "
               "protected_identity, cost_bearer FROM patient WHERE id = :patient", patient=patient)


def check_notice_preference(channel: str | None, email: str) -> None:
    """Refuse an unknown channel, a malformed address, or e-mail without one (the register's page
    and the patient import both keep a preference only through this). `channel` None: not given."""
    if channel is not None and channel not in NOTICE_CHANNELS:
        raise NoticePreferenceRefused("Välj hur patienten vill bli aviserad.", "notice_channel")
    if email and (len(email) > 200 or not _EMAIL.match(email)):
        raise NoticePreferenceRefused("Skriv e-postadressen som namn@exempel.se.", "email")
    if channel == "email" and not email:
        raise NoticePreferenceRefused("Ange en e-postadress för avisering med e-post.", "email")


async def set_notice_preference(actor: Actor, patient_id: int, channel: str, email: str) -> bool:
    """Keep how the patient wants to be told of visits, with its change history; False when
    nothing changed. Refused: an unknown channel, a malformed address, e-mail without one."""
    email = email.strip()
    check_notice_preference(channel, email)
    async with db.transaction():
        row = await db.fetchrow(Sql("SELECT p.notice_channel, p.email FROM patient p WHERE p.id = :id AND :visible "
                                    "FOR UPDATE", id=patient_id, visible=_visible(actor, None)))
        if row is None:
            raise PatientNotVisible()
        after = {"notice_channel": channel, "email": email}
        if dict(row) == after:
            return False
        await db.execute("UPDATE patient SET notice_channel = $2, email = $3 WHERE id = $1", patient_id, channel, email)
        await changes.record(actor.organisation, "patient", patient_id, "changed", actor=actor.id,
                             actor_name=actor.name, before=dict(row), after=after)
        return True


async def notice_preference_history(organisation_id: int, patient_id: int) -> list:
    """The changes of the patient's notice preference, newest first (for the record page)."""
    return await changes.history(organisation_id, "patient", patient_id)


def home_place(patient: Sql) -> Sql:
    """Where the patient lives, for route planning and the driving KPI, as a row source (`LEFT JOIN
    LATERAL (:home) h ON true`): latitude, longitude (NULL when not known), city, cost_bearer (the
    home municipality) and protected_identity. No access check: the caller's query decides, and no
    street address: a route needs the point, not the address."""
    return Sql("SELECT latitude, longitude, city, cost_bearer, protected_identity FROM patient WHERE id = :patient",
               patient=patient)


def equal_access_traits(patient: Sql) -> Sql:
    """What the equal-access follow-up splits by (the reports' KPIs), as a row source (`LEFT JOIN
    LATERAL (:traits) pt ON true`): birth_year, sex, cost_bearer (home municipality) and care_unit
    (the prescribing unit). No name, no address: a KPI counts patients, it never shows one."""
    return Sql("SELECT birth_year, sex, cost_bearer, care_unit FROM patient WHERE id = :patient", patient=patient)


def review_facts(patient: Sql) -> Sql:
    """What the access-log review (audit/review.py) needs of a patient, as a row source (`LEFT JOIN
    LATERAL (:facts) p ON true`): organisation, given_name, family_name, personal_number (for the
    patient's own log extract), protected_identity, care_unit (the responsible unit) and cost_bearer
    (home municipality). No address, phone or door code: the reviewer judges who read the record,
    not where the patient lives."""
    return Sql("SELECT organisation, given_name, family_name, personal_number, protected_identity, care_unit, "
               "cost_bearer FROM patient WHERE id = :patient", patient=patient)
