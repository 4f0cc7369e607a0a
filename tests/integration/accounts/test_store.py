"""The PostgreSQL key-value store behind sessions and rate limits."""

import asyncio

from backend import db
from backend.accounts.store import PostgresStore


async def test_set_get_delete_and_namespaces(database):
    store, other = PostgresStore("t_store"), PostgresStore("t_other")
    await store.set("k", "value", expires_in=60)
    assert await store.get("k") == b"value"
    assert await other.get("k") is None
    assert await store.exists("k") and 55 <= await store.expires_in("k") <= 60
    await store.delete("k")
    assert await store.get("k") is None
    await store.delete_all()


async def test_expired_values_are_gone(database):
    store = PostgresStore("t_expiry")
    await store.set("k", b"v", expires_in=1)
    await asyncio.sleep(1.1)
    assert await store.get("k") is None
    assert await store.get("k", renew_for=60) is None
    await store.delete_all()


async def test_renewal_pushes_expiry_forward_but_writes_at_most_once_a_minute(database):
    store = PostgresStore("t_renew")
    await store.set("k", b"v", expires_in=30)
    # Close to expiry: renewed to the full idle time.
    assert await store.get("k", renew_for=600) == b"v"
    assert await store.expires_in("k") > 590
    first = await db.fetchval("SELECT expires_at FROM kv_store WHERE namespace = 't_renew'")
    assert await store.get("k", renew_for=600) == b"v"
    assert await db.fetchval("SELECT expires_at FROM kv_store WHERE namespace = 't_renew'") == first
    await store.delete_all()
