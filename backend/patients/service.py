"""Who may see which patient, and the patient's record. Every read is audit-logged."""

from __future__ import annotations

import re

from backend import db
from backend.accounts.service import Actor
from backend.accounts.tables import Role
from backend.audit.service import record_patient_reads
from backend.workorders.service import OPEN_STATUSES

SEARCH_LIMIT = 50
_OPEN = [s.value for s in OPEN_STATUSES]


class PatientNotVisible(Exception):
    """The patient does not exist for this person: never say which of the two."""


def scope_condition(actor: Actor, alias: str = "p", first_param: int = 1) -> tuple[str, list]:
    """SQL restricting patients `alias` to those `actor` may see, and its parameters."""
    n = first_param
    if actor.role in (Role.coordinator, Role.admin):
        return f"{alias}.organisation = ${n}", [actor.organisation]
    if actor.role is Role.prescriber:
        return f"{alias}.organisation = ${n} AND {alias}.care_unit = ${n + 1}", [actor.organisation, actor.care_unit]
    if actor.role is Role.technician:
        return (
            f"{alias}.organisation = ${n} AND EXISTS (SELECT 1 FROM work_order w WHERE w.patient = {alias}.id "
            f"AND w.assignee = ${n + 1} AND w.status = ANY(${n + 2}::text[]))",
            [actor.organisation, actor.id, _OPEN],
        )
    return "false", []


async def may_see(actor: Actor, patient_id: int) -> bool:
    condition, params = scope_condition(actor, first_param=2)
    return bool(await db.fetchval(f"SELECT 1 FROM patient p WHERE p.id = $1 AND {condition}", patient_id, *params))


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
    personal_number, words = _search_terms(query)
    if not personal_number and (not words or len(words) < 2):
        return []
    condition, params = scope_condition(actor, first_param=3)
    rows = await db.fetch(
        f"""
        SELECT p.id, p.given_name, p.family_name, p.personal_number, p.birth_year, p.city,
               p.protected_identity, c.name AS care_unit_name
        FROM patient p JOIN care_unit c ON c.id = p.care_unit
        WHERE {condition}
          AND (($1::text IS NOT NULL AND p.personal_number = $1)
               OR ($2::text IS NOT NULL AND (p.given_name || ' ' || p.family_name) ILIKE '%' || $2 || '%'))
        ORDER BY p.family_name, p.given_name LIMIT {SEARCH_LIMIT}
        """,
        personal_number, words, *params,
    )
    result = [dict(r) for r in rows]
    await record_patient_reads(actor, [r["id"] for r in result], "patient_search")
    return result


async def patient_record(actor: Actor, patient_id: int) -> dict:
    """The patient, their devices and their open work: one audited read."""
    condition, params = scope_condition(actor, first_param=2)
    patient = await db.fetchrow(
        f"""
        SELECT p.*, c.name AS care_unit_name, b.name AS cost_bearer_name
        FROM patient p JOIN care_unit c ON c.id = p.care_unit JOIN cost_bearer b ON b.id = p.cost_bearer
        WHERE p.id = $1 AND {condition}
        """,
        patient_id, *params,
    )
    if patient is None:
        raise PatientNotVisible()
    devices = await db.fetch(
        """
        SELECT d.individnummer, d.status, d.next_fu_date, a.name AS article_name, k.name AS category_name
        FROM device d JOIN article a ON a.id = d.article LEFT JOIN device_category k ON k.id = a.category
        WHERE d.holder = $1 ORDER BY k.name, d.individnummer
        """,
        patient_id,
    )
    orders = await db.fetch(
        """
        SELECT w.number, w.type, w.status, w.received_at, w.planned_date, w.finish_due, d.individnummer
        FROM work_order w JOIN device d ON d.id = w.device
        WHERE w.patient = $1 ORDER BY w.received_at DESC LIMIT 20
        """,
        patient_id,
    )
    await record_patient_reads(actor, [patient_id], "patient_record")
    return {"patient": dict(patient), "devices": [dict(d) for d in devices], "orders": [dict(o) for o in orders]}


async def patient_brief(actor: Actor, patient_id: int, what: str) -> dict:
    """Name and personnummer of a patient the actor may see (e.g. to book for): one audited read."""
    condition, params = scope_condition(actor, first_param=2)
    row = await db.fetchrow(
        f"SELECT p.id, p.given_name, p.family_name, p.personal_number FROM patient p WHERE p.id = $1 AND {condition}",
        patient_id, *params,
    )
    if row is None:
        raise PatientNotVisible()
    await record_patient_reads(actor, [patient_id], what)
    return dict(row)
