"""Writes from the field, server side: each keyed write is applied at most once, and a write
that met a changed order is kept in full as a conflict for a person to resolve.

`apply_or_keep` decides both, in one transaction with the receipt, so a write and its receipt
exist together or not at all and nothing the technician sent is lost, whatever the route then
renders. The middleware (middleware.py) only reads the key and the body, replays a receipt for
a key seen before, and turns a redirect into JSON for the outbox.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Awaitable, Callable

from backend import db
from backend.accounts.service import Actor, staff_name
from backend.db import Sql, raw
from backend.errors import DomainError
from backend.photos import PhotoRejected, clean_photo
from backend.workorders import service as workorders
from backend.workorders.service import OrderMovedOn

RECEIPT_DAYS = 30  # receipts are kept at least this long: a phone may replay for weeks
RECEIPT_KEEP_DAYS = RECEIPT_DAYS * 3  # what the periodic job keeps
PRUNE_EVERY_SECONDS = 3600



def open_conflicts_json(work_order: Sql) -> Sql:
    """The order's open conflicts, newest first, as a JSON array (id, staff_user, slug, created_at,
    who), for the pages that show the order in one query. `slug` is the visit action the
    submission was posted to."""
    return Sql(
        """
        (SELECT coalesce(json_agg(x ORDER BY x.created_at DESC, x.id DESC), '[]') FROM (
            SELECT c.id, c.staff_user, regexp_replace(c.path, '^.*/', '') AS slug, c.created_at, :who AS who
            FROM sync_conflict c WHERE c.work_order = :order AND c.resolved_at IS NULL) x)
        """,
        who=staff_name(raw("c.staff_user")), order=work_order)


@dataclass(frozen=True)
class Delivery:
    """A keyed write as it arrived: the outbox's Idempotency-Key, the path posted to, and a hash
    of the body (the same change sent twice hashes the same)."""

    key: str
    path: str
    digest: bytes


@dataclass(frozen=True)
class Applied:
    """Carried out; `location` is the answer's redirect (replayed for the same key)."""

    location: str


@dataclass(frozen=True)
class Kept:
    """The order had moved on: the submission is kept in full as conflict `conflict_id`."""

    reason: OrderMovedOn
    conflict_id: int


@dataclass(frozen=True)
class Replayed:
    """The key was delivered before: nothing was run again; `receipt` is the first answer."""

    receipt: "Receipt"


class KeyReused(DomainError):
    """The key came with a different change than the first time; nothing was run."""

    def __init__(self) -> None:
        super().__init__("Nyckeln har redan använts för en annan ändring.")


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


async def apply_or_keep(actor: Actor, delivery: Delivery | None, *, work_order_id: int, fields: dict,
                        photo: bytes | None, base_version: int | None,
                        apply: Callable[[], Awaitable[str]]) -> Applied | Kept | Replayed:
    """Apply a technician's write to a work order, or keep it: the one place that decides.

    `apply` runs the write (a visit action) and returns where its answer leads. Without a key
    (a plain form post) it simply runs, and a refusal goes up to the page. With a key, in one
    transaction: a key seen before is not run again (Replayed); the write runs, and its receipt
    is stored with it (Applied); or the order had moved on (OrderMovedOn: changed, reassigned,
    closed, or still waiting for earlier changes) and the submission is kept in full as a
    conflict, with a receipt, so a resend is not kept twice (Kept). Any other refusal writes
    nothing, no receipt either, and goes up: a corrected resend runs afresh."""
    if delivery is None:
        async with db.transaction():
            return Applied(await apply())
    try:
        async with db.transaction():
            replayed = await _replay(actor, delivery)
            if replayed:
                return replayed
            try:
                location = await apply()
            except OrderMovedOn as moved:
                raise _Keep(moved) from None  # leaves the transaction: whatever the write did is undone
            await store_receipt(key=delivery.key, actor=actor, path=delivery.path, digest=delivery.digest,
                                status=303, location=location, work_order_id=work_order_id)
            return Applied(location)
    except _Keep as keep:
        async with db.transaction():
            replayed = await _replay(actor, delivery)  # the same key may have been kept meanwhile
            if replayed:
                return replayed
            conflict_id = await record_conflict(actor=actor, work_order_id=work_order_id, key=delivery.key,
                                                path=delivery.path, fields=fields, message=keep.moved.message,
                                                base_version=base_version, photo=photo)
            await store_receipt(key=delivery.key, actor=actor, path=delivery.path, digest=delivery.digest,
                                status=409, location=None, work_order_id=work_order_id)
            return Kept(keep.moved, conflict_id)


class _Keep(Exception):
    def __init__(self, moved: OrderMovedOn) -> None:
        self.moved = moved


async def _replay(actor: Actor, delivery: Delivery) -> Replayed | None:
    """Under the key's lock (until the transaction ends): the first answer if the key was
    delivered before; refused if it came with another change then."""
    await lock_key(delivery.key)
    receipt = await find_receipt(delivery.key)
    if receipt is None:
        return None
    if (receipt.staff_user, receipt.path, receipt.body_hash) != (actor.id, delivery.path, delivery.digest):
        raise KeyReused()
    return Replayed(receipt)


async def record_conflict(*, actor: Actor, work_order_id: int, key: str | None, path: str, fields: dict,
                          message: str, base_version: int | None, photo: bytes | None = None) -> int:
    """Keep a refused submission in full: every field as sent (and the photo), and why.

    The photo is cleaned first, like every stored photo (re-encoded, no EXIF position); one
    that is not a usable image is left out, and the message says so: the fields are kept."""
    if photo is not None:
        try:
            photo = (await clean_photo(photo)).content
        except PhotoRejected as rejected:
            photo, message = None, f"{message} Fotot kunde inte sparas: {rejected.message}"
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


# --- conflicts kept for a person (resolving them is the visit domain's: backend/visits/conflicts.py) ---

LIST_LIMIT = 200


async def list_open_conflicts(organisation_id: int, staff_user_id: int | None = None) -> list[dict]:
    """Open conflicts, newest first (one technician's, or everyone's), with the order's number and
    status; no patient data."""
    rows = await db.fetch(Sql(
        """
        SELECT c.id, c.path, c.message, c.created_at, c.work_order, c.staff_user, w.number, w.status,
               :technician AS technician_name
        FROM sync_conflict c JOIN LATERAL (:order) w ON true
        WHERE c.organisation = :org AND c.resolved_at IS NULL AND (:who::int IS NULL OR c.staff_user = :who)
        ORDER BY c.created_at DESC, c.id DESC
        LIMIT :limit
        """,
        technician=staff_name(raw("c.staff_user")), order=workorders.order_brief(raw("c.work_order")),
        org=organisation_id, who=staff_user_id, limit=LIST_LIMIT))
    return [dict(r) for r in rows]


async def count_open_conflicts(organisation_id: int) -> int:
    return await db.fetchval(
        "SELECT count(*) FROM sync_conflict WHERE organisation = $1 AND resolved_at IS NULL", organisation_id)


async def find_conflict(organisation_id: int, conflict_id: int, *, with_photo: bool = False,
                        lock: bool = False) -> dict | None:
    """One conflict with who sent and who resolved it; `with_photo` the kept bytes (else whether
    there are any, has_photo); `lock` row-locks it for this transaction."""
    row = await db.fetchrow(Sql(
        f"""
        SELECT c.id, c.staff_user, c.work_order, c.path, c.fields, {"c.photo" if with_photo else
                                                                    "c.photo IS NOT NULL AS has_photo"}, c.message,
               c.base_version, c.created_at, c.resolved_at, c.resolution, c.resolution_note,
               :technician AS technician_name, :resolver AS resolved_by_name
        FROM sync_conflict c WHERE c.id = :id AND c.organisation = :org {"FOR UPDATE OF c" if lock else ""}
        """,
        technician=staff_name(raw("c.staff_user")), resolver=staff_name(raw("c.resolved_by")), id=conflict_id,
        org=organisation_id))
    if row is None:
        return None
    conflict = dict(row)
    if isinstance(conflict["fields"], str):
        conflict["fields"] = json.loads(conflict["fields"])
    return conflict


async def kept_photo(organisation_id: int, conflict_id: int) -> tuple[int, bytes] | None:
    """Who took the kept photo, and its bytes as sent."""
    row = await db.fetchrow("SELECT staff_user, photo FROM sync_conflict WHERE id = $1 AND organisation = $2",
                            conflict_id, organisation_id)
    return (row["staff_user"], bytes(row["photo"])) if row and row["photo"] is not None else None


async def mark_resolved(conflict_id: int, actor: Actor, resolution: str, note: str) -> None:
    await db.execute(
        "UPDATE sync_conflict SET resolved_at = now(), resolved_by = $2, resolution = $3, resolution_note = $4 "
        "WHERE id = $1",
        conflict_id, actor.id, resolution, note,
    )


async def writes_arrived(work_order_id: int, staff_user_id: int) -> int:
    """How many keyed writes of this person to this order have been received."""
    return await db.fetchval("SELECT count(*) FROM write_receipt WHERE work_order = $1 AND staff_user = $2",
                             work_order_id, staff_user_id)

