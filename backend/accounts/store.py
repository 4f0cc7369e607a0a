"""A Litestar key-value store on a PostgreSQL table.

Sessions and rate-limit counters live here so every server process sees the same
ones; PostgreSQL stays the only state.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

from litestar.stores.base import NamespacedStore

from backend import db


def _seconds(value: int | timedelta | None) -> float | None:
    if value is None:
        return None
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class PostgresStore(NamespacedStore):
    def __init__(self, namespace: str) -> None:
        self.namespace = namespace

    def with_namespace(self, namespace: str) -> PostgresStore:
        return PostgresStore(f"{self.namespace}_{namespace}")

    async def set(self, key: str, value: str | bytes, expires_in: int | timedelta | None = None) -> None:
        data = value.encode() if isinstance(value, str) else value
        seconds = _seconds(expires_in)
        await db.execute(
            """
            INSERT INTO kv_store (namespace, key, value, expires_at)
            VALUES ($1, $2, $3, CASE WHEN $4::float8 IS NULL THEN NULL
                                     ELSE now() + make_interval(secs => $4::float8) END)
            ON CONFLICT (namespace, key) DO UPDATE SET value = EXCLUDED.value, expires_at = EXCLUDED.expires_at
            """,
            self.namespace, key, data, seconds,
        )
        # Expired rows are swept now and then by whoever writes, not by a timer.
        if random.random() < 0.01:
            await self.delete_expired()

    async def get(self, key: str, renew_for: int | timedelta | None = None) -> bytes | None:
        seconds = _seconds(renew_for)
        if seconds is None:
            return await self._get(key)
        # Renewing on every request would make every page view a write; a session's
        # idle expiry is pushed forward at most once a minute instead.
        return await db.fetchval(
            """
            WITH renewed AS (
                UPDATE kv_store SET expires_at = now() + make_interval(secs => $3::float8)
                WHERE namespace = $1 AND key = $2 AND expires_at > now()
                  AND expires_at < now() + make_interval(secs => $3::float8 - 60)
                RETURNING value
            )
            SELECT value FROM renewed
            UNION ALL
            SELECT value FROM kv_store
            WHERE namespace = $1 AND key = $2 AND (expires_at IS NULL OR expires_at > now())
              AND NOT EXISTS (SELECT 1 FROM renewed)
            LIMIT 1
            """,
            self.namespace, key, seconds,
        )

    async def _get(self, key: str) -> bytes | None:
        return await db.fetchval(
            "SELECT value FROM kv_store WHERE namespace = $1 AND key = $2 "
            "AND (expires_at IS NULL OR expires_at > now())",
            self.namespace, key,
        )

    async def delete(self, key: str) -> None:
        await db.execute("DELETE FROM kv_store WHERE namespace = $1 AND key = $2", self.namespace, key)

    async def delete_all(self) -> None:
        await db.execute("DELETE FROM kv_store WHERE namespace = $1", self.namespace)

    async def delete_expired(self) -> None:
        await db.execute("DELETE FROM kv_store WHERE expires_at <= now()")

    async def exists(self, key: str) -> bool:
        return await self._get(key) is not None

    async def expires_in(self, key: str) -> int | None:
        expires_at: datetime | None = await db.fetchval(
            "SELECT expires_at FROM kv_store WHERE namespace = $1 AND key = $2", self.namespace, key
        )
        if expires_at is None:
            return None
        return max(0, int((expires_at - datetime.now(timezone.utc)).total_seconds()))

    async def increment(self, key: str, window: int | timedelta) -> int:
        """Count one more at `key` and return the count in the current window."""
        count, _ = await self.count(key, window)
        return count

    async def count(self, key: str, window: int | timedelta) -> tuple[int, int]:
        """Count one more at `key`: the count in the current window (a fixed window of
        `window` seconds from its first count) and the seconds until it ends.

        One statement: the row lock of ON CONFLICT DO UPDATE orders concurrent counts, each
        sees the one before it, so every process agrees and none is lost."""
        row = await db.fetchrow(
            """
            INSERT INTO kv_store (namespace, key, value, expires_at)
            VALUES ($1, $2, '1', now() + make_interval(secs => $3::float8))
            ON CONFLICT (namespace, key) DO UPDATE SET
                value = CASE WHEN kv_store.expires_at <= now() THEN '1'::bytea
                             ELSE convert_to((convert_from(kv_store.value, 'UTF8')::int + 1)::text, 'UTF8') END,
                expires_at = CASE WHEN kv_store.expires_at <= now() THEN EXCLUDED.expires_at
                                  ELSE kv_store.expires_at END
            RETURNING convert_from(value, 'UTF8')::int AS count,
                      ceil(extract(epoch FROM expires_at - now()))::int AS resets_in
            """,
            self.namespace, key, _seconds(window),
        )
        # Counters of addresses that went quiet are swept now and then, as in set().
        if random.random() < 0.01:
            await self.delete_expired()
        return row["count"], max(0, row["resets_in"])
