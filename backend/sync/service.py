"""Writes from the field, server side: each keyed write is applied at most once, and a write
that met a changed order is kept in full as a conflict for a person to resolve.

The receipt is stored in the same transaction as the change it acknowledges (see
middleware.py), so a write and its receipt exist together or not at all.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from backend import db
from backend.accounts.service import Actor

RECEIPT_DAYS = 30  # receipts are kept at least this long: a phone may replay for weeks
RECEIPT_KEEP_DAYS = RECEIPT_DAYS * 3  # what the periodic job keeps
PRUNE_EVERY_SECONDS = 3600

# An order's open conflicts, newest first, for the pages that show the order in one query
# (`{order}` is an SQL expression). `slug` is the visit action the submission was posted to.
OPEN_CONFLICTS_JSON_SQL = """
(SELECT coalesce(json_agg(x ORDER BY x.created_at DESC, x.id DESC), '[]') FROM (
    SELECT c.id, c.staff_user, regexp_replace(c.path, '^.*/', '') AS slug, c.created_at, s.name AS who
    FROM sync_conflict c JOIN staff_user s ON s.id = c.staff_user
    WHERE c.work_order = {order} AND c.resolved_at IS NULL) x)
"""


@dataclass(frozen=True)
class Receipt:
    key: str
    staff_user: int
    path: str
    body_hash: bytes
    status: int
    location: str | None


def body_hash(body: bytes, content_type: str) -> bytes:
    """A hash of what was submitted. A multipart body differs between two sends of the same
    fields only in its random boundary, so the boundary is taken out first."""
    if content_type.startswith("multipart/"):
        for part in content_type.split(";"):
            name, _, value = part.strip().partition("=")
            if name.lower() == "boundary" and value:
                body = body.replace(value.strip('"').encode(), b"")
    return hashlib.sha256(body).digest()


async def lock_key(key: str) -> None:
    """Serialise two deliveries of the same key until the first one's transaction ends."""
    await db.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 7))", key)


async def find_receipt(key: str) -> Receipt | None:
    row = await db.fetchrow(
        "SELECT key::text, staff_user, path, body_hash, status, location FROM write_receipt WHERE key = $1::uuid", key
    )
    return Receipt(row["key"], row["staff_user"], row["path"], bytes(row["body_hash"]), row["status"],
                   row["location"]) if row else None


async def store_receipt(*, key: str, actor: Actor, path: str, digest: bytes, status: int, location: str | None,
                        work_order_id: int | None) -> None:
    await db.execute(
        "INSERT INTO write_receipt (key, organisation, staff_user, path, body_hash, status, location, work_order) "
        "VALUES ($1::uuid, $2, $3, $4, $5, $6, $7, $8)",
        key, actor.organisation, actor.id, path, digest, status, location, work_order_id,
    )


async def record_conflict(*, actor: Actor, work_order_id: int, key: str | None, path: str, fields: dict,
                          message: str, base_version: int | None, photo: bytes | None = None) -> int:
    """Keep a refused submission in full: every field as sent (and the photo), and why."""
    return await db.fetchval(
        """
        INSERT INTO sync_conflict (organisation, staff_user, work_order, key, path, fields, photo, message, base_version)
        VALUES ($1, $2, $3, $4::uuid, $5, $6::jsonb, $7, $8, $9)
        ON CONFLICT (key) DO UPDATE SET key = excluded.key
        RETURNING id
        """,
        actor.organisation, actor.id, work_order_id, key, path, json.dumps(fields, ensure_ascii=False), photo,
        message, base_version,
    )


async def forget_old_receipts(days: int = RECEIPT_KEEP_DAYS) -> int:
    """Receipts older than `days` (never fewer than RECEIPT_DAYS) are no longer needed."""
    days = max(days, RECEIPT_DAYS)
    status = await db.execute("DELETE FROM write_receipt WHERE created_at < now() - make_interval(days => $1)", days)
    return int(status.split()[-1])


async def prune_receipts(days: int = RECEIPT_KEEP_DAYS) -> int | None:
    """The periodic job (and `runda prune-receipts`): forget old receipts, one process at a time.

    Several server processes run the job; the one that finds the lock taken skips this round
    (None). Conflicts (sync_conflict) are never touched: they wait for a person."""
    async with db.transaction():
        if not await db.fetchval("SELECT pg_try_advisory_xact_lock(hashtextextended('runda:prune_receipts', 0))"):
            return None
        return await forget_old_receipts(days)
