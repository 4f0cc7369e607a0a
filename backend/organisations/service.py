"""The region's HMC, its cost bearers and care units: look-ups for forms, and the queries other
domains build on (names of units, the organisation's settings)."""

from __future__ import annotations

import json

from backend import db
from backend.db import Sql


async def care_units(organisation_id: int) -> list[dict]:
    rows = await db.fetch(
        "SELECT id, name FROM care_unit WHERE organisation = $1 ORDER BY name", organisation_id
    )
    return [dict(r) for r in rows]


async def care_unit_exists(organisation_id: int, care_unit_id: int) -> bool:
    return bool(await db.fetchval("SELECT 1 FROM care_unit WHERE id = $1 AND organisation = $2",
                                  care_unit_id, organisation_id))


async def organisation(organisation_id: int) -> dict | None:
    """The organisation's name, slug, public phone number and service-level clocks."""
    row = await db.fetchrow("SELECT id, name, slug, phone, clocks FROM organisation WHERE id = $1", organisation_id)
    if row is None:
        return None
    found = dict(row)
    if isinstance(found["clocks"], str):
        found["clocks"] = json.loads(found["clocks"])
    return found


async def organisation_by_slug(slug: str) -> dict | None:
    row = await db.fetchrow("SELECT id FROM organisation WHERE slug = $1", slug)
    return await organisation(row["id"]) if row else None


async def create_organisation(name: str, slug: str, phone: str) -> int:
    return await db.fetchval("INSERT INTO organisation (name, slug, phone) VALUES ($1, $2, $3) RETURNING id",
                             name, slug, phone)


# --- queries other domains place in theirs ---------------------------------------------


def care_unit_name(care_unit: Sql) -> Sql:
    """The care unit's name (a scalar subquery; NULL when `care_unit` is)."""
    return Sql("(SELECT name FROM care_unit WHERE id = :unit)", unit=care_unit)


def cost_bearer_name(cost_bearer: Sql) -> Sql:
    """The cost bearer's name (a scalar subquery; NULL when `cost_bearer` is)."""
    return Sql("(SELECT name FROM cost_bearer WHERE id = :bearer)", bearer=cost_bearer)


def organisation_name(organisation: Sql) -> Sql:
    """The organisation's name (a scalar subquery)."""
    return Sql("(SELECT name FROM organisation WHERE id = :org)", org=organisation)


def organisation_phone(organisation: Sql) -> Sql:
    """The HMC's public phone number (a scalar subquery)."""
    return Sql("(SELECT phone FROM organisation WHERE id = :org)", org=organisation)
