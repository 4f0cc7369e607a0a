"""A phone's queue replayed against the real server process, through what the field does to
it: every change sent twice (one after the other, or both at once), answers lost on the way
back, sends given up at once, and the server killed (SIGKILL) in the middle of the queue with
a change written but not committed, then started again, after which the phone resends from
its first unacknowledged change. Afterwards the database holds every change exactly once.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from contextlib import asynccontextmanager
from datetime import date
from typing import AsyncIterator

import asyncpg
import httpx
import pytest

from backend import db
from backend.accounts import service as accounts
from backend.maintenance import service as maintenance
from tests.support.authenticator import SoftAuthenticator
from tests.support.factories import add_device, add_patient, add_work_order, delete_world, jpeg_bytes, make_world
from tests.support.http import csrf, register_via_invitation
from tests.support.outbox import Change, Phone
from tests.support.server import ServerProcess

CHECKLIST = [
    {"key": "frame", "text": "Ram och sits hela", "safety_critical": False, "measurement": None},
    {"key": "battery", "text": "Batterispänning i vila", "safety_critical": False,
     "measurement": {"unit": "V", "min": 23.0, "max": 26.5, "lowest": 0.0, "highest": 60.0}},
]
SPARE_PART = "910001"
KILL_AT = 25  # the change in flight when the server dies: a note, which nothing but its key keeps single
# How each change is delivered, by its position in the queue.
TROUBLE = ("twice", "together", "answer lost", "given up")


@pytest.fixture
async def world(database):
    world = await make_world()
    await maintenance.publish_checklist(world.category, CHECKLIST)
    patient = await add_patient(world)
    device = await add_device(world, holder=patient)
    world.order = await add_work_order(world, device, assignee=world.staff["technician"], planned=date.today(),
                                       type="maintenance", patient=patient, description="Årlig FU")
    await db.execute("INSERT INTO article (organisation, article_number, name, manufacturer) "
                     "VALUES ($1, $2, 'Däck 3.00-8', 'Permobil')", world.organisation, SPARE_PART)
    yield world
    await delete_world(world)


@pytest.fixture
def server(database_url, database):
    # Rate limits are counted per address in PostgreSQL, and every test signs in from 127.0.0.1.
    server = ServerProcess(database_url, RATE_LIMIT_PER_MINUTE="1000")
    server.start()
    yield server
    server.stop()


def field_visit(order: int) -> list[Change]:
    """A whole FU visit as a phone queues it offline: 40 changes, with a pause for a part."""
    visit = f"/besok/{order}"
    changes = [Change(f"{visit}/starta", {}, changes_order=True)]
    for n in range(1, 39):
        if n == 14:
            changes.append(Change(f"{visit}/pausa", {"reason": "Hämtar reservdel i bilen"}, changes_order=True))
        elif n == 16:
            changes.append(Change(f"{visit}/starta", {}, changes_order=True))
        elif n % 6 == 0:
            changes.append(Change(f"{visit}/tid", {"minutes": str(n)}))
        elif n % 6 == 1:
            changes.append(Change(f"{visit}/anteckning", {"note": f"Anteckning {n}"}))
        elif n % 6 == 2:
            changes.append(Change(f"{visit}/delar", {"article": f"{SPARE_PART} · Däck", "quantity": str(n)}))
        elif n % 6 == 3:
            changes.append(Change(f"{visit}/checklista", {"item-frame": "pass", "item-frame-comment": f"Svar {n}"}))
        elif n % 6 == 4:
            changes.append(Change(f"{visit}/checklista", {"item-battery": "pass", "item-battery-value": "24,5",
                                                          "item-battery-comment": f"Svar {n}"}))
        elif n in (5, 29):
            changes.append(Change(f"{visit}/foton", {"caption": f"Foto {n}"},
                                  files={"photo": (f"{n}.jpg", jpeg_bytes(), "image/jpeg")}))
        else:
            changes.append(Change(f"{visit}/anteckning", {"note": f"Anteckning {n}"}))
    changes.append(Change(f"{visit}/slutfor", {}, changes_order=True))
    return changes


async def sign_in(server: ServerProcess, world) -> httpx.AsyncClient:
    """The technician's phone, signed in with a passkey through a recovery invitation."""
    token, _ = await accounts.create_invitation(organisation_id=world.organisation, name="", role="technician",
                                                staff_user_id=world.staff["technician"])
    client = httpx.AsyncClient(base_url=server.base, headers={"accept": "text/html"}, timeout=30)
    await register_via_invitation(client, token, SoftAuthenticator(origin=server.base))
    return client


async def send_raw(phone: Phone, change: Change, port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """Send the change over a connection of its own, whose answer nobody may ever read."""
    request = phone.client.build_request("POST", change.path, data=change.fields, files=change.files,
                                         headers=change.headers(phone.csrf))
    body = request.read()
    head = f"POST {request.url.raw_path.decode()} HTTP/1.1\r\n" + "".join(
        f"{name}: {value}\r\n" for name, value in request.headers.multi_items()) + "\r\n"
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(head.encode("latin-1") + body)
    await writer.drain()
    return reader, writer


async def hang_up(writer: asyncio.StreamWriter) -> None:
    writer.close()
    try:
        await writer.wait_closed()
    except ConnectionError:
        pass  # the server went first


def answer(response: httpx.Response) -> dict:
    assert response.status_code == 200, (response.status_code, response.text[:300])
    return response.json()


async def deliver_in_trouble(phone: Phone, change: Change, trouble: str, port: int) -> dict:
    """Deliver one change the way `trouble` says; returns the answer the phone acts on."""
    if trouble == "twice":
        first, again = phone.acknowledge(await phone.deliver(change)), answer(await phone.deliver(change))
        assert (first["replayed"], again["replayed"]) == (False, True)
    elif trouble == "together":
        one, other = await asyncio.gather(phone.deliver(change), phone.deliver(change))
        first, again = phone.acknowledge(one), answer(other)
        assert {first["replayed"], again["replayed"]} == {False, True}
    elif trouble == "answer lost":
        # The answer starts to arrive (so the change is committed) and the network drops it.
        reader, writer = await send_raw(phone, change, port)
        assert await asyncio.wait_for(reader.read(1), timeout=20), "the server closed without answering"
        await hang_up(writer)
        first = again = phone.acknowledge(await phone.deliver(change))
        assert first["replayed"]
    else:
        # The phone gives up at once: the server may or may not have applied the change.
        await hang_up((await send_raw(phone, change, port))[1])
        first, again = phone.acknowledge(await phone.deliver(change)), answer(await phone.deliver(change))
        assert again["replayed"]
    assert again["location"] == first["location"]
    return first


async def replay(phone: Phone, port: int, until: int | None = None) -> None:
    """Send the queue from the first unacknowledged change, each in its kind of trouble."""
    while (until is None or phone.acked < until) and (change := phone.next_change()) is not None:
        await deliver_in_trouble(phone, change, TROUBLE[phone.acked % len(TROUBLE)], port)


@asynccontextmanager
async def receipt_held(database_url: str, world, key: str) -> AsyncIterator[None]:
    """An uncommitted receipt for `key` on a connection of the test's own: a server transaction
    storing the same key's receipt waits behind it, with the change itself already written."""
    conn = await asyncpg.connect(database_url)
    transaction = conn.transaction()
    await transaction.start()
    try:
        await conn.execute("INSERT INTO write_receipt (key, organisation, staff_user, path, body_hash, status) "
                           "VALUES ($1::uuid, $2, $3, '', '', 0)", key, world.organisation, world.staff["technician"])
        yield
    finally:
        await transaction.rollback()
        await conn.close()


async def backends_waiting_for_locks(count: int) -> None:
    """Until `count` server transactions wait for a lock (the receipt's key, or the advisory key lock)."""
    for _ in range(200):
        waiting = await db.fetchval("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                    "AND wait_event_type = 'Lock'")
        if waiting >= count:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{waiting} of {count} deliveries reached the database")


async def rows(sql: str, order: int) -> Counter:
    return Counter(r[0] for r in await db.fetch(sql, order))


async def test_a_queue_replayed_through_lost_answers_duplicates_and_a_crash_is_applied_exactly_once(
        database_url, world, server):
    client = await sign_in(server, world)
    changes = field_visit(world.order)
    phone = Phone(client, await csrf(client), await db.fetchval("SELECT version FROM work_order WHERE id = $1",
                                                                 world.order), changes)
    try:
        await replay(phone, server.port, until=KILL_AT)

        # The server dies with the next change written but not committed: its receipt waits
        # behind an uncommitted receipt of the same key that this test holds (so the moment is
        # certain), and a second delivery of the change waits for the key.
        in_flight = phone.next_change()
        async with receipt_held(database_url, world, in_flight.key):
            connections = [await send_raw(phone, in_flight, server.port) for _ in range(2)]
            await backends_waiting_for_locks(2)
            server.kill()
        for _, writer in connections:
            await hang_up(writer)
        assert not await db.fetchval("SELECT count(*) FROM write_receipt WHERE key = $1::uuid", in_flight.key)
        with pytest.raises(httpx.TransportError):
            await phone.deliver(in_flight)
        assert phone.acked == KILL_AT

        await asyncio.to_thread(server.start)
        await replay(phone, server.port)
    finally:
        await client.aclose()

    order = world.order
    assert phone.acked == len(changes)
    receipts = await db.fetch("SELECT key::text, status, staff_user FROM write_receipt WHERE work_order = $1", order)
    assert sorted(r["key"] for r in receipts) == sorted(c.key for c in changes)
    assert {(r["status"], r["staff_user"]) for r in receipts} == {(303, world.staff["technician"])}
    assert await db.fetchval("SELECT count(*) FROM sync_conflict WHERE work_order = $1", order) == 0

    def sent(path: str, name: str) -> Counter:
        return Counter(c.fields[name] for c in changes if c.path.endswith(path))

    assert await rows("SELECT text FROM work_note WHERE work_order = $1 AND kind = 'note'", order) == sent(
        "/anteckning", "note")
    assert await rows("SELECT minutes::text FROM time_entry WHERE work_order = $1", order) == sent("/tid", "minutes")
    assert await rows("SELECT quantity::text FROM part_used WHERE work_order = $1", order) == sent(
        "/delar", "quantity")
    assert await rows("SELECT caption FROM work_photo WHERE work_order = $1", order) == sent("/foton", "caption")
    answered = Counter(value for c in changes for name, value in c.fields.items() if name.endswith("-comment"))
    assert await rows("SELECT comment FROM checklist_answer WHERE work_order = $1", order) == answered
    assert await rows("SELECT kind FROM work_order_event WHERE work_order = $1", order) == Counter(
        started=2, paused=1, fu_done=1, completed=1)
    final = await db.fetchrow("SELECT status, version FROM work_order WHERE id = $1", order)
    assert (final["status"], final["version"]) == ("completed", 1 + sum(c.changes_order for c in changes))
    assert phone.version == final["version"]
