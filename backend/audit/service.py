"""The access log: who read which patient's data, what, when, in which role and unit.

Called by the services that read patient data, inside the same request, so a read
and its log row cannot be separated. The reader is a staff member, or an integration
reading through the API: then the row names its API token instead of a person.
"""

from __future__ import annotations

from typing import Iterable

from backend import db
from backend.accounts.service import Actor

# The access log's role for what an integration read (it has no staff role).
INTEGRATION_ROLE = "integration"


async def record_patient_reads(actor: Actor, patient_ids: Iterable[int], what: str) -> None:
    """Log that `actor` read these patients' data. An integration reads through the same services
    as staff, as an Actor that carries its `api_token` (integrations.IntegrationActor): its reads
    are logged under the token, never under a person."""
    api_token = getattr(actor, "api_token", None)
    if api_token is not None:
        await record_integration_reads(actor.organisation, api_token, patient_ids, what)
        return
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


async def record_integration_reads(organisation: int, api_token: int, patient_ids: Iterable[int], what: str) -> None:
    """Log that the integration holding `api_token` read these patients' data through the API."""
    ids = sorted(set(patient_ids))
    if not ids:
        return
    await db.execute(
        """
        INSERT INTO audit_log (organisation, api_token, role, care_unit, patient, what)
        SELECT $1, $2, $3, NULL, unnest($4::int[]), $5
        """,
        organisation, api_token, INTEGRATION_ROLE, ids, what,
    )
