"""API tokens: an admin creates one per integration (shown once, only its hash kept), scoped to
reading or to reading and writing, and revokes it; every API call presents one.

An integration acts through the same services as staff do, as an `IntegrationActor`: it reads
what the organisation's coordinators read, and the access log names its token, not a person.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from backend import db
from backend.accounts.service import Actor, hash_token, staff_name
from backend.accounts.tables import Role
from backend.changes import service as changes
from backend.db import Sql, raw
from backend.errors import DomainError
from backend.forms import readable
from backend.integrations.tables import SCOPE_LABELS, TokenScope

REGISTER = "api_token"
TOKEN_PREFIX = "runda_"
TOKEN_BYTES = 32  # 256 bits
PREFIX_LENGTH = len(TOKEN_PREFIX) + 6  # what the list shows to recognise a token: runda_AbC123
NAME_MAX = 100
# A token as new_token makes it: what is not one is refused before any query.
_TOKEN = re.compile(re.escape(TOKEN_PREFIX) + r"[A-Za-z0-9_-]{43}")
# last_used_at is kept to the minute: an integration polling every second writes once a minute.
LAST_USED_RESOLUTION_SECONDS = 60

HISTORY_LABELS = {"name": "Integration", "scope": "Behörighet", "prefix": "Nyckel", "status": "Status"}
HISTORY_VALUES = {"scope": {s.value: label for s, label in SCOPE_LABELS.items()},
                  "status": {"active": "Aktiv", "revoked": "Återkallad"}}


class IntegrationError(DomainError):
    """A refused change to the API tokens; nothing was written."""


class TokenNotFound(Exception):
    pass


@dataclass(frozen=True)
class IntegrationActor(Actor):
    """An integration calling the API with its token, as the services' Actor: it reads what the
    organisation's coordinators read, and audit.record_patient_reads logs its reads under
    `api_token`. `id` is 0: no staff member, so a write that took it for a person would fail on
    the foreign key rather than name someone who did nothing."""

    api_token: int = 0
    scope: TokenScope = TokenScope.read

    @property
    def may_write(self) -> bool:
        return self.scope is TokenScope.write


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)


def looks_like_token(text: str) -> bool:
    return bool(_TOKEN.fullmatch(text))


def _check(name: str, scope: str) -> tuple[str, TokenScope]:
    problems = []
    name = " ".join(readable(name, "name").split())
    if not name:
        problems.append(("name", "Skriv vilken integration nyckeln är till, till exempel webSesam."))
    elif len(name) > NAME_MAX:
        problems.append(("name", f"Namnet får vara högst {NAME_MAX} tecken."))
    if scope not in {s.value for s in TokenScope}:
        problems.append(("scope", "Välj vad nyckeln får göra."))
    if problems:
        raise IntegrationError(problems[0][1], problems[0][0])
    return name, TokenScope(scope)


async def create_token(actor: Actor, *, name: str, scope: str) -> tuple[int, str]:
    """A new token for the integration `name`: its id and the token itself, which is shown once
    (only its hash is kept, so nobody can read it again)."""
    name, checked_scope = _check(name, scope)
    token = new_token()
    prefix = token[:PREFIX_LENGTH]
    async with db.transaction():
        token_id = await db.fetchval(
            "INSERT INTO api_token (organisation, name, scope, token_hash, prefix, created_by) "
            "VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            actor.organisation, name, checked_scope.value, hash_token(token), prefix, actor.id)
        await changes.record(actor.organisation, REGISTER, token_id, "created", actor=actor.id,
                             actor_name=actor.name,
                             after={"name": name, "scope": checked_scope.value, "prefix": prefix, "status": "active"})
    return token_id, token


async def revoke_token(actor: Actor, token_id: int) -> None:
    """Revoke a token at once: the next call with it is refused. It stays listed with its history."""
    async with db.transaction():
        row = await db.fetchrow("SELECT revoked_at FROM api_token WHERE id = $1 AND organisation = $2 FOR UPDATE",
                                token_id, actor.organisation)
        if row is None:
            raise TokenNotFound()
        if row["revoked_at"] is not None:
            raise IntegrationError("Nyckeln är redan återkallad.")
        await db.execute("UPDATE api_token SET revoked_at = now(), revoked_by = $2 WHERE id = $1", token_id, actor.id)
        await changes.record(actor.organisation, REGISTER, token_id, "deactivated", actor=actor.id,
                             actor_name=actor.name, before={"status": "active"}, after={"status": "revoked"})


_COLUMNS = """
t.id, t.name, t.scope, t.prefix, t.created_at, t.last_used_at, t.revoked_at,
:created_by_name AS created_by_name, :revoked_by_name AS revoked_by_name
"""


def _labelled(row) -> dict:
    token = dict(row)
    token["scope_label"] = SCOPE_LABELS[TokenScope(token["scope"])]
    token["active"] = token["revoked_at"] is None
    return token


def _names() -> dict[str, Sql]:
    return {"created_by_name": staff_name(raw("t.created_by")), "revoked_by_name": staff_name(raw("t.revoked_by"))}


async def tokens(organisation_id: int) -> list[dict]:
    """The organisation's tokens, active first, newest first."""
    rows = await db.fetch(Sql(
        f"SELECT {_COLUMNS} FROM api_token t WHERE t.organisation = :org "
        "ORDER BY t.revoked_at IS NOT NULL, t.created_at DESC, t.id DESC",
        org=organisation_id, **_names()))
    return [_labelled(r) for r in rows]


async def token(organisation_id: int, token_id: int) -> dict:
    row = await db.fetchrow(Sql(f"SELECT {_COLUMNS} FROM api_token t WHERE t.id = :id AND t.organisation = :org",
                                id=token_id, org=organisation_id, **_names()))
    if row is None:
        raise TokenNotFound()
    return _labelled(row)


async def history(organisation_id: int, token_id: int) -> list[changes.Change]:
    return await changes.history(organisation_id, REGISTER, token_id)


async def authenticate(presented: str, now: datetime | None = None) -> IntegrationActor | None:
    """The integration holding this token, or None for a token that is unknown, revoked or no
    token at all. Notes when it was last used (to the minute), in the same statement."""
    if not looks_like_token(presented):
        return None
    row = await db.fetchrow(
        """
        WITH found AS (SELECT id, organisation, name, scope, last_used_at FROM api_token
                       WHERE token_hash = $1 AND revoked_at IS NULL),
             touched AS (UPDATE api_token t SET last_used_at = $2::timestamptz FROM found
                         WHERE t.id = found.id AND (found.last_used_at IS NULL
                              OR found.last_used_at < $2::timestamptz - make_interval(secs => $3::float8)))
        SELECT id, organisation, name, scope FROM found
        """,
        hash_token(presented), now or datetime.now().astimezone(), LAST_USED_RESOLUTION_SECONDS)
    if row is None:
        return None
    return IntegrationActor(id=0, organisation=row["organisation"], name=row["name"], role=Role.coordinator,
                            care_unit=None, api_token=row["id"], scope=TokenScope(row["scope"]))
