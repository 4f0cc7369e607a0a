"""Who an identity from the region's identity provider is in Runda, and how each role may sign in.

Linking people, not creating strangers: an identity is a staff member's when it was linked
before (issuer + subject), when its HSA-id is one an admin registered, or when the person comes
through the provider from their invitation link. Anyone else gets a page saying to contact the
HMC and a security event, never an account; unless OIDC_AUTO_CREATE is on and an admin mapped
the person's commission claim to a role (idp_role_mapping).

The sign-in policy says, per organisation and role, whether passkeys, the provider or both may
be used (no row: both). Without a configured provider passkeys are always allowed, or nobody
could sign in.
"""

from __future__ import annotations

import dataclasses
import secrets
from datetime import datetime

from backend import db
from backend.forms import INT4_MAX, INT4_MIN
from backend.accounts.invitations import open_invitation, use_invitation
from backend.accounts.register import hsa_id as stored_hsa_id
from backend.accounts import oidc
from backend.accounts.oidc import Identity
from backend.accounts.staff import AccountError, Actor, actor_signed_in, create_staff_user, utcnow
from backend.accounts.tables import ROLE_LABELS, Role
from backend.organisations import service as organisations
from backend.settings import OidcSettings

PASSKEY, IDP, BOTH = "passkey", "idp", "both"
POLICY_LABELS = {
    BOTH: "Passkey eller regionens inloggning",
    IDP: "Endast regionens inloggning",
    PASSKEY: "Endast passkey",
}

UNKNOWN = ("Du har inget konto i Runda – kontakta din samordnare eller administratör på "
           "hjälpmedelscentralen, så lägger de till dig.")
INACTIVE = "Kontot är inaktiverat. Kontakta en administratör."
NOT_BY_IDP = "Din roll loggar inte in med regionens inloggning i Runda. Logga in med din passkey."
NOT_BY_PASSKEY = "Din roll loggar in med regionens inloggning i Runda, inte med passkey."
LINKED_ELSEWHERE = "Den här inloggningen hör redan till ett annat konto i Runda. Kontakta en administratör."
HSA_MISMATCH = ("HSA-id från regionens inloggning stämmer inte med personen i inbjudan. "
                "Kontakta den som bjöd in dig.")
AUTO_CREATED_BY = "Regionens inloggning (automatiskt konto)"


class IdpRefused(AccountError):
    """A provider identity that may not sign in; `kind` names the security event, `unknown`
    says Runda has no account for it."""

    def __init__(self, message: str, kind: str, *, unknown: bool = False) -> None:
        super().__init__(message)
        self.kind = kind
        self.unknown = unknown


async def record_event(kind: str, detail: str = "", *, organisation: int | None = None,
                       staff_user: int | None = None, now: datetime | None = None) -> None:
    """A security event for a person to review (refused sign-ins). Recorded on its own, outside
    the refused sign-in's transaction, so the refusal leaves this trace and nothing else."""
    await db.execute(
        "INSERT INTO security_event (organisation, staff_user, kind, detail, at) VALUES ($1, $2, $3, $4, $5)",
        organisation, staff_user, kind[:40], detail[:1000], now or utcnow(),
    )


# --- the policy -------------------------------------------------------------------------


async def policy_of(organisation_id: int, role: Role | str) -> str:
    methods = await db.fetchval(
        "SELECT methods FROM sign_in_policy WHERE organisation = $1 AND role = $2",
        organisation_id, Role(role).value,
    )
    return methods or BOTH


def allows(methods: str, method: str, *, idp_configured: bool) -> bool:
    if not idp_configured:
        return method == PASSKEY
    return methods == BOTH or methods == method


async def may_sign_in_with(organisation_id: int, role: Role | str, method: str, *, idp_configured: bool) -> bool:
    return allows(await policy_of(organisation_id, role), method, idp_configured=idp_configured)


async def policies(organisation_id: int) -> list[dict]:
    """Every role with its policy, for the admin page."""
    rows = await db.fetch("SELECT role, methods FROM sign_in_policy WHERE organisation = $1", organisation_id)
    chosen = {r["role"]: r["methods"] for r in rows}
    return [{"role": role.value, "role_label": ROLE_LABELS[role], "methods": chosen.get(role.value, BOTH)}
            for role in Role]


async def set_policies(actor: Actor, choices: dict[str, str], *, idp_configured: bool) -> None:
    """An admin sets how each role signs in; all roles at once, or none when one is wrong."""
    if actor.role is not Role.admin:
        raise AccountError("Bara en administratör kan ändra inloggningssätt.")
    values = {}
    for role in Role:
        methods = choices.get(role.value, BOTH)
        if methods not in POLICY_LABELS:
            raise AccountError("Välj ett inloggningssätt.", field=f"policy_{role.value}")
        if methods == IDP and not idp_configured:
            raise AccountError("Regionens inloggning är inte inställd för Runda än; välj passkey eller båda.",
                               field=f"policy_{role.value}")
        values[role.value] = methods
    if values[Role.admin.value] == IDP and not await _admin_has_idp_link(actor):
        # Else the admin would lock themselves out before ever signing in through the provider.
        raise AccountError("Logga in med regionens inloggning en gång innan du gör den till enda sättet "
                           "för administratörer.", field=f"policy_{Role.admin.value}")
    async with db.transaction():
        for role, methods in values.items():
            await db.execute(
                """
                INSERT INTO sign_in_policy (organisation, role, methods) VALUES ($1, $2, $3)
                ON CONFLICT (organisation, role) DO UPDATE SET methods = EXCLUDED.methods
                """,
                actor.organisation, role, methods,
            )


async def _admin_has_idp_link(actor: Actor) -> bool:
    return bool(await db.fetchval("SELECT EXISTS (SELECT 1 FROM idp_link WHERE staff_user = $1)", actor.id))


async def sign_in_choices(*, idp_configured: bool) -> tuple[bool, bool]:
    """(passkeys, provider): which ways the shared sign-in page offers. A way is shown when some
    active person may use it (or, for the provider, when anyone may come from it)."""
    if not idp_configured:
        return True, False
    row = await db.fetchrow(
        """
        SELECT EXISTS (SELECT 1 FROM staff_user u LEFT JOIN sign_in_policy p
                       ON p.organisation = u.organisation AND p.role = u.role
                       WHERE u.active AND coalesce(p.methods, 'both') <> 'idp') AS passkey,
               EXISTS (SELECT 1 FROM sign_in_policy WHERE methods = 'passkey')
               AND NOT EXISTS (SELECT 1 FROM staff_user u LEFT JOIN sign_in_policy p
                               ON p.organisation = u.organisation AND p.role = u.role
                               WHERE u.active AND coalesce(p.methods, 'both') <> 'passkey') AS passkey_only
        """
    )
    return bool(row["passkey"]), not row["passkey_only"]


# --- linking ------------------------------------------------------------------------------


async def sign_in_with_identity(identity: Identity, *, invitation_token: str | None = None,
                                auto_create: bool = False, now: datetime | None = None) -> Actor:
    """The staff member `identity` is, signed in; IdpRefused (recorded as a security event) when
    there is none or they may not. From an invitation, the identity is linked to its person."""
    now = now or utcnow()
    # The HSA-id as the staff register keeps it; a claim not of its shape is no HSA-id.
    try:
        identity = dataclasses.replace(identity, hsa_id=stored_hsa_id(identity.hsa_id or ""))
    except AccountError:
        identity = dataclasses.replace(identity, hsa_id=None)
    try:
        return await _sign_in(identity, invitation_token, auto_create, now)
    except IdpRefused as exc:
        await record_event(exc.kind, _detail(identity), organisation=getattr(exc, "organisation", None),
                           staff_user=getattr(exc, "staff_user", None), now=now)
        raise


def _detail(identity: Identity) -> str:
    # For the reviewing admin (in the database, never in the logs): who the provider said it was.
    return f"issuer {identity.issuer}; HSA-id {identity.hsa_id or '–'}"


def _refused(message: str, kind: str, *, organisation: int | None = None, staff_user: int | None = None,
             unknown: bool = False) -> IdpRefused:
    exc = IdpRefused(message, kind, unknown=unknown)
    exc.organisation, exc.staff_user = organisation, staff_user  # type: ignore[attr-defined]
    return exc


async def _sign_in(identity: Identity, invitation_token: str | None, auto_create: bool, now: datetime) -> Actor:
    async with db.transaction():
        linked = await db.fetchval(
            "SELECT staff_user FROM idp_link WHERE issuer = $1 AND subject = $2 FOR UPDATE",
            identity.issuer, identity.subject,
        )
        if invitation_token is not None:
            staff_user_id = await _from_invitation(identity, invitation_token, linked, now)
        elif linked is not None:
            staff_user_id = linked
        else:
            staff_user_id = await _by_hsa_id(identity)
            if staff_user_id is None and auto_create:
                staff_user_id = await _auto_create(identity, now)
            if staff_user_id is None:
                raise _refused(UNKNOWN, "oidc_unknown_identity", unknown=True)
        person = await db.fetchrow(
            "SELECT organisation, role, active FROM staff_user WHERE id = $1 FOR UPDATE", staff_user_id
        )
        if not person["active"]:
            raise _refused(INACTIVE, "oidc_inactive", organisation=person["organisation"], staff_user=staff_user_id)
        if not await may_sign_in_with(person["organisation"], person["role"], IDP, idp_configured=True):
            raise _refused(NOT_BY_IDP, "oidc_policy", organisation=person["organisation"], staff_user=staff_user_id)
        if linked is None:
            await db.execute(
                "INSERT INTO idp_link (staff_user, issuer, subject, created_at, last_signed_in_at) "
                "VALUES ($1, $2, $3, $4, $4)",
                staff_user_id, identity.issuer, identity.subject, now,
            )
        else:
            await db.execute(
                "UPDATE idp_link SET last_signed_in_at = $3 WHERE issuer = $1 AND subject = $2",
                identity.issuer, identity.subject, now,
            )
        return await actor_signed_in(staff_user_id, now)


async def _from_invitation(identity: Identity, token: str, linked: int | None, now: datetime) -> int:
    invitation = await open_invitation(token, now, lock=True)  # InvitationUnusable: the route says so
    org = invitation.organisation
    if linked is not None and linked != invitation.staff_user:
        raise _refused(LINKED_ELSEWHERE, "oidc_link_conflict", organisation=org, staff_user=linked)
    if not await may_sign_in_with(org, invitation.role, IDP, idp_configured=True):
        raise _refused(NOT_BY_IDP, "oidc_policy", organisation=org, staff_user=invitation.staff_user)
    if identity.hsa_id:
        holder = await db.fetchval(
            "SELECT id FROM staff_user WHERE organisation = $1 AND hsa_id = $2", org, identity.hsa_id
        )
        if holder is not None and holder != invitation.staff_user:
            raise _refused(LINKED_ELSEWHERE, "oidc_link_conflict", organisation=org, staff_user=holder)
    staff_user_id = invitation.staff_user
    if staff_user_id is None:
        staff_user_id = await create_staff_user(
            organisation=org, name=invitation.name, role=invitation.role, care_unit=invitation.care_unit,
            user_handle=secrets.token_bytes(32), now=now, created_by=invitation.created_by,
        )
    else:
        known = await db.fetchrow("SELECT hsa_id, active FROM staff_user WHERE id = $1", staff_user_id)
        if not known["active"]:
            raise _refused(INACTIVE, "oidc_inactive", organisation=org, staff_user=staff_user_id)
        if known["hsa_id"] and identity.hsa_id and known["hsa_id"] != identity.hsa_id:
            raise _refused(HSA_MISMATCH, "oidc_hsa_mismatch", organisation=org, staff_user=staff_user_id)
    if identity.hsa_id:
        await db.execute("UPDATE staff_user SET hsa_id = $2 WHERE id = $1 AND hsa_id IS NULL",
                         staff_user_id, identity.hsa_id)
    await use_invitation(invitation.id, now)
    return staff_user_id


async def _by_hsa_id(identity: Identity) -> int | None:
    """The one person an admin registered with this HSA-id (in any organisation of this
    installation); None when there is none, or more than one to choose between."""
    if not identity.hsa_id:
        return None
    rows = await db.fetch("SELECT id FROM staff_user WHERE hsa_id = $1 LIMIT 2", identity.hsa_id)
    return rows[0]["id"] if len(rows) == 1 else None


async def _auto_create(identity: Identity, now: datetime) -> int | None:
    """OIDC_AUTO_CREATE: a new person from the admin's mapping of their commission claim."""
    if not identity.commission or not identity.name:
        return None
    rows = await db.fetch(
        "SELECT organisation, role, care_unit FROM idp_role_mapping WHERE claim_value = $1 LIMIT 2",
        identity.commission,
    )
    if len(rows) != 1:
        return None
    mapping = rows[0]
    staff_user_id = await create_staff_user(
        organisation=mapping["organisation"], name=identity.name, role=Role(mapping["role"]),
        care_unit=mapping["care_unit"], user_handle=secrets.token_bytes(32), now=now,
        created_by_name=AUTO_CREATED_BY,
    )
    if identity.hsa_id:
        taken = await db.fetchval("SELECT EXISTS (SELECT 1 FROM staff_user WHERE organisation = $1 AND hsa_id = $2)",
                                  mapping["organisation"], identity.hsa_id)
        if not taken:
            await db.execute("UPDATE staff_user SET hsa_id = $2 WHERE id = $1", staff_user_id, identity.hsa_id)
    return staff_user_id


# --- the commission -> role mapping (OIDC_AUTO_CREATE) --------------------------------------


async def role_mappings(organisation_id: int) -> list[dict]:
    rows = await db.fetch(
        "SELECT id, claim_value, role, care_unit FROM idp_role_mapping WHERE organisation = $1 ORDER BY claim_value",
        organisation_id,
    )
    return [{**dict(r), "role_label": ROLE_LABELS[Role(r["role"])]} for r in rows]


async def add_role_mapping(actor: Actor, claim_value: str, role: str, care_unit: int | None,
                           now: datetime | None = None) -> None:
    if actor.role is not Role.admin:
        raise AccountError("Bara en administratör kan ändra kopplingar.")
    claim_value = " ".join(claim_value.split())
    if not claim_value:
        raise AccountError("Skriv uppdragets eller gruppens namn som det kommer från regionen.", field="claim_value")
    if len(claim_value) > 200 or any(ord(c) < 32 or ord(c) == 127 for c in claim_value):
        raise AccountError("Värdet får vara högst 200 vanliga tecken.", field="claim_value")
    try:
        role_value = Role(role)
    except ValueError:
        raise AccountError("Välj en roll.", field="role") from None
    if role_value is Role.admin:
        # An administrator is always someone an admin chose, never a claim's consequence.
        raise AccountError("Administratörer kan inte skapas automatiskt.", field="role")
    if role_value is Role.prescriber:
        if care_unit is None or not await organisations.care_unit_exists(actor.organisation, care_unit):
            raise AccountError("En förskrivare behöver en vårdenhet.", field="care_unit")
    else:
        care_unit = None
    status = await db.execute(
        """
        INSERT INTO idp_role_mapping (organisation, claim_value, role, care_unit, created_at)
        VALUES ($1, $2, $3, $4, $5) ON CONFLICT (organisation, claim_value) DO NOTHING
        """,
        actor.organisation, claim_value, role_value.value, care_unit, now or utcnow(),
    )
    if status.endswith(" 0"):
        raise AccountError("Det värdet har redan en koppling.", field="claim_value")


async def remove_role_mapping(actor: Actor, mapping_id: int) -> None:
    if actor.role is not Role.admin:
        raise AccountError("Bara en administratör kan ändra kopplingar.")
    if not INT4_MIN <= mapping_id <= INT4_MAX:
        raise AccountError("Kopplingen finns inte.")
    status = await db.execute("DELETE FROM idp_role_mapping WHERE id = $1 AND organisation = $2",
                              mapping_id, actor.organisation)
    if status.endswith(" 0"):
        raise AccountError("Kopplingen finns inte.")


# --- the whole answer at the callback -------------------------------------------------------


async def sign_in_through_provider(config: OidcSettings, flow: dict | None, params: dict[str, str],
                                   now: datetime | None = None) -> tuple[Actor, Identity]:
    """The provider's answer at the callback (`flow`: what oidc.begin gave, out of the session;
    `params`: the callback's query) checked, and the person it is signed in. Refusals raise
    OidcRefused or IdpRefused, each recorded as a security event; nothing else is written."""
    try:
        identity = await oidc.finish(config, flow, params)
    except oidc.OidcRefused as exc:
        await record_event(exc.kind, "sign-in through the identity provider refused", now=now)
        raise
    invitation = flow.get("invitation") if flow else None
    actor = await sign_in_with_identity(identity, invitation_token=invitation if isinstance(invitation, str) else None,
                                        auto_create=config.auto_create, now=now)
    return actor, identity
