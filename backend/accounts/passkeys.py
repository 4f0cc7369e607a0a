"""Passkeys (WebAuthn): registering one through an invitation, signing in username-less with
it, and the person's own list of them.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime

import webauthn
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url
from webauthn.helpers.exceptions import (
    InvalidAttestationObjectStructure,
    InvalidAuthenticationResponse,
    InvalidAuthenticatorDataStructure,
    InvalidBackupFlags,
    InvalidCBORData,
    InvalidJSONStructure,
    InvalidPublicKeyStructure,
    InvalidRegistrationResponse,
)
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from backend import db
from backend.accounts.idp import NOT_BY_PASSKEY, PASSKEY, may_sign_in_with, record_event
from backend.accounts.invitations import InvitationView, open_invitation, use_invitation
from backend.accounts.staff import AccountError, Actor, actor_signed_in, create_staff_user, utcnow

CHALLENGE_SECONDS = 300
RP_NAME = "Runda"


class SignInRefused(AccountError):
    """A passkey sign-in or registration that did not go through; the page shows why."""


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


def _use_challenge(challenge: Challenge | None, purpose: str, now: datetime) -> bytes:
    if challenge is None or challenge.purpose != purpose:
        raise SignInRefused("Inloggningsförsöket är inte giltigt längre. Försök igen.")
    if challenge.expires_at < now.timestamp():
        raise SignInRefused("Det tog för lång tid. Försök igen.")
    return challenge.value


# What a credential that is not what it should be raises, from the library or from reading it:
# a JSON shape the library refuses ({}, no "response"), bytes that are not CBOR or a key…
MALFORMED = (
    InvalidJSONStructure, InvalidCBORData, InvalidAttestationObjectStructure, InvalidAuthenticatorDataStructure,
    InvalidPublicKeyStructure, InvalidBackupFlags, ValueError, KeyError, TypeError, AttributeError,
)


INACTIVE = "Kontot är inaktiverat. Kontakta en administratör."
UNREADABLE_NAME = "Namnet innehåller tecken som inte kan sparas. Ta bort dem och försök igen."


def parse_credential(body: bytes) -> dict:
    """The browser's credential JSON, or a refusal in Swedish."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise SignInRefused("Svaret från webbläsaren gick inte att läsa. Försök igen.") from None
    if not isinstance(data, dict):
        raise SignInRefused("Svaret från webbläsaren gick inte att läsa. Försök igen.")
    return data


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
    idp_configured: bool = False,
) -> Actor:
    """Verify a new passkey, create the person if new, use up the invitation; all or nothing.
    Refused when the invited role signs in through the region's identity provider only."""
    now = now or utcnow()
    nickname = " ".join(nickname.split())
    if _has_control_characters(nickname):
        raise SignInRefused(UNREADABLE_NAME)
    async with db.transaction():
        invitation = await open_invitation(token, now, lock=True)
        if not await may_sign_in_with(invitation.organisation, invitation.role, PASSKEY, idp_configured=idp_configured):
            raise SignInRefused(NOT_BY_PASSKEY)
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
        except (InvalidRegistrationResponse, *MALFORMED):
            raise SignInRefused("Passkeyn kunde inte registreras. Försök igen.") from None
        staff_user_id = invitation.staff_user
        if staff_user_id is None:
            staff_user_id = await create_staff_user(
                organisation=invitation.organisation, name=invitation.name, role=invitation.role,
                care_unit=invitation.care_unit, user_handle=challenge.user_handle, now=now,
                created_by=invitation.created_by,
            )
        elif not await db.fetchval("SELECT active FROM staff_user WHERE id = $1", staff_user_id):
            # Deactivating revokes the person's open links; this holds should one be opened meanwhile.
            raise SignInRefused(INACTIVE)
        response = credential.get("response")
        transports = response.get("transports") if isinstance(response, dict) else None
        transports = transports if isinstance(transports, list) else []
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
        await use_invitation(invitation.id, now)
        return await actor_signed_in(staff_user_id, now)


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
    *, credential: dict, challenge: Challenge | None, rp_id: str, origin: str, now: datetime | None = None,
    idp_configured: bool = False,
) -> Actor:
    """The person whose passkey this is, signed in; SignInRefused otherwise, also when their role
    signs in through the region's identity provider only (with `idp_configured`)."""
    now = now or utcnow()
    expected = _use_challenge(challenge, "authenticate", now)
    refused = SignInRefused("Inloggningen misslyckades. Använd en passkey som är registrerad för Runda.")
    try:
        credential_id = base64url_to_bytes(credential["rawId"])
    except MALFORMED:
        raise refused from None
    async with db.transaction():
        row = await db.fetchrow(
            """
            SELECT p.id, p.public_key, p.sign_count, p.staff_user, u.organisation, u.active, u.role
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
        except (InvalidAuthenticationResponse, *MALFORMED):
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
    if not await may_sign_in_with(row["organisation"], row["role"], PASSKEY, idp_configured=idp_configured):
        await record_event("passkey_policy", "passkey sign-in refused by the role's policy",
                           organisation=row["organisation"], staff_user=row["staff_user"], now=now)
        raise SignInRefused(NOT_BY_PASSKEY)
    return await actor_signed_in(row["staff_user"], now)


# --- the person's own passkeys -----------------------------------------------------


async def list_passkeys(actor: Actor) -> list[dict]:
    return await passkeys_of(actor.id)


async def passkeys_of(staff_user_id: int) -> list[dict]:
    """A person's passkeys, oldest first: their own list, and the staff register's."""
    rows = await db.fetch(
        "SELECT id, nickname, created_at, last_used_at, backed_up, transports FROM passkey "
        "WHERE staff_user = $1 ORDER BY created_at, id",
        staff_user_id,
    )
    return [dict(r) for r in rows]


def _has_control_characters(value: str) -> bool:
    # PostgreSQL refuses a NUL byte, and no name needs the other control characters.
    return any(ord(c) < 32 or ord(c) == 127 for c in value)


async def rename_passkey(actor: Actor, passkey_id: int, nickname: str) -> None:
    nickname = " ".join(nickname.split())
    if _has_control_characters(nickname):
        raise AccountError(UNREADABLE_NAME, field="nickname")
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
    async with db.transaction():
        ids = [r["id"] for r in await db.fetch(
            "SELECT id FROM passkey WHERE staff_user = $1 FOR UPDATE", actor.id
        )]
        if passkey_id not in ids:
            raise AccountError("Passkeyn finns inte.")
        if len(ids) == 1:
            raise AccountError("Du kan inte ta bort din enda passkey; då kan du inte logga in igen.")
        await db.execute("DELETE FROM passkey WHERE id = $1", passkey_id)
