"""Rate limits held by two real server processes on one database: a burst split over both
lets exactly the limit through, however the requests interleave (each count is one atomic
statement in PostgreSQL, not a read and a write behind one process's lock).
"""

from __future__ import annotations

import asyncio
import secrets
from collections import Counter

import httpx
import pytest

from backend import db
from backend.faults import service as faults
from tests.support.factories import add_device, add_patient, delete_world, device_token, make_world
from tests.support.server import ServerProcess

LIMIT = 30  # requests a minute per address, to the rate-limited routes together
ANSWERS = {"problems": ["no_drive"], "description": "Står still", "usable": "no", "can_bring_in": "no",
           "needs_replacement": "yes", "location": "usual", "contact_name": "Kim Anhörigsson",
           "contact_phone": "070-123 45 67", "call_times": "Vardagar"}
NO_FILE = ("", b"", "application/octet-stream")


@pytest.fixture(scope="module")
def servers(database_url, database):
    # One secret, as production's workers share one, so a CSRF token from either holds on both.
    secret = secrets.token_urlsafe(32)
    started = []
    try:
        for _ in range(2):
            server = ServerProcess(database_url, RATE_LIMIT_PER_MINUTE=str(LIMIT))
            server.env["SECRET_KEY"] = secret
            server.start()
            started.append(server)
        yield started
    finally:
        for server in started:
            server.stop()


@pytest.fixture
async def sticker(database):
    world = await make_world()
    device = await add_device(world, holder=await add_patient(world))
    yield device, await device_token(world, device)
    await delete_world(world)


async def fresh_counters() -> None:
    # Every request here comes from 127.0.0.1, as earlier tests' did: start each burst at zero.
    await db.execute("DELETE FROM kv_store WHERE namespace = 'rate_limit'")


async def burst(servers, send, count: int) -> list[httpx.Response]:
    """`count` requests at once, every other one to each server."""
    clients = [httpx.AsyncClient(base_url=server.base, timeout=30) for server in servers]
    try:
        return await asyncio.gather(*(send(clients[n % len(clients)], n) for n in range(count)))
    finally:
        for client in clients:
            await client.aclose()


async def test_sign_in_and_public_pages_let_exactly_the_limit_through_over_two_processes(servers, sticker):
    _, token = sticker
    csrf_token = httpx.get(f"{servers[0].base}/offline").cookies["runda_csrf"]
    await fresh_counters()

    async def send(client: httpx.AsyncClient, n: int) -> httpx.Response:
        if n % 3 == 0:
            return await client.get("/logga-in")
        if n % 3 == 1:
            return await client.post("/logga-in/alternativ", json={}, headers={
                "x-csrftoken": csrf_token, "cookie": f"runda_csrf={csrf_token}"})
        return await client.get(f"/f/{token}")

    responses = await burst(servers, send, 3 * LIMIT)
    statuses = Counter(r.status_code for r in responses)
    assert statuses[429] == 2 * LIMIT and sum(statuses[s] for s in (200, 201)) == LIMIT, statuses
    assert {r.url.port for r in responses if r.status_code == 429} == {s.port for s in servers}
    refused = next(r for r in responses if r.status_code == 429)
    assert "För många försök" in refused.text and 0 < int(refused.headers["retry-after"]) <= 60


async def test_reports_through_one_sticker_stop_at_exactly_the_hourly_limit_over_two_processes(servers, sticker):
    device, token = sticker
    await fresh_counters()

    async def send(client: httpx.AsyncClient, n: int) -> httpx.Response:
        # Each its own answers: the same answers again within half an hour are the same case.
        data = {**ANSWERS, "description": f"{ANSWERS['description']} ({n})", "submission": faults.new_token()}
        return await client.post(f"/f/{token}/anmal", data=data, files={"photo": NO_FILE})

    # Within the per-address limit, so the sticker's own limit is the one that holds.
    responses = await burst(servers, send, LIMIT)
    statuses = Counter(r.status_code for r in responses)
    allowed = faults.REPORTS_PER_TOKEN_PER_HOUR
    assert statuses[303] == allowed and statuses[429] == LIMIT - allowed, statuses
    assert await db.fetchval("SELECT count(*) FROM fault_report WHERE device = $1", device) == allowed
    assert any("Många felanmälningar" in r.text for r in responses if r.status_code == 429)
