"""The region's HMC, its cost bearers and care units: the face of this domain. Look-ups for
forms, the queries other domains build on (names of units, the organisation's settings), and
the organisation register behind it: `register.py` (name, phone number, work-order clocks, the
register's errors), `units.py` (care units and cost bearers), `hours.py` (opening hours,
calendar overrides and the working-day calendar the clocks count in)."""

from __future__ import annotations

import json

from backend import db
from backend.db import Sql
from backend.organisations.hours import (
    DEFAULT_HOURS,
    WEEKDAY_NAMES,
    add_calendar_day,
    calendar_days,
    hours_field,
    opening_hours,
    remove_calendar_day,
    set_opening_hours,
    work_calendar,
)
from backend.organisations.hours import KIND_LABELS as CALENDAR_KIND_LABELS
from backend.organisations.register import (
    CLOCK_MAX,
    PAGE_SIZE,
    NotFound,
    RegisterError,
    RegisterErrors,
    clock_field,
    read_clocks,
    set_clocks,
    update_details,
)
from backend.organisations.units import (
    KIND_LABELS,
    care_unit,
    cost_bearer,
    cost_bearer_choices,
    create_care_unit,
    create_cost_bearer,
    delete_care_unit,
    delete_cost_bearer,
    list_care_units,
    list_cost_bearers,
    set_care_unit_active,
    set_cost_bearer_active,
    update_care_unit,
    update_cost_bearer,
)

__all__ = [  # the face: what other domains and the routes use
    "CALENDAR_KIND_LABELS", "CLOCK_MAX", "DEFAULT_HOURS", "KIND_LABELS", "NotFound", "PAGE_SIZE", "RegisterError",
    "RegisterErrors", "WEEKDAY_NAMES",
    "add_calendar_day", "calendar_days", "care_unit", "care_unit_exists", "care_unit_name", "care_units",
    "clock_field", "cost_bearer", "cost_bearer_choices", "cost_bearer_name", "create_care_unit",
    "create_cost_bearer", "create_organisation", "delete_care_unit", "delete_cost_bearer", "delete_organisation",
    "hours_field", "list_care_units", "list_cost_bearers", "opening_hours", "organisation", "organisation_by_slug",
    "organisation_exists", "organisation_name", "organisation_phone", "organisation_slugs", "read_clocks",
    "remove_calendar_day", "set_care_unit_active", "set_clocks", "set_cost_bearer_active", "set_opening_hours",
    "update_care_unit", "update_cost_bearer", "update_details", "work_calendar",
]


async def care_units(organisation_id: int) -> list[dict]:
    """The active care units, to choose from for a new invitation or prescriber (an inactive
    one keeps its history but is not offered)."""
    rows = await db.fetch(
        "SELECT id, name FROM care_unit WHERE organisation = $1 AND active ORDER BY name", organisation_id
    )
    return [dict(r) for r in rows]


async def care_unit_exists(organisation_id: int, care_unit_id: int) -> bool:
    """True for an active care unit of the organisation: one a new prescriber may belong to."""
    return bool(await db.fetchval("SELECT 1 FROM care_unit WHERE id = $1 AND organisation = $2 AND active",
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


async def delete_organisation(organisation_id: int) -> None:
    """Delete an organisation and every row that belongs to it, in one transaction.

    What belongs to it is read from the catalogue, so this names no other domain's tables and
    covers tables later migrations add: rows with its `organisation` column, and rows that
    reach it only through a foreign key (a checklist answer through its work order), each
    table's children before the table itself.
    """
    async with db.transaction():
        owned = {r["table_name"] for r in await db.fetch(
            "SELECT table_name FROM information_schema.columns WHERE table_schema = 'public' "
            "AND column_name = 'organisation' AND table_name <> 'organisation'")}
        edges = await db.fetch(
            """
            SELECT c.conrelid::regclass::text AS child, c.confrelid::regclass::text AS parent, a.attname AS column
            FROM pg_constraint c JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
            WHERE c.contype = 'f' AND c.connamespace = 'public'::regnamespace AND cardinality(c.conkey) = 1
            ORDER BY 1, 2, 3
            """)
        belongs = {table: "organisation = $1" for table in owned}
        # Tables without the column belong through every parent that belongs (an order's event
        # through its order, even where its staff member is empty), until nothing more is reached.
        reaching = sorted({e["child"] for e in edges} - owned - {"organisation"})
        for _ in range(len(reaching) + 1):
            reached = False
            for child in reaching:
                through = " OR ".join(sorted(
                    f'"{e["column"]}" IN (SELECT id FROM "{e["parent"]}" WHERE {belongs[e["parent"]]})'
                    for e in edges if e["child"] == child and e["parent"] != child and e["parent"] in belongs))
                if through and belongs.get(child) != through:
                    belongs[child] = through
                    reached = True
            if not reached:
                break
        remaining = set(belongs)
        while remaining:
            leaves = sorted(t for t in remaining if not any(
                e["parent"] == t and e["child"] in remaining and e["child"] != t for e in edges))
            if not leaves:
                raise RuntimeError(f"cannot order the deletion of {sorted(remaining)}: foreign-key cycle")
            for table in leaves:
                await db.execute(f'DELETE FROM "{table}" WHERE {belongs[table]}', organisation_id)
                remaining.discard(table)
        await db.execute("DELETE FROM organisation WHERE id = $1", organisation_id)


async def organisation_exists() -> bool:
    """True once any organisation exists (the demo loads only into an empty database)."""
    return bool(await db.fetchval("SELECT EXISTS (SELECT 1 FROM organisation)"))


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


async def organisation_slugs() -> list[dict]:
    """Every organisation of the installation: id and slug, oldest first."""
    return [dict(r) for r in await db.fetch("SELECT id, slug FROM organisation ORDER BY id")]
