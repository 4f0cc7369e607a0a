"""The patient's log extract (loggutdrag): every access to a patient's data the log holds, with the
staff member's name (the centre is a public authority), care unit, time and what was read, as a PDF
a coordinator hands over. Producing one is itself recorded (audit_log_use, and a read of the patient)."""

from __future__ import annotations

from datetime import date

from backend import db
from backend.accounts.service import Actor, staff_name
from backend.audit import documents
from backend.audit.review import WHAT_LABELS, ReviewNotFound, Sources, record_use, role_label
from backend.audit.service import record_patient_reads
from backend.db import Sql, raw
from backend.organisations import service as organisations


class PatientNotFound(ReviewNotFound):
    """No such patient in the actor's organisation."""


async def accesses(organisation_id: int, patient_id: int) -> list[dict]:
    """Every access to the patient's data, oldest first (the patient index, every month's partition)."""
    rows = await db.fetch(Sql(
        """
        SELECT a.at, a.role, a.what, a.api_token, :staff AS staff_name, :unit AS care_unit_name
        FROM audit_log a WHERE a.organisation = :org AND a.patient = :patient ORDER BY a.at, a.id
        """, org=organisation_id, patient=patient_id, staff=staff_name(raw("a.staff_user")),
        unit=organisations.care_unit_name(raw("a.care_unit"))))
    return [{
        "at": r["at"], "reader": r["staff_name"] or ("Integration (API)" if r["api_token"] else "-"),
        "role_label": role_label(r["role"]), "care_unit_name": r["care_unit_name"],
        "what_label": WHAT_LABELS.get(r["what"], r["what"]),
    } for r in rows]


async def patient_extract(actor: Actor, patient_id: int, sources: Sources, today: date) -> bytes:
    """The extract as a PDF. Producing it is recorded as a use of the log and a read of the patient
    (after the accesses are read, so the extract shows the log as it was asked for)."""
    patient = await db.fetchrow(Sql("SELECT p.* FROM (:facts) p", facts=sources.patient(Sql(":id", id=patient_id))))
    if patient is None or patient["organisation"] != actor.organisation:
        raise PatientNotFound(patient_id)
    async with db.transaction():
        found = await accesses(actor.organisation, patient_id)
        centre = await db.fetchval(Sql("SELECT :name", name=organisations.organisation_name(
            Sql(":org", org=actor.organisation))))
        await record_use(actor, "extract", f"loggutdrag, {len(found)} åtkomster", patient_id)
        await record_patient_reads(actor, [patient_id], "log_extract")
    return documents.extract_pdf(
        centre=centre, patient_name=f"{patient['given_name']} {patient['family_name']}",
        personal_number=patient["personal_number"], produced_by=actor.name, produced=today, accesses=found)
