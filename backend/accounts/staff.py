"""Staff users: the signed-in person (Actor), whether a session still holds, and the look-ups
other domains make of staff (names, roles) without naming the table.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from backend import db
from backend.accounts.tables import ROLE_LABELS, Role
from backend.changes import service as changes
from backend.db import Sql
from backend.errors import DomainError
from backend.organisations import service as organisations


class AccountError(DomainError):
    """A refused account action; `message` is Swedish and safe to show, `field` the form field."""


@dataclass(frozen=True)
class Actor:
    """The signed-in person, as every rule needs them."""

    id: int
    organisation: int
    name: str
    role: Role
    care_unit: int | None

    @property
    def role_label(self) -> str:
        return ROLE_LABELS[self.role]


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _from_row(row) -> Actor:
    return Actor(id=row["id"], organisation=row["organisation"], name=row["name"], role=Role(row["role"]),
                 care_unit=row["care_unit"])


async def actor_by_id(staff_user_id: int) -> Actor:
    """The person as an Actor, just after they signed in or registered."""
    row = await db.fetchrow(
        "SELECT id, organisation, name, role, care_unit FROM staff_user WHERE id = $1", staff_user_id
    )
    assert row is not None
    return _from_row(row)


async def load_actor(
    staff_user_id: int, signed_in_at: float, *, absolute_hours: int, now: datetime | None = None
) -> Actor | None:
    """The person behind a session, or None when the session is no longer valid."""
    now = now or utcnow()
    if now.timestamp() - signed_in_at > absolute_hours * 3600:
        return None
    row = await db.fetchrow(
        "SELECT id, organisation, name, role, care_unit, active, sessions_valid_after FROM staff_user WHERE id = $1",
        staff_user_id,
    )
    if row is None or not row["active"]:
        return None
    valid_after = row["sessions_valid_after"]
    if valid_after is not None and signed_in_at <= valid_after.timestamp():
        return None
    return _from_row(row)


async def sign_out_everywhere(actor: Actor, now: datetime | None = None) -> None:
    await db.execute("UPDATE staff_user SET sessions_valid_after = $2 WHERE id = $1", actor.id, now or utcnow())


async def actor_signed_in(staff_user_id: int, now: datetime) -> Actor:
    """The person as an Actor, who has just signed in (passkey or the region's provider): the staff
    register shows when."""
    row = await db.fetchrow(
        "UPDATE staff_user SET last_signed_in_at = $2 WHERE id = $1 RETURNING id, organisation, name, role, care_unit",
        staff_user_id, now,
    )
    assert row is not None
    return _from_row(row)


# Who made a person whose invitation came from the command line (`runda invite`), in their history.
COMMAND_LINE = "Inbjudan från kommandoraden"


async def create_staff_user(*, organisation: int, name: str, role: Role, care_unit: int | None,
                            user_handle: bytes, now: datetime, created_by: int | None = None,
                            created_by_name: str | None = None) -> int:
    """A new person, as an invitation describes them; returns their id. Their history in the
    staff register starts here, as made by whoever invited them. Call it inside a transaction."""
    staff_user_id = await db.fetchval(
        """
        INSERT INTO staff_user (organisation, name, role, care_unit, user_handle, created_at)
        VALUES ($1, $2, $3, $4, $5, $6) RETURNING id
        """,
        organisation, name, role.value, care_unit, user_handle, now,
    )
    names = await db.fetchrow(Sql(
        "SELECT :unit_name AS care_unit, (SELECT name FROM staff_user WHERE id = :by) AS created_by",
        unit_name=organisations.care_unit_name(Sql(":unit::int", unit=care_unit)), by=created_by,
    ))
    await changes.record(organisation, "staff", staff_user_id, "created", actor=created_by,
                         actor_name=names["created_by"] or created_by_name or COMMAND_LINE,
                         after={"name": name, "role": role.value, "care_unit": names["care_unit"], "active": True})
    return staff_user_id


async def staff_member_of(organisation_id: int, staff_user_id: int) -> dict | None:
    """A person of the organisation, active or not: name, role, care unit and whether they are
    active; None when there is none."""
    row = await db.fetchrow(
        "SELECT name, role, care_unit, active FROM staff_user WHERE id = $1 AND organisation = $2",
        staff_user_id, organisation_id,
    )
    return dict(row) if row else None


# --- staff, for other domains ------------------------------------------------------------


async def staff(organisation_id: int) -> list[dict]:
    """The organisation's active staff, by name."""
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


async def staff_name_of(staff_user_id: int | None) -> str | None:
    if staff_user_id is None:
        return None
    return await db.fetchval("SELECT name FROM staff_user WHERE id = $1", staff_user_id)


def staff_name(staff_user: Sql) -> Sql:
    """The staff member's name, as a scalar subquery for another domain's query (NULL for NULL)."""
    return Sql("(SELECT name FROM staff_user WHERE id = :who)", who=staff_user)


async def first_active_staff_by_role() -> list[dict]:
    """The first active person of each role (id, organisation, name, role), across organisations."""
    rows = await db.fetch(
        """
        SELECT DISTINCT ON (role) id, organisation, name, role FROM staff_user
        WHERE active ORDER BY role, id
        """
    )
    return [dict(r) for r in rows]


def staff_row(staff_user: Sql) -> Sql:
    """The staff member `staff_user` (an id expression of the caller's query) as a row source:
    `JOIN LATERAL (:staff) s ON true` (LEFT JOIN where the id may be NULL or unknown).
    Columns: id, organisation, name, role, care_unit, active."""
    return Sql("SELECT id, organisation, name, role, care_unit, active FROM staff_user WHERE id = :who",
               who=staff_user)


async def staff_member(staff_user_id: int) -> dict | None:
    """The staff member's id, organisation, name, role (its value), care unit and whether they are
    active, whatever their organisation; None when there is no such person."""
    row = await db.fetchrow(
        "SELECT id, organisation, name, role, care_unit, active FROM staff_user WHERE id = $1", staff_user_id
    )
    return dict(row) if row else None


async def staff_with_role(organisation_id: int, role: Role) -> list[dict]:
    """The organisation's active staff of one role (id, name), by name."""
    rows = await db.fetch(
        "SELECT id, name FROM staff_user WHERE organisation = $1 AND role = $2 AND active ORDER BY name",
        organisation_id, role.value,
    )
    return [dict(r) for r in rows]
