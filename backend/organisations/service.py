"""Look-ups of an organisation's units and staff, for forms and scoping."""

from __future__ import annotations

from backend import db
from backend.accounts.tables import ROLE_LABELS, Role


async def care_units(organisation_id: int) -> list[dict]:
    rows = await db.fetch(
        "SELECT id, name FROM care_unit WHERE organisation = $1 ORDER BY name", organisation_id
    )
    return [dict(r) for r in rows]


async def staff(organisation_id: int) -> list[dict]:
    rows = await db.fetch(
        "SELECT id, name, role FROM staff_user WHERE organisation = $1 AND active ORDER BY name",
        organisation_id,
    )
    return [{**dict(r), "role_label": ROLE_LABELS[Role(r["role"])]} for r in rows]


async def staff_role(organisation_id: int, staff_user_id: int) -> Role | None:
    role = await db.fetchval(
        "SELECT role FROM staff_user WHERE id = $1 AND organisation = $2 AND active",
        staff_user_id, organisation_id,
    )
    return Role(role) if role else None

