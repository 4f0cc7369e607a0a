"""The reconnect storm of `make bench`: many phones come back online at once and each replays
its outbox: a start, then notes, time, parts and checklist answers, in order, keyed, with
`Accept: application/json`, as `frontend/static/js/outbox.js` sends them.

Each phone is a technician of its own (created for the storm, signed in from an address of its
own) with one FU visit. Afterwards every change must be in the database exactly once; then
everything the storm added is removed again.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections import Counter
from dataclasses import dataclass, field

import httpx

from backend import db
from backend.cli import _run_with_pool
from tests.support.outbox import Change, Phone

STORM_TECHNICIAN = "Stormtekniker"  # name prefix of the storm's people
STORM_ORDER = "STORM-"  # number prefix of the storm's work orders
STORM_TEXT = "storm"  # notes and checklist comments: "storm <key>"


@dataclass
class Visit:
    staff_user: int
    order: int
    version: int
    items: list[dict]
    token: str = ""


@dataclass
class Storm:
    changes: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    failures: Counter = field(default_factory=Counter)
    missing: int = 0  # changes not in the database
    extra: int = 0  # rows no change explains: a change stored twice, a conflict


def run_storm(database_url: str, base: str, phones: int, changes: int) -> Storm:
    """Sign the phones in, let them all replay at once, check exactly-once, remove it all."""
    _run_with_pool(database_url, remove_storm)  # what an interrupted run left behind
    visits, spare_parts = _run_with_pool(database_url, lambda: prepare(phones))
    sessions: list[str] = []
    storm = Storm()
    try:
        queues = [queue(visit, spare_parts, changes, n) for n, visit in enumerate(visits)]
        asyncio.run(drive(base, visits, queues, storm, sessions))
        expected = Counter(row for visit, queued in zip(visits, queues) for row in expected_rows(visit, queued))
        stored = _run_with_pool(database_url, lambda: stored_rows([v.order for v in visits]))
        storm.changes = sum(len(q) for q in queues)
        storm.missing = sum((expected - stored).values())
        storm.extra = sum((stored - expected).values())
    finally:
        _run_with_pool(database_url, lambda: remove_storm(sessions))
    return storm


async def prepare(phones: int) -> tuple[list[Visit], list[str]]:
    """A technician and a planned FU visit (on an in-use device with a checklist) per phone."""
    organisation = await db.fetchval("SELECT min(id) FROM organisation")
    devices = await db.fetch(
        """
        SELECT DISTINCT ON (d.id) d.id, d.holder, t.items
        FROM device d JOIN article a ON a.id = d.article JOIN checklist_template t ON t.category = a.category
        WHERE d.organisation = $1 AND d.status = 'in_use' AND d.holder IS NOT NULL
        ORDER BY d.id, t.version DESC LIMIT $2
        """, organisation, phones)
    if len(devices) < phones:
        raise SystemExit(f"bench: the demo has only {len(devices)} devices for {phones} storm phones")
    people = await db.fetch(
        "INSERT INTO staff_user (organisation, name, role, user_handle) "
        "SELECT $1, $2 || ' ' || n, 'technician', $3::bytea || int4send(n) FROM generate_series(1, $4) n "
        "RETURNING id", organisation, STORM_TECHNICIAN, secrets.token_bytes(28), phones)
    orders = await db.fetch(
        """
        INSERT INTO work_order (organisation, number, type, status, channel, device, patient, description, assignee,
                                planned_date, received_at, start_due, finish_due)
        SELECT $1, $2 || lpad(n::text, 5, '0'), 'maintenance', 'planned', 'generated', device, patient,
               'FU (benchmark)', assignee, current_date, now(), current_date, current_date
        FROM unnest($3::int[], $4::int[], $5::int[]) WITH ORDINALITY AS x(device, patient, assignee, n)
        RETURNING id, assignee, version
        """, organisation, STORM_ORDER, [d["id"] for d in devices], [d["holder"] for d in devices],
        [p["id"] for p in people])
    order_of = {o["assignee"]: o for o in orders}
    visits = []
    for person, device in zip(people, devices):
        order = order_of[person["id"]]
        items = device["items"] if isinstance(device["items"], list) else json.loads(device["items"])
        visits.append(Visit(person["id"], order["id"], order["version"], items))
    from backend.accounts.service import create_invitation

    for visit in visits:
        visit.token, _ = await create_invitation(organisation_id=organisation, name="", role="technician",
                                                 staff_user_id=visit.staff_user)
    spare_parts = [r["article_number"] for r in await db.fetch(
        "SELECT article_number FROM article WHERE organisation = $1 AND category IS NULL ORDER BY id", organisation)]
    return visits, spare_parts


def queue(visit: Visit, spare_parts: list[str], changes: int, seed: int) -> list[Change]:
    """The phone's outbox: the visit started, then a mix of what a technician records. Minutes and
    quantities differ within a queue, notes and checklist comments name their key, so each
    change can be found in the database."""
    path = f"/besok/{visit.order}"
    entries = [Change(f"{path}/starta", {}, changes_order=True)]
    for n in range(1, changes):
        kind = ("note", "time", "answer", "part", "answer", "note", "time", "answer", "part", "note")[n % 10]
        change = Change(path, {})
        if kind == "note":
            change.path, change.fields = f"{path}/anteckning", {"note": f"{STORM_TEXT} {change.key}"}
        elif kind == "time":
            change.path, change.fields = f"{path}/tid", {"minutes": str(n)}
        elif kind == "part":
            article = spare_parts[(seed + n) % len(spare_parts)]
            change.path, change.fields = f"{path}/delar", {"article": article, "quantity": str(n)}
        else:
            item = visit.items[(seed + n) % len(visit.items)]
            name = f"item-{item['key']}"
            change.path, change.fields = f"{path}/checklista", {name: "pass",
                                                                 f"{name}-comment": f"{STORM_TEXT} {change.key}"}
            if item.get("measurement"):
                measurement = item["measurement"]
                change.fields[f"{name}-value"] = f"{(measurement['min'] + measurement['max']) / 2:g}"
        entries.append(change)
    return entries


async def sign_in(client: httpx.AsyncClient, token: str) -> None:
    """The development sign-in (the bench's server runs with RUNDA_DEV) from the phone's own address."""
    await client.get(f"/inbjudan/{token}")
    response = await client.post(f"/inbjudan/{token}/utan-passkey",
                                 data={"_csrf_token": client.cookies["runda_csrf"]})
    if response.status_code not in (302, 303):
        raise SystemExit(f"bench: a storm phone could not sign in ({response.status_code})")


async def drive(base: str, visits: list[Visit], queues: list[list[Change]], storm: Storm,
                sessions: list[str]) -> None:
    limits = httpx.Limits(max_connections=1)  # a phone delivers one change at a time
    clients = [httpx.AsyncClient(base_url=base, timeout=60, limits=limits, follow_redirects=False,
                                 headers={"x-forwarded-for": f"127.77.{n // 250}.{n % 250 + 1}"})
               for n in range(len(visits))]
    try:
        signing_in = asyncio.Semaphore(20)

        async def signed_in(client: httpx.AsyncClient, visit: Visit, changes: list[Change]) -> Phone:
            async with signing_in:
                await sign_in(client, visit.token)
            sessions.append(client.cookies["runda_session"])
            return Phone(client, client.cookies["runda_csrf"], visit.version, changes)

        phones = await asyncio.gather(*(signed_in(client, visit, changes)
                                        for client, visit, changes in zip(clients, visits, queues)))
        started = time.perf_counter()
        await asyncio.gather(*(replay(phone, storm) for phone in phones))
        storm.seconds = time.perf_counter() - started
    finally:
        await asyncio.gather(*(client.aclose() for client in clients))


async def replay(phone: Phone, storm: Storm) -> None:
    """Deliver the queue in order; a phone whose change is not acknowledged stops there, as the
    outbox keeps that change and the ones behind it."""
    while (change := phone.next_change()) is not None:
        started = time.perf_counter()
        try:
            response = await phone.deliver(change)
        except httpx.TransportError as exc:
            storm.failures[type(exc).__name__] += 1
            return
        storm.latencies.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            storm.failures[f"HTTP {response.status_code}"] += 1
            return
        phone.acknowledge(response)


def expected_rows(visit: Visit, changes: list[Change]) -> list[tuple]:
    rows = [(visit.order, "receipt", c.key) for c in changes] + [(visit.order, "event", "started")]
    for change in changes:
        action = change.path.rsplit("/", 1)[1]
        if action == "anteckning":
            rows.append((visit.order, "note", change.fields["note"]))
        elif action == "tid":
            rows.append((visit.order, "time", change.fields["minutes"]))
        elif action == "delar":
            rows.append((visit.order, "part", change.fields["quantity"]))
        elif action == "checklista":
            rows.append((visit.order, "answer", next(v for k, v in change.fields.items() if k.endswith("-comment"))))
    return rows


async def stored_rows(orders: list[int]) -> Counter:
    rows = await db.fetch(
        """
        SELECT work_order, 'receipt', key::text FROM write_receipt WHERE work_order = ANY($1)
        UNION ALL SELECT work_order, 'event', kind FROM work_order_event WHERE work_order = ANY($1)
        UNION ALL SELECT work_order, 'note', text FROM work_note WHERE work_order = ANY($1)
        UNION ALL SELECT work_order, 'time', minutes::text FROM time_entry WHERE work_order = ANY($1)
        UNION ALL SELECT work_order, 'part', quantity::text FROM part_used WHERE work_order = ANY($1)
        UNION ALL SELECT work_order, 'answer', comment FROM checklist_answer WHERE work_order = ANY($1)
        UNION ALL SELECT work_order, 'conflict', key::text FROM sync_conflict WHERE work_order = ANY($1)
        """, orders)
    return Counter(tuple(r.values()) for r in rows)


async def remove_storm(sessions: list[str] | None = None) -> None:
    """Remove the storm's people, orders and everything recorded on them, its sessions and the
    sign-in counters of its addresses."""
    orders = f"SELECT id FROM work_order WHERE number LIKE '{STORM_ORDER}%'"
    people = f"SELECT id FROM staff_user WHERE name LIKE '{STORM_TECHNICIAN} %'"
    for table in ("write_receipt", "sync_conflict", "work_order_event", "checklist_answer", "safety_decision",
                  "part_used", "time_entry", "work_note", "work_photo"):
        await db.execute(f"DELETE FROM {table} WHERE work_order IN ({orders})")
    await db.execute(f"DELETE FROM work_order WHERE id IN ({orders})")
    for table in ("audit_log", "security_event", "invitation", "passkey"):
        await db.execute(f"DELETE FROM {table} WHERE staff_user IN ({people})")
    await db.execute(f"DELETE FROM staff_user WHERE id IN ({people})")
    await db.execute("DELETE FROM kv_store WHERE namespace = 'sessions' AND key = ANY($1)", sessions or [])
    await db.execute("DELETE FROM kv_store WHERE namespace = 'rate_limit' AND key LIKE 'RateLimitMiddleware::127.77.%'")
