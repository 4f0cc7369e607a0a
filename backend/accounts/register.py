"""The staff register (admins): the organisation's people with their role, care unit, last
sign-in and passkeys; changing a person's name, role, care unit and HSA-id; deactivating and
reactivating them.

Every change is checked here (Swedish messages naming the field) and written in one transaction
with its history row (backend/changes, register "staff"). An admin cannot lock themself out, and
the organisation always keeps an active admin: the active admins' rows are locked first, so two
admins demoting each other at once cannot leave none. Deactivating ends the person's sessions at
once (load_actor reads `active` on every request) and for good: sessions from before stay ended
after a reactivation. Nothing of theirs is deleted; orders, visits and history keep naming them.
"""

from __future__ import annotations

import re
from datetime import datetime

import asyncpg

from backend import db
from backend.accounts.invitations import revoke_open_invitations_of
from backend.accounts.staff import AccountError, Actor, utcnow
from backend.accounts.tables import ROLE_LABELS, Role
from backend.changes import service as changes
from backend.db import Sql, raw
from backend.errors import SeveralErrors
from backend.organisations import service as organisations

REGISTER = "staff"
PAGE_SIZE = 50
STATUS_FILTERS = ("active", "inactive", "all")  # which people the list shows

# The HSA-id's shape, loosely: "SE", the issuing organisation's ten digits, "-", and the
# person's part (e.g. SE2321000016-1234). Stored in capitals, without spaces.
HSA_ID = re.compile(r"SE[0-9]{10}-[A-Z0-9]{1,20}")
HSA_ID_FORMAT = "Skriv HSA-id som SE2321000016-1234: SE, tio siffror, bindestreck och 1–20 bokstäver eller siffror."

NOT_YOURSELF = "Du kan inte inaktivera dig själv. Be en annan administratör om det behövs."
NOT_YOUR_OWN_ADMIN_ROLE = "Du kan inte ta bort din egen administratörsroll. Be en annan administratör om det behövs."
LAST_ADMIN = "Organisationen måste ha minst en aktiv administratör. Gör någon annan till administratör först."


class StaffNotFound(AccountError):
    def __init__(self) -> None:
        super().__init__("Personen finns inte.")


class StaffChangeRefused(SeveralErrors, AccountError):
    """Several fields wrong at once: each field shows its own, the summary lists them all."""


def hsa_id(value: str) -> str | None:
    """The HSA-id as stored (capitals, no spaces), or None for none; refused when not of its shape."""
    value = "".join(value.split()).upper()
    if not value:
        return None
    if not HSA_ID.fullmatch(value):
        raise AccountError(HSA_ID_FORMAT, field="hsa_id")
    return value


def _pattern(search: str) -> str | None:
    """`search` as an ILIKE pattern that matches it anywhere (its own % and _ taken literally)."""
    search = search.strip()
    if not search:
        return None
    return "%" + search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _labelled(row) -> dict:
    person = dict(row)
    person["role_label"] = ROLE_LABELS[Role(person["role"])]
    return person


async def list_staff(organisation_id: int, *, search: str = "", role: str | None = None, status: str = "active",
                     page: int = 1) -> tuple[list[dict], bool]:
    """One page of the organisation's people by name (name or HSA-id matching `search`, of `role`
    when given, active, inactive or all), each with care unit, last sign-in and number of
    passkeys; and whether more follow. One query."""
    status = status if status in STATUS_FILTERS else "active"
    role = role if role in {r.value for r in Role} else None
    rows = await db.fetch(Sql(
        """
        SELECT u.id, u.name, u.role, u.active, u.hsa_id, u.last_signed_in_at, :unit_name AS care_unit_name,
               (SELECT count(*) FROM passkey p WHERE p.staff_user = u.id) AS passkeys
        FROM staff_user u
        WHERE u.organisation = :org
          AND (:pattern::text IS NULL OR u.name ILIKE :pattern OR u.hsa_id ILIKE :pattern)
          AND (:role::text IS NULL OR u.role = :role)
          AND (:status = 'all' OR u.active = (:status = 'active'))
        ORDER BY lower(u.name), u.id
        LIMIT :limit OFFSET :offset
        """,
        unit_name=organisations.care_unit_name(raw("u.care_unit")), org=organisation_id, pattern=_pattern(search),
        role=role, status=status, limit=PAGE_SIZE + 1, offset=(max(page, 1) - 1) * PAGE_SIZE,
    ))
    return [_labelled(r) for r in rows[:PAGE_SIZE]], len(rows) > PAGE_SIZE


async def staff_person(organisation_id: int, staff_user_id: int) -> dict | None:
    """One person of the organisation, as their register page shows them; None when there is none."""
    row = await db.fetchrow(Sql(
        """
        SELECT u.id, u.name, u.role, u.care_unit, u.active, u.hsa_id, u.created_at, u.last_signed_in_at,
               :unit_name AS care_unit_name,
               EXISTS (SELECT 1 FROM idp_link l WHERE l.staff_user = u.id) AS idp_linked,
               (SELECT max(l.last_signed_in_at) FROM idp_link l WHERE l.staff_user = u.id) AS idp_signed_in_at
        FROM staff_user u WHERE u.id = :id AND u.organisation = :org
        """,
        unit_name=organisations.care_unit_name(raw("u.care_unit")), id=staff_user_id, org=organisation_id,
    ))
    return _labelled(row) if row else None


async def _lock_active_admins(organisation_id: int) -> set[int]:
    """The organisation's active admins, locked (in id order) until the transaction ends."""
    rows = await db.fetch(
        "SELECT id FROM staff_user WHERE organisation = $1 AND role = $2 AND active ORDER BY id FOR UPDATE",
        organisation_id, Role.admin.value,
    )
    return {r["id"] for r in rows}


async def _lock_person(organisation_id: int, staff_user_id: int):
    row = await db.fetchrow(Sql(
        """
        SELECT u.name, u.role, u.care_unit, u.hsa_id, u.active, :unit_name AS care_unit_name
        FROM staff_user u WHERE u.id = :id AND u.organisation = :org FOR UPDATE OF u
        """,
        unit_name=organisations.care_unit_name(raw("u.care_unit")), id=staff_user_id, org=organisation_id,
    ))
    if row is None:
        raise StaffNotFound()
    return row


async def update_person(organisation_id: int, staff_user_id: int, *, name: str, role: str,
                        care_unit_id: int | None, hsa_id_text: str, actor: Actor) -> None:
    """Change a person's name, role, care unit (prescribers only, as for invitations) and HSA-id.
    The role holds from the person's next request on."""
    errors: list[tuple[str | None, str]] = []
    name = " ".join(name.split())
    if not name:
        errors.append(("name", "Skriv personens namn."))
    elif len(name) > 200:
        errors.append(("name", "Namnet får vara högst 200 tecken."))
    try:
        new_role: Role | None = Role(role)
    except ValueError:
        new_role = None
        errors.append(("role", "Välj en roll."))
    try:
        new_hsa_id = hsa_id(hsa_id_text)
    except AccountError as exc:
        new_hsa_id = None
        errors.append((exc.field, exc.message))
    async with db.transaction():
        admins = await _lock_active_admins(organisation_id)
        before = await _lock_person(organisation_id, staff_user_id)
        if new_role is Role.prescriber:
            if care_unit_id is None:
                errors.append(("care_unit", "En förskrivare behöver en vårdenhet."))
            elif care_unit_id != before["care_unit"] and not await organisations.care_unit_exists(
                    organisation_id, care_unit_id):
                # The unit the person already has stays theirs even if it was deactivated since.
                errors.append(("care_unit", "Välj en aktiv vårdenhet."))
        else:
            care_unit_id = None
        if new_role is not None and new_role is not Role.admin and before["role"] == Role.admin.value:
            if staff_user_id == actor.id:
                errors.append(("role", NOT_YOUR_OWN_ADMIN_ROLE))
            elif before["active"] and not admins - {staff_user_id}:
                errors.append(("role", LAST_ADMIN))
        if new_hsa_id is not None and new_hsa_id != before["hsa_id"]:
            holder = await db.fetchval(
                "SELECT name FROM staff_user WHERE organisation = $1 AND hsa_id = $2 AND id <> $3",
                organisation_id, new_hsa_id, staff_user_id,
            )
            if holder is not None:
                errors.append(("hsa_id", f"HSA-id {new_hsa_id} används redan av {holder}."))
        if errors:
            raise errors_of(errors)
        assert new_role is not None
        try:
            row = await db.fetchrow(Sql(
                """
                UPDATE staff_user u SET name = :name, role = :role, care_unit = :unit, hsa_id = :hsa
                WHERE u.id = :id RETURNING :unit_name AS care_unit_name
                """,
                name=name, role=new_role.value, unit=care_unit_id, hsa=new_hsa_id, id=staff_user_id,
                unit_name=organisations.care_unit_name(raw("u.care_unit")),
            ))
        except asyncpg.UniqueViolationError:  # the same HSA-id given to another person meanwhile
            raise AccountError(f"HSA-id {new_hsa_id} används redan av någon annan.", field="hsa_id") from None
        await changes.record(
            organisation_id, REGISTER, staff_user_id, "changed", actor=actor.id, actor_name=actor.name,
            before={"name": before["name"], "role": before["role"], "care_unit": before["care_unit_name"],
                    "hsa_id": before["hsa_id"]},
            after={"name": name, "role": new_role.value, "care_unit": row["care_unit_name"], "hsa_id": new_hsa_id},
        )


def errors_of(errors: list[tuple[str | None, str]]) -> AccountError:
    return AccountError(errors[0][1], errors[0][0]) if len(errors) == 1 else StaffChangeRefused(errors)


async def set_active(organisation_id: int, staff_user_id: int, active: bool, *, actor: Actor,
                     now: datetime | None = None) -> None:
    """Deactivate or reactivate a person. Deactivated, every session of theirs ends at once and
    stays ended (a reactivated person signs in anew), and their open links for a new passkey are
    revoked; nothing of theirs is deleted."""
    now = now or utcnow()
    async with db.transaction():
        admins = await _lock_active_admins(organisation_id)
        before = await _lock_person(organisation_id, staff_user_id)
        if before["active"] == active:
            return  # already so (a second click): nothing to record
        if not active:
            if staff_user_id == actor.id:
                raise AccountError(NOT_YOURSELF, field="active")
            if before["role"] == Role.admin.value and not admins - {staff_user_id}:
                raise AccountError(LAST_ADMIN, field="active")
            await db.execute("UPDATE staff_user SET active = false, sessions_valid_after = $2 WHERE id = $1",
                             staff_user_id, now)
            await revoke_open_invitations_of(staff_user_id, now)
        else:
            await db.execute("UPDATE staff_user SET active = true WHERE id = $1", staff_user_id)
        await changes.record(organisation_id, REGISTER, staff_user_id, "reactivated" if active else "deactivated",
                             actor=actor.id, actor_name=actor.name, before={"active": before["active"]},
                             after={"active": active})
