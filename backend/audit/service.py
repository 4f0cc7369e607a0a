"""The access log: who read which patient's data, what, when, in which role and unit.

Called by the services that read patient data, inside the same request, so a read
and its log row cannot be separated.
"""

from __future__ import annotations

from typing import Iterable

from backend import db
from backend.accounts.service import Actor


async def record_patient_reads(actor: Actor, patient_ids: Iterable[int], what: str) -> None:
    ids = sorted(set(patient_ids))
    if not ids:
        return
    await db.execute(
        """
        INSERT INTO audit_log (organisation, staff_user, role, care_unit, patient, what)
        SELECT $1, $2, $3, $4, unnest($5::int[]), $6
        """,
        actor.organisation, actor.id, actor.role.value, actor.care_unit, ids, what,
    )


async def reads_of_patient(organisation_id: int, patient_id: int, limit: int = 200) -> list[dict]:
    """For loggkontroll and for a patient asking who has read their data."""
    rows = await db.fetch(
        """
        SELECT a.at, a.what, a.role, s.name AS staff_name, c.name AS care_unit_name
        FROM audit_log a JOIN staff_user s ON s.id = a.staff_user LEFT JOIN care_unit c ON c.id = a.care_unit
        WHERE a.organisation = $1 AND a.patient = $2 ORDER BY a.at DESC LIMIT $3
        """,
        organisation_id, patient_id, limit,
    )
    return [dict(r) for r in rows]
