"""Sign-in rules: invitations, passkey registration and authentication, sessions' validity.

No passwords anywhere. A person gets a one-time invitation, registers a passkey with
it, and signs in username-less with that passkey afterwards.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import webauthn
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url
from webauthn.helpers.exceptions import InvalidAuthenticationResponse, InvalidRegistrationResponse
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from backend import db
from backend.db import Sql
from backend.accounts.tables import ROLE_LABELS, Role
from backend.piccolo_conf import DB

INVITATION_HOURS = 72
CHALLENGE_SECONDS = 300
RP_NAME = "Runda"


class AccountError(Exception):
    """A refused account action; `message` is Swedish and safe to show."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


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


class SignInRefused(AccountError):
    pass


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


@dataclass(frozen=True)
class InvitationView:
    id: int
    organisation: int
    organisation_name: str
    name: str
    role: Role
    care_unit: int | None
    staff_user: int | None

    @property
    def role_label(self) -> str:
        return ROLE_LABELS[self.role]


@dataclass(frozen=True)
class Challenge:
    """A WebAuthn challenge kept in the server-side session: single-use, short-lived."""

    value: bytes
    purpose: str
    expires_at: float
    user_handle: bytes | None = None

    def to_session(self) -> dict:
        return {
            "value": bytes_to_base64url(self.value),
            "purpose": self.purpose,
            "expires_at": self.expires_at,
            "user_handle": bytes_to_base64url(self.user_handle) if self.user_handle else None,
        }

    @classmethod
    def from_session(cls, data: dict | None) -> Challenge | None:
        if not data:
            return None
        return cls(
            value=base64url_to_bytes(data["value"]),
            purpose=data["purpose"],
            expires_at=float(data["expires_at"]),
            user_handle=base64url_to_bytes(data["user_handle"]) if data.get("user_handle") else None,
        )


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def hash_token(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def _use_challenge(challenge: Challenge | None, purpose: str, now: datetime) -> bytes:
    if challenge is None or challenge.purpose != purpose:
        raise SignInRefused("Inloggningsförsöket är inte giltigt längre. Försök igen.")
    if challenge.expires_at < now.timestamp():
        raise SignInRefused("Det tog för lång tid. Försök igen.")
    return challenge.value


# --- invitations -------------------------------------------------------------------


async def create_invitation(
    *,
    organisation_id: int,
    name: str,
    role: str,
    care_unit_id: int | None = None,
    staff_user_id: int | None = None,
    created_by: int | None = None,
    hours: int = INVITATION_HOURS,
    now: datetime | None = None,
) -> tuple[str, int]:
    """Create a one-time invitation; returns the token (only ever in the link) and its id."""
    now = now or utcnow()
    name = " ".join(name.split())
    if staff_user_id is not None:
        person = await db.fetchrow(
            "SELECT name, role, care_unit FROM staff_user WHERE id = $1 AND organisation = $2 AND active",
            staff_user_id, organisation_id,
        )
        if person is None:
            raise AccountError("Personen finns inte.", field="staff_user")
        name, role, care_unit_id = person["name"], person["role"], person["care_unit"]
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
        in_org = await db.fetchval(
            "SELECT 1 FROM care_unit WHERE id = $1 AND organisation = $2", care_unit_id, organisation_id
        )
        if not in_org:
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
    rows = await db.fetch(
        """
        SELECT i.id, i.name, i.role, i.created_at, i.expires_at, i.used_at, i.revoked_at,
               i.staff_user IS NOT NULL AS for_existing, c.name AS care_unit_name, b.name AS created_by_name
        FROM invitation i
        LEFT JOIN care_unit c ON c.id = i.care_unit
        LEFT JOIN staff_user b ON b.id = i.created_by
        WHERE i.organisation = $1
        ORDER BY i.created_at DESC LIMIT $2
        """,
        organisation_id, limit,
    )
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
    row = await db.fetchrow(
        f"""
        SELECT i.*, o.name AS organisation_name FROM invitation i
        JOIN organisation o ON o.id = i.organisation
        WHERE i.token_hash = $1 {"FOR UPDATE OF i" if lock else ""}
        """,
        hash_token(token),
    )
    if row is None:
        raise InvitationUnusable("unknown")
    state = invitation_state(dict(row), now)
    if state != "active":
        raise InvitationUnusable(state)
    return InvitationView(
        id=row["id"], organisation=row["organisation"], organisation_name=row["organisation_name"],
        name=row["name"], role=Role(row["role"]), care_unit=row["care_unit"], staff_user=row["staff_user"],
    )


# --- registration ------------------------------------------------------------------


async def registration_options(
    invitation: InvitationView, *, rp_id: str, now: datetime | None = None
) -> tuple[str, Challenge]:
    """WebAuthn creation options for the invited person, and the challenge to keep."""
    now = now or utcnow()
    exclude: list[PublicKeyCredentialDescriptor] = []
    if invitation.staff_user is not None:
        user_handle = await db.fetchval("SELECT user_handle FROM staff_user WHERE id = $1", invitation.staff_user)
        existing = await db.fetch("SELECT credential_id FROM passkey WHERE staff_user = $1", invitation.staff_user)
        exclude = [PublicKeyCredentialDescriptor(id=bytes(r["credential_id"])) for r in existing]
    else:
        user_handle = secrets.token_bytes(32)
    options = webauthn.generate_registration_options(
        rp_id=rp_id,
        rp_name=RP_NAME,
        user_id=bytes(user_handle),
        user_name=invitation.name,
        user_display_name=invitation.name,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED,
            user_verification=UserVerificationRequirement.REQUIRED,
        ),
        exclude_credentials=exclude,
        timeout=CHALLENGE_SECONDS * 1000,
    )
    challenge = Challenge(
        value=options.challenge,
        purpose=f"register:{invitation.id}",
        expires_at=now.timestamp() + CHALLENGE_SECONDS,
        user_handle=bytes(user_handle),
    )
    return webauthn.options_to_json(options), challenge


async def complete_registration(
    *,
    token: str,
    credential: dict,
    challenge: Challenge | None,
    rp_id: str,
    origin: str,
    nickname: str = "",
    now: datetime | None = None,
) -> Actor:
    """Verify a new passkey, create the person if new, use up the invitation; all or nothing."""
    now = now or utcnow()
    async with DB.transaction():
        invitation = await open_invitation(token, now, lock=True)
        expected = _use_challenge(challenge, f"register:{invitation.id}", now)
        assert challenge is not None and challenge.user_handle is not None
        try:
            verified = webauthn.verify_registration_response(
                credential=credential,
                expected_challenge=expected,
                expected_rp_id=rp_id,
                expected_origin=origin,
                require_user_verification=True,
            )
        except (InvalidRegistrationResponse, ValueError, KeyError, TypeError):
            raise SignInRefused("Passkeyn kunde inte registreras. Försök igen.") from None
        staff_user_id = invitation.staff_user
        if staff_user_id is None:
            staff_user_id = await db.fetchval(
                """
                INSERT INTO staff_user (organisation, name, role, care_unit, user_handle, created_at)
                VALUES ($1, $2, $3, $4, $5, $6) RETURNING id
                """,
                invitation.organisation, invitation.name, invitation.role.value, invitation.care_unit,
                challenge.user_handle, now,
            )
        transports = (credential.get("response") or {}).get("transports") or []
        count = await db.fetchval("SELECT count(*) FROM passkey WHERE staff_user = $1", staff_user_id)
        try:
            await db.execute(
                """
                INSERT INTO passkey (staff_user, credential_id, public_key, sign_count, transports, aaguid,
                                     backed_up, nickname, created_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                """,
                staff_user_id, verified.credential_id, verified.credential_public_key, verified.sign_count,
                [str(t)[:20] for t in transports][:8], str(verified.aaguid), verified.credential_backed_up,
                (nickname.strip() or f"Passkey {count + 1}")[:100], now,
            )
        except Exception as exc:  # asyncpg.UniqueViolationError: the credential is already registered
            if exc.__class__.__name__ == "UniqueViolationError":
                raise SignInRefused("Den här passkeyn är redan registrerad.") from None
            raise
        await db.execute("UPDATE invitation SET used_at = $2 WHERE id = $1", invitation.id, now)
        return await _actor(staff_user_id)


# --- authentication ----------------------------------------------------------------


def authentication_options(*, rp_id: str, now: datetime | None = None) -> tuple[str, Challenge]:
    """Options for a username-less sign-in: any discoverable passkey for this site."""
    now = now or utcnow()
    options = webauthn.generate_authentication_options(
        rp_id=rp_id,
        user_verification=UserVerificationRequirement.REQUIRED,
        timeout=CHALLENGE_SECONDS * 1000,
    )
    challenge = Challenge(value=options.challenge, purpose="authenticate", expires_at=now.timestamp() + CHALLENGE_SECONDS)
    return webauthn.options_to_json(options), challenge


async def complete_authentication(
    *, credential: dict, challenge: Challenge | None, rp_id: str, origin: str, now: datetime | None = None
) -> Actor:
    now = now or utcnow()
    expected = _use_challenge(challenge, "authenticate", now)
    refused = SignInRefused("Inloggningen misslyckades. Använd en passkey som är registrerad för Runda.")
    try:
        credential_id = base64url_to_bytes(credential["rawId"])
    except (KeyError, TypeError, ValueError):
        raise refused from None
    async with DB.transaction():
        row = await db.fetchrow(
            """
            SELECT p.id, p.public_key, p.sign_count, p.staff_user, u.organisation, u.active
            FROM passkey p JOIN staff_user u ON u.id = p.staff_user
            WHERE p.credential_id = $1 FOR UPDATE OF p
            """,
            credential_id,
        )
        if row is None or not row["active"]:
            raise refused
        try:
            # Sign counts are compared below, so a regression can be recorded, not just refused.
            verified = webauthn.verify_authentication_response(
                credential=credential,
                expected_challenge=expected,
                expected_rp_id=rp_id,
                expected_origin=origin,
                credential_public_key=bytes(row["public_key"]),
                credential_current_sign_count=0,
                require_user_verification=True,
            )
        except (InvalidAuthenticationResponse, ValueError, KeyError, TypeError):
            raise refused from None
        stored = row["sign_count"]
        regressed = (verified.new_sign_count > 0 or stored > 0) and verified.new_sign_count <= stored
        if regressed:
            # Possibly a cloned authenticator: refused below, after this trace for a
            # person to review has been committed.
            await db.execute(
                "INSERT INTO security_event (organisation, staff_user, kind, detail, at) VALUES ($1, $2, $3, $4, $5)",
                row["organisation"], row["staff_user"], "sign_count_regression",
                f"passkey {row['id']}: stored {stored}, presented {verified.new_sign_count}", now,
            )
        else:
            await db.execute(
                "UPDATE passkey SET sign_count = $2, last_used_at = $3 WHERE id = $1",
                row["id"], verified.new_sign_count, now,
            )
    if regressed:
        raise refused
    return await _actor(row["staff_user"])


async def dev_sign_in(token: str, now: datetime | None = None) -> Actor:
    """Development only: sign in as the invited person without a passkey.

    The invitation stays usable, so the same person can register a real passkey later.
    """
    now = now or utcnow()
    async with DB.transaction():
        invitation = await open_invitation(token, now, lock=True)
        staff_user_id = invitation.staff_user
        if staff_user_id is None:
            staff_user_id = await db.fetchval(
                """
                INSERT INTO staff_user (organisation, name, role, care_unit, user_handle, created_at)
                VALUES ($1, $2, $3, $4, $5, $6) RETURNING id
                """,
                invitation.organisation, invitation.name, invitation.role.value, invitation.care_unit,
                secrets.token_bytes(32), now,
            )
            await db.execute("UPDATE invitation SET staff_user = $2 WHERE id = $1", invitation.id, staff_user_id)
        return await _actor(staff_user_id)


# --- sessions and the signed-in person ---------------------------------------------


async def _actor(staff_user_id: int) -> Actor:
    row = await db.fetchrow(
        "SELECT id, organisation, name, role, care_unit FROM staff_user WHERE id = $1", staff_user_id
    )
    assert row is not None
    return Actor(id=row["id"], organisation=row["organisation"], name=row["name"], role=Role(row["role"]),
                 care_unit=row["care_unit"])


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
    return Actor(id=row["id"], organisation=row["organisation"], name=row["name"], role=Role(row["role"]),
                 care_unit=row["care_unit"])


async def sign_out_everywhere(actor: Actor, now: datetime | None = None) -> None:
    await db.execute("UPDATE staff_user SET sessions_valid_after = $2 WHERE id = $1", actor.id, now or utcnow())


# --- the person's own passkeys -----------------------------------------------------


async def list_passkeys(actor: Actor) -> list[dict]:
    rows = await db.fetch(
        "SELECT id, nickname, created_at, last_used_at, backed_up, transports FROM passkey "
        "WHERE staff_user = $1 ORDER BY created_at",
        actor.id,
    )
    return [dict(r) for r in rows]


async def rename_passkey(actor: Actor, passkey_id: int, nickname: str) -> None:
    nickname = " ".join(nickname.split())
    if not nickname:
        raise AccountError("Skriv ett namn, till exempel ”Jobbtelefonen”.", field="nickname")
    if len(nickname) > 100:
        raise AccountError("Namnet får vara högst 100 tecken.", field="nickname")
    status = await db.execute(
        "UPDATE passkey SET nickname = $3 WHERE id = $1 AND staff_user = $2", passkey_id, actor.id, nickname
    )
    if status.endswith(" 0"):
        raise AccountError("Passkeyn finns inte.")


async def remove_passkey(actor: Actor, passkey_id: int) -> None:
    async with DB.transaction():
        ids = [r["id"] for r in await db.fetch(
            "SELECT id FROM passkey WHERE staff_user = $1 FOR UPDATE", actor.id
        )]
        if passkey_id not in ids:
            raise AccountError("Passkeyn finns inte.")
        if len(ids) == 1:
            raise AccountError("Du kan inte ta bort din enda passkey; då kan du inte logga in igen.")
        await db.execute("DELETE FROM passkey WHERE id = $1", passkey_id)


def parse_credential(body: bytes) -> dict:
    """The browser's credential JSON, or a refusal in Swedish."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise SignInRefused("Svaret från webbläsaren gick inte att läsa. Försök igen.") from None
    if not isinstance(data, dict):
        raise SignInRefused("Svaret från webbläsaren gick inte att läsa. Försök igen.")
    return data


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

