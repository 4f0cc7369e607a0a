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

