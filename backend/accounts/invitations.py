"""Invitations: the one-time links through which a person registers a passkey.

A link is for a new person, or for someone who exists and needs a passkey on a new device
(recovery). Who may invite whom is decided here, once, for the web and the command line.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from backend import db
from backend.accounts.staff import AccountError, Actor, actor_by_id, create_staff_user, staff_member_of, utcnow
from backend.accounts.tables import ROLE_LABELS, Role
from backend.db import Sql
from backend.organisations import service as organisations

INVITATION_HOURS = 72

INACTIVE_PERSON = ("Personen är inaktiverad och kan inte få en ny passkey. "
                   "En administratör kan aktivera personen igen i personalregistret.")

# Roles each role may invite; only an admin invites admins and coordinators. (The command line
# invites anyone; any person may invite themselves onto a new device: invite_own_device.)
INVITABLE = {
    Role.admin: tuple(Role),
    Role.coordinator: (Role.technician, Role.consultant, Role.prescriber),
}


class InvitationUnusable(AccountError):
    MESSAGES = {
        "unknown": "Inbjudan finns inte. Kontrollera länken eller be om en ny inbjudan.",
        "used": "Inbjudan har redan använts. Be din samordnare om en ny om du behöver lägga till en passkey.",
        "revoked": "Inbjudan har återkallats. Be din samordnare om en ny inbjudan.",
        "expired": "Inbjudan har gått ut. Be din samordnare om en ny inbjudan.",
    }

    def __init__(self, state: str) -> None:
        super().__init__(self.MESSAGES[state])
        self.state = state


@dataclass(frozen=True)
class InvitationView:
    id: int
    organisation: int
    organisation_name: str
    name: str
    role: Role
    care_unit: int | None
    staff_user: int | None
    created_by: int | None = None  # who invited them; None: the command line

    @property
    def role_label(self) -> str:
        return ROLE_LABELS[self.role]


def hash_token(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def invitable_roles(inviter: Role) -> tuple[Role, ...]:
    """The roles a person of role `inviter` may invite (none for most roles)."""
    return INVITABLE.get(inviter, ())


async def create_invitation(
    *,
    organisation_id: int,
    name: str,
    role: str,
    care_unit_id: int | None = None,
    staff_user_id: int | None = None,
    invited_by: Actor | None = None,
    hours: int = INVITATION_HOURS,
    now: datetime | None = None,
) -> tuple[str, int]:
    """Create a one-time invitation; returns the token (only ever in the link) and its id.

    `invited_by` is the person inviting, who may invite only the roles `invitable_roles` gives;
    None is the command line, which may invite anyone.
    """
    allowed = None if invited_by is None else invitable_roles(invited_by.role)
    return await _invite(
        organisation_id=organisation_id, name=name, role=role, care_unit_id=care_unit_id,
        staff_user_id=staff_user_id, allowed=allowed, created_by=invited_by.id if invited_by else None,
        hours=hours, now=now,
    )


async def invite_own_device(actor: Actor, *, hours: int = 1, now: datetime | None = None) -> tuple[str, int]:
    """A short-lived link for the signed-in person to add a passkey on another device (any role)."""
    return await _invite(
        organisation_id=actor.organisation, name=actor.name, role=actor.role.value, staff_user_id=actor.id,
        allowed=None, created_by=actor.id, hours=hours, now=now,
    )


async def _invite(
    *,
    organisation_id: int,
    name: str,
    role: str,
    care_unit_id: int | None = None,
    staff_user_id: int | None = None,
    allowed: tuple[Role, ...] | None,
    created_by: int | None,
    hours: int,
    now: datetime | None,
) -> tuple[str, int]:
    now = now or utcnow()
    name = " ".join(name.split())
    if staff_user_id is not None:
        person = await staff_member_of(organisation_id, staff_user_id)
        if allowed is not None and (person is None or Role(person["role"]) not in allowed):
            raise AccountError("Du kan inte bjuda in den personen.", field="staff_user")
        if person is None:
            raise AccountError("Personen finns inte.", field="staff_user")
        if not person["active"]:
            # A deactivated person gets no new passkey until an admin reactivates them.
            raise AccountError(INACTIVE_PERSON, field="staff_user")
        name, role, care_unit_id = person["name"], person["role"], person["care_unit"]
    elif allowed is not None and role not in {r.value for r in allowed}:
        raise AccountError("Välj en roll.", field="role")
    if not name:
        raise AccountError("Skriv personens namn.", field="name")
    if len(name) > 200:
        raise AccountError("Namnet får vara högst 200 tecken.", field="name")
    try:
        role_value = Role(role)
    except ValueError:
        raise AccountError("Välj en roll.", field="role") from None
    if role_value is Role.prescriber:
        if care_unit_id is None:
            raise AccountError("En förskrivare behöver en vårdenhet.", field="care_unit")
        if not await organisations.care_unit_exists(organisation_id, care_unit_id):
            raise AccountError("Vårdenheten finns inte.", field="care_unit")
    else:
        care_unit_id = None
    if not 1 <= hours <= 24 * 14:
        raise AccountError("Giltighetstiden ska vara mellan 1 timme och 14 dagar.", field="hours")
    token = secrets.token_urlsafe(32)
    invitation_id = await db.fetchval(
        """
        INSERT INTO invitation (organisation, token_hash, name, role, care_unit, staff_user,
                                created_by, created_at, expires_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id
        """,
        organisation_id, hash_token(token), name, role_value.value, care_unit_id, staff_user_id,
        created_by, now, now + timedelta(hours=hours),
    )
    return token, invitation_id


def invitation_state(row: dict, now: datetime) -> str:
    if row["used_at"] is not None:
        return "used"
    if row["revoked_at"] is not None:
        return "revoked"
    if row["expires_at"] <= now:
        return "expired"
    return "active"


INVITATION_STATE_LABELS = {"active": "Giltig", "used": "Använd", "revoked": "Återkallad", "expired": "Utgången"}


async def list_invitations(organisation_id: int, now: datetime | None = None, limit: int = 200) -> list[dict]:
    now = now or utcnow()
    rows = await db.fetch(Sql(
        """
        SELECT i.id, i.name, i.role, i.created_at, i.expires_at, i.used_at, i.revoked_at,
               i.staff_user IS NOT NULL AS for_existing, :unit_name AS care_unit_name,
               b.name AS created_by_name
        FROM invitation i
        LEFT JOIN staff_user b ON b.id = i.created_by
        WHERE i.organisation = :org
        ORDER BY i.created_at DESC LIMIT :limit
        """,
        unit_name=organisations.care_unit_name(db.raw("i.care_unit")), org=organisation_id, limit=limit,
    ))
    result = []
    for row in rows:
        item = dict(row)
        item["state"] = invitation_state(item, now)
        item["state_label"] = INVITATION_STATE_LABELS[item["state"]]
        item["role_label"] = ROLE_LABELS[Role(item["role"])]
        result.append(item)
    return result


async def revoke_invitation(organisation_id: int, invitation_id: int, now: datetime | None = None) -> None:
    status = await db.execute(
        "UPDATE invitation SET revoked_at = $3 WHERE id = $1 AND organisation = $2 "
        "AND used_at IS NULL AND revoked_at IS NULL",
        invitation_id, organisation_id, now or utcnow(),
    )
    if status.endswith(" 0"):
        raise AccountError("Inbjudan kan inte återkallas: den är redan använd eller återkallad.")


async def open_invitation(token: str, now: datetime | None = None, *, lock: bool = False) -> InvitationView:
    now = now or utcnow()
    row = await db.fetchrow(Sql(
        f"""
        SELECT i.*, :organisation_name AS organisation_name FROM invitation i
        WHERE i.token_hash = :token {"FOR UPDATE OF i" if lock else ""}
        """,
        organisation_name=organisations.organisation_name(db.raw("i.organisation")), token=hash_token(token),
    ))
    if row is None:
        raise InvitationUnusable("unknown")
    state = invitation_state(dict(row), now)
    if state != "active":
        raise InvitationUnusable(state)
    return InvitationView(
        id=row["id"], organisation=row["organisation"], organisation_name=row["organisation_name"],
        name=row["name"], role=Role(row["role"]), care_unit=row["care_unit"], staff_user=row["staff_user"],
        created_by=row["created_by"],
    )


async def revoke_open_invitations_of(staff_user_id: int, now: datetime) -> None:
    """The person's links for a new passkey that are still open no longer open (they were deactivated)."""
    await db.execute(
        "UPDATE invitation SET revoked_at = $2 WHERE staff_user = $1 AND used_at IS NULL AND revoked_at IS NULL",
        staff_user_id, now,
    )


async def use_invitation(invitation_id: int, now: datetime) -> None:
    """The invitation has served: it opens no more."""
    await db.execute("UPDATE invitation SET used_at = $2 WHERE id = $1", invitation_id, now)


async def dev_sign_in(token: str, now: datetime | None = None) -> Actor:
    """Development only: sign in as the invited person without a passkey.

    The invitation stays usable, so the same person can register a real passkey later.
    """
    now = now or utcnow()
    async with db.transaction():
        invitation = await open_invitation(token, now, lock=True)
        staff_user_id = invitation.staff_user
        if staff_user_id is None:
            staff_user_id = await create_staff_user(
                organisation=invitation.organisation, name=invitation.name, role=invitation.role,
                care_unit=invitation.care_unit, user_handle=secrets.token_bytes(32), now=now,
                created_by=invitation.created_by,
            )
            await db.execute("UPDATE invitation SET staff_user = $2 WHERE id = $1", invitation.id, staff_user_id)
        return await actor_by_id(staff_user_id)
