"""Technician areas: the municipalities (municipal cost bearers) a technician usually covers.

FU production assigns a generated order to a technician whose area holds the patient's cost bearer
(`technicians_by_cost_bearer`) and filters its due list by area (`area_filter_sql`). Admins set a
technician's municipalities on the staff register's person page (`set_areas`), each change in the
person's history like their other fields (register "staff", field "areas").
"""

from __future__ import annotations

from backend import db
from backend.accounts.register import REGISTER, StaffNotFound
from backend.accounts.staff import AccountError, Actor
from backend.accounts.tables import Role
from backend.changes import service as changes
from backend.db import Sql, raw
from backend.organisations import service as organisations

FIELD = "areas"
NOT_A_TECHNICIAN = "Bara tekniker har områden. Ändra personens roll till tekniker först."
UNKNOWN_MUNICIPALITY = "Välj bland kommunerna i listan."


async def technicians_by_cost_bearer(organisation_id: int) -> dict[int, list[int]]:
    """Cost bearer id -> the active technicians whose area holds it (ids in id order); a cost
    bearer nobody covers is left out."""
    rows = await db.fetch(
        """
        SELECT a.cost_bearer, array_agg(u.id ORDER BY u.id) AS technicians
        FROM staff_area a JOIN staff_user u ON u.id = a.staff_user
        WHERE u.organisation = $1 AND u.active AND u.role = $2
        GROUP BY a.cost_bearer
        """,
        organisation_id, Role.technician.value,
    )
    return {r["cost_bearer"]: list(r["technicians"]) for r in rows}


def area_filter_sql(staff_user: Sql, cost_bearer: Sql) -> Sql:
    """A boolean expression for the caller's query: the person `staff_user` covers the cost bearer
    `cost_bearer` (both id expressions of the caller's; false when either is NULL)."""
    return Sql("EXISTS (SELECT 1 FROM staff_area sa_f WHERE sa_f.staff_user = :staff AND sa_f.cost_bearer = :bearer)",
               staff=staff_user, bearer=cost_bearer)


def has_area_sql(staff_user: Sql) -> Sql:
    """A boolean expression for the caller's query: the person `staff_user` has an area at all (the
    access-log review flags a technician's read outside it only then)."""
    return Sql("EXISTS (SELECT 1 FROM staff_area sa_h WHERE sa_h.staff_user = :staff)", staff=staff_user)


async def municipalities(organisation_id: int) -> list[dict]:
    """The organisation's active municipal cost bearers by name (id, name, code): what an area is
    chosen from."""
    found, page, more = [], 1, True
    while more:
        rows, more = await organisations.list_cost_bearers(organisation_id, status="active", page=page)
        found += [{"id": r["id"], "name": r["name"], "code": r["code"]} for r in rows if r["kind"] == "municipality"]
        page += 1
    return found


async def areas_of(organisation_id: int, staff_user_id: int) -> list[dict]:
    """The person's municipalities (id, name, active) by name."""
    rows = await db.fetch(Sql(
        """
        SELECT a.cost_bearer AS id, :name AS name
        FROM staff_area a JOIN staff_user u ON u.id = a.staff_user
        WHERE a.staff_user = :staff AND u.organisation = :org
        """,
        name=organisations.cost_bearer_name(raw("a.cost_bearer")), staff=staff_user_id, org=organisation_id,
    ))
    return sorted(({"id": r["id"], "name": r["name"]} for r in rows), key=lambda r: (r["name"].lower(), r["id"]))


def _names(areas: list[dict]) -> str:
    """The areas as the history keeps them: names in order, comma separated ('' for none)."""
    return ", ".join(a["name"] for a in sorted(areas, key=lambda a: (a["name"].lower(), a["id"])))


async def set_areas(actor: Actor, staff_user_id: int, cost_bearer_ids: list[int]) -> None:
    """Make the technician's municipalities exactly `cost_bearer_ids`: active municipal cost bearers
    of the organisation (one the person already has stays allowed should it have been deactivated
    since). Recorded in the person's history; an unchanged choice records nothing."""
    organisation_id = actor.organisation
    async with db.transaction():
        person = await db.fetchrow(
            "SELECT role FROM staff_user WHERE id = $1 AND organisation = $2 FOR UPDATE", staff_user_id,
            organisation_id)
        if person is None:
            raise StaffNotFound()
        if person["role"] != Role.technician.value:
            raise AccountError(NOT_A_TECHNICIAN, FIELD)
        before = await areas_of(organisation_id, staff_user_id)
        allowed = {a["id"]: a for a in await municipalities(organisation_id)} | {a["id"]: a for a in before}
        chosen = set(cost_bearer_ids)
        if not chosen <= set(allowed):
            raise AccountError(UNKNOWN_MUNICIPALITY, FIELD)
        held = {a["id"] for a in before}
        await db.execute("DELETE FROM staff_area WHERE staff_user = $1 AND NOT (cost_bearer = ANY($2::int[]))",
                         staff_user_id, sorted(chosen))
        await db.execute(
            "INSERT INTO staff_area (staff_user, cost_bearer) SELECT $1, unnest($2::int[]) ON CONFLICT DO NOTHING",
            staff_user_id, sorted(chosen - held))
        await changes.record(organisation_id, REGISTER, staff_user_id, "changed", actor=actor.id,
                             actor_name=actor.name, before={FIELD: _names(before)},
                             after={FIELD: _names([allowed[i] for i in chosen])})
