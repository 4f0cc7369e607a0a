"""Two web processes and one worker process on one PostgreSQL behave as one process does: a
session begun on one holds on the other and ends on both; a CSRF token from one is good on the
other and a missing or wrong one is refused on both; an outbox change delivered to both at once,
again and again, is applied once; two changes based on one version of an order, sent through
different processes, apply once and keep the other as a conflict; a job a web request queues on
one is run by the worker and shows as done on the other.

Every browser here is sent now to one process, now to the other, as a load balancer without
sticky sessions would. Both processes share one secret and one public origin, as production's
processes behind one address do. Rate limits over two processes: test_rate_limits_two_processes.py
(a burst split over both lets exactly the limit through).
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta

import httpx
import pytest
from litestar.middleware.csrf import generate_csrf_token

from backend import db
from backend.accounts import service as accounts
from backend.auth import CSRF_COOKIE, SESSION_COOKIE
from backend.workdays import today
from tests.support.authenticator import SoftAuthenticator
from tests.support.factories import add_device, add_patient, add_staff, add_work_order, delete_world, make_world
from tests.support.jobs import WorkerProcess
from tests.support.outbox import Change, version_in
from tests.support.server import ServerProcess

REFUSED = "Du har inte behörighet"  # the 403 page's title


@dataclass
class Processes:
    a: ServerProcess
    b: ServerProcess
    worker: WorkerProcess

    @property
    def servers(self) -> tuple[ServerProcess, ServerProcess]:
        return self.a, self.b


@pytest.fixture(scope="module")
def processes(database_url, database):
    # Rate limits are counted per address in PostgreSQL, and every browser here is 127.0.0.1.
    a, b = (ServerProcess(database_url, RATE_LIMIT_PER_MINUTE="1000") for _ in range(2))
    # One secret (CSRF tokens) and one public origin (passkeys), as for processes behind one address.
    secret = secrets.token_urlsafe(32)
    for server in (a, b):
        server.env.update(SECRET_KEY=secret, PUBLIC_ORIGIN=a.base)
    worker = WorkerProcess(database_url)
    try:
        with ThreadPoolExecutor(3) as pool:
            for started in [pool.submit(p.start) for p in (a, b, worker)]:
                started.result()
        yield Processes(a, b, worker)
    finally:
        for process in (worker, a, b):
            process.stop()
    assert worker.process.returncode == 0


class Browser:
    """One browser with its own cookies; each request names the process it reaches."""

    def __init__(self) -> None:
        self.http = httpx.AsyncClient(headers={"accept": "text/html"}, timeout=30)
        self.authenticator: SoftAuthenticator | None = None

    @property
    def csrf(self) -> str:
        return self.http.cookies[CSRF_COOKIE]

    @property
    def session(self) -> str | None:
        return self.http.cookies.get(SESSION_COOKIE)

    async def get(self, server: ServerProcess, path: str, **kwargs) -> httpx.Response:
        return await self.http.get(server.base + path, **kwargs)

    async def post(self, server: ServerProcess, path: str, **kwargs) -> httpx.Response:
        return await self.http.post(server.base + path, **kwargs)

    async def post_json(self, server: ServerProcess, path: str, body: dict | None = None) -> httpx.Response:
        return await self.post(server, path, json=body or {}, headers={"x-csrftoken": self.csrf})

    async def post_form(self, server: ServerProcess, path: str, data: dict | None = None) -> httpx.Response:
        return await self.post(server, path, data={**(data or {}), "_csrf_token": self.csrf})

    async def deliver(self, server: ServerProcess, change: Change) -> httpx.Response:
        """What the outbox sends for a queued change."""
        return await self.post(server, change.path, data=change.fields, files=change.files,
                               headers=change.headers(self.csrf))

    async def register(self, world, staff_user: int, first: ServerProcess, second: ServerProcess) -> None:
        """A passkey through a recovery invitation: the page and the answer on `first`, the
        challenge taken on `second`. Signed in; the CSRF token is the one `first` gave then."""
        token, _ = await accounts.create_invitation(organisation_id=world.organisation, name="", role="technician",
                                                    staff_user_id=staff_user)
        self.authenticator = SoftAuthenticator(origin=first.env["PUBLIC_ORIGIN"])
        assert (await self.get(first, f"/inbjudan/{token}")).status_code == 200
        options = await self.post_json(second, f"/inbjudan/{token}/alternativ")
        assert options.status_code == 201, options.text
        done = await self.post_json(first, f"/inbjudan/{token}/registrera", self.authenticator.register(options.json()))
        assert done.status_code == 201, done.text

    async def sign_in(self, first: ServerProcess, second: ServerProcess) -> httpx.Response:
        """With the passkey: the challenge from `first`, answered on `second`."""
        options = await self.post_json(first, "/logga-in/alternativ")
        assert options.status_code == 201, options.text
        return await self.post_json(second, "/logga-in/verifiera", self.authenticator.sign_in(options.json()))

    async def aclose(self) -> None:
        await self.http.aclose()


@pytest.fixture(scope="module")
async def world(processes):
    world = await make_world()
    world.patient = await add_patient(world)
    world.device = await add_device(world, holder=world.patient)
    yield world
    # The worker may still run what the jobs test queued (the due list's refresh after a run).
    org = world.organisation
    mine = "args->'organisation_id' = to_jsonb($1::int)"
    for _ in range(300):
        if not await db.fetchval(f"SELECT count(*) FROM procrastinate_jobs WHERE {mine} "
                                 "AND status IN ('todo', 'doing')", org):
            break
        await asyncio.sleep(0.1)
    await db.execute(f"DELETE FROM procrastinate_jobs WHERE {mine}", org)
    await delete_world(world)


@pytest.fixture(scope="module")
async def browsers(processes, world):
    """The technician's phone (signed in on A) and tablet (on B), the other technician (on A) and
    an admin at the office (on B)."""
    a, b = processes.servers
    made = {}
    try:
        for name, staff, first, second in (("phone", "technician", a, b), ("tablet", "technician", b, a),
                                           ("other", "other_technician", a, b), ("office", "admin", b, a)):
            made[name] = Browser()
            await made[name].register(world, world.staff[staff], first, second)
        yield made
    finally:
        for browser in made.values():
            await browser.aclose()


async def new_order(world) -> tuple[int, int]:
    """A repair visit today, the technician's: its id and version."""
    order = await add_work_order(world, world.device, assignee=world.staff["technician"], planned=today(),
                                 patient=world.patient)
    return order, await db.fetchval("SELECT version FROM work_order WHERE id = $1", order)


async def test_a_session_begun_on_one_process_holds_on_the_other_and_signing_out_on_either_ends_it(
        processes, world):
    a, b = processes.servers
    person = await add_staff(world, "technician", name="Signe Sessionsson")
    browser = Browser()
    try:
        await browser.register(world, person, a, b)  # the challenge kept on B, answered on A
        session = browser.session
        assert session not in (None, "null")
        assert await db.fetchval("SELECT count(*) FROM kv_store WHERE namespace = 'sessions' AND key = $1",
                                 session) == 1
        for server in (a, b):
            page = await browser.get(server, "/konto")
            assert page.status_code == 200 and "Signe Sessionsson" in page.text, server.base

        signed_out = await browser.post_form(b, "/logga-ut")
        assert signed_out.status_code in (302, 303) and signed_out.headers["location"].startswith("/logga-in")
        assert (await browser.get(a, "/konto")).headers["location"] == "/logga-in"
        # The session id itself, as a copy of the old cookie would send it, is gone on A too.
        copied = await browser.get(a, "/konto", headers={"cookie": f"{SESSION_COOKIE}={session}"})
        assert copied.status_code == 303 and copied.headers["location"] == "/logga-in"
        assert await db.fetchval("SELECT count(*) FROM kv_store WHERE namespace = 'sessions' AND key = $1",
                                 session) == 0

        again = await browser.sign_in(b, a)  # the challenge from B, answered on A
        assert again.status_code == 201 and again.json() == {"redirect": "/min-dag"}
        assert browser.session not in (None, "null", session)
        assert (await browser.get(b, "/konto")).status_code == 200
    finally:
        await browser.aclose()


async def notes_like(order: int, pattern: str) -> list[str]:
    return [r["text"] for r in await db.fetch("SELECT text FROM work_note WHERE work_order = $1 AND text LIKE $2 "
                                               "ORDER BY id", order, pattern)]


async def test_a_csrf_token_from_one_process_holds_on_the_other_and_a_missing_or_wrong_one_is_refused_on_both(
        processes, world, browsers):
    a, b = processes.servers
    phone, tablet = browsers["phone"], browsers["tablet"]
    order, _ = await new_order(world)
    path = f"/besok/{order}/anteckning"

    # The phone's token is the one A gave at sign-in.
    kept = await phone.post(b, path, data={"note": "Godkänd på B", "_csrf_token": phone.csrf})
    assert kept.status_code == 303, kept.text
    by_header = await phone.post(b, path, data={"note": "Godkänd i huvud på B"}, headers={"x-csrftoken": phone.csrf})
    assert by_header.status_code == 303, by_header.text

    foreign = generate_csrf_token(secret=secrets.token_urlsafe(32))  # signed with a secret that is not theirs
    for server in (a, b):
        where = "A" if server is a else "B"
        refusals = {
            "utan": {"data": {}},
            "påhittad": {"data": {"_csrf_token": "forged"}},
            "annan webbläsares": {"data": {"_csrf_token": tablet.csrf}},
            "fel i huvud": {"data": {}, "headers": {"x-csrftoken": tablet.csrf}},
            "annan hemlighet": {"data": {"_csrf_token": foreign},
                                "headers": {"cookie": f"{SESSION_COOKIE}={phone.session}; {CSRF_COOKIE}={foreign}"}},
        }
        for how, request in refusals.items():
            note = f"Ska inte sparas: {how} {where}"
            response = await phone.post(server, path, data={**request["data"], "note": note},
                                        headers=request.get("headers"))
            assert response.status_code == 403, (where, how, response.status_code)
            assert REFUSED in response.text, (where, how)
    assert await notes_like(order, "Ska inte sparas%") == []
    assert await notes_like(order, "Godkänd%") == ["Godkänd på B", "Godkänd i huvud på B"]


async def test_one_change_delivered_to_both_processes_at_once_and_again_is_applied_once(processes, world, browsers):
    a, b = processes.servers
    phone = browsers["phone"]
    order, version = await new_order(world)
    visit = f"/besok/{order}"
    changes = [
        Change(f"{visit}/starta", {"version": str(version)}, changes_order=True),
        Change(f"{visit}/anteckning", {"note": "En gång, fast skickad sexton gånger"}),
        Change(f"{visit}/tid", {"minutes": "35"}),
    ]
    copies = 8  # of each change at once, every other one to each process
    together = await asyncio.gather(*(phone.deliver((a, b)[n % 2], change)
                                      for change in changes for n in range(copies)))
    later = [await phone.deliver(server, change) for change in changes for server in (b, a)]

    for i, change in enumerate(changes):
        answers = together[i * copies:(i + 1) * copies] + later[i * 2:(i + 1) * 2]
        assert {r.status_code for r in answers} == {200}, [(r.status_code, r.text[:200]) for r in answers]
        bodies = [r.json() for r in answers]
        assert sum(not body["replayed"] for body in bodies) == 1, (change.path, bodies)
        assert all(body["replayed"] for body in bodies[copies:]), (change.path, bodies)
        assert len({body["location"] for body in bodies}) == 1, (change.path, bodies)
    assert version_in(together[0].json()["location"]) == version + 1

    final = await db.fetchrow("SELECT status, version FROM work_order WHERE id = $1", order)
    assert (final["status"], final["version"]) == ("in_progress", version + 1)
    assert await db.fetchval("SELECT count(*) FROM work_order_event WHERE work_order = $1 AND kind = 'started'",
                             order) == 1
    assert await notes_like(order, "En gång%") == ["En gång, fast skickad sexton gånger"]
    assert [r["minutes"] for r in await db.fetch("SELECT minutes FROM time_entry WHERE work_order = $1", order)] == [35]
    receipts = await db.fetch("SELECT key::text, status FROM write_receipt WHERE work_order = $1", order)
    assert sorted((r["key"], r["status"]) for r in receipts) == sorted((c.key, 303) for c in changes)

    # The same key with another change, on the process that did not apply it first: refused, not run.
    other = Change(changes[2].path, {"minutes": "50"}, key=changes[2].key)
    for server in (a, b):
        refused = await phone.deliver(server, other)
        assert refused.status_code == 422 and "redan använts" in refused.text
    assert await db.fetchval("SELECT count(*) FROM time_entry WHERE work_order = $1", order) == 1


async def test_two_changes_based_on_one_version_through_different_processes_apply_one_and_keep_the_other(
        processes, world, browsers):
    a, b = processes.servers
    phone, tablet = browsers["phone"], browsers["tablet"]
    orders = [await new_order(world) for _ in range(4)]
    # Per order: the phone starts the visit, the tablet says it could not be done, both on the
    # version they saw, each through another process (which one alternates by order).
    sent = []
    for n, (order, version) in enumerate(orders):
        start = Change(f"/besok/{order}/starta", {"version": str(version)}, changes_order=True)
        not_done = Change(f"/besok/{order}/ej-utford", {"version": str(version), "reason": "not_home",
                                                         "message_to_orderer": "Ingen öppnade"}, changes_order=True)
        sent.append(((phone, (a, b)[n % 2], start), (tablet, (b, a)[n % 2], not_done)))
    answers = await asyncio.gather(*(browser.deliver(server, change) for pair in sent
                                     for browser, server, change in pair))

    for n, (order, version) in enumerate(orders):
        (phone_sent, tablet_sent), (start_answer, not_done_answer) = sent[n], answers[2 * n:2 * n + 2]
        statuses = (start_answer.status_code, not_done_answer.status_code)
        assert sorted(statuses) == [200, 409], (order, statuses)
        won, lost = (phone_sent, tablet_sent) if statuses[0] == 200 else (tablet_sent, phone_sent)
        final = await db.fetchrow("SELECT status, version FROM work_order WHERE id = $1", order)
        expected_status = "in_progress" if won is phone_sent else "not_completed"
        assert (final["status"], final["version"]) == (expected_status, version + 1)
        loser = lost[2]
        conflicts = await db.fetch("SELECT key::text, staff_user, fields, base_version, message FROM sync_conflict "
                                   "WHERE work_order = $1", order)
        assert len(conflicts) == 1
        assert (conflicts[0]["key"], conflicts[0]["staff_user"], conflicts[0]["base_version"]) == (
            loser.key, world.staff["technician"], version)
        assert json.loads(conflicts[0]["fields"]) == loser.fields
        assert "har ändrats" in conflicts[0]["message"]
        receipts = dict((r["key"], r["status"]) for r in await db.fetch(
            "SELECT key::text, status FROM write_receipt WHERE work_order = $1", order))
        assert receipts == {won[2].key: 303, loser.key: 409}

        # The losing device sends it again, through the other process: the same answer, kept once.
        browser, server, change = lost
        resent = await browser.deliver(b if server is a else a, change)
        assert resent.status_code == 409 and resent.headers.get("idempotent-replayed") == "true"
        assert await db.fetchval("SELECT count(*) FROM sync_conflict WHERE work_order = $1", order) == 1


async def test_after_a_reassignment_on_one_process_the_first_technicians_change_is_kept_and_the_seconds_applies(
        processes, world, browsers):
    a, b = processes.servers
    phone, other, office = browsers["phone"], browsers["other"], browsers["office"]
    order, version = await new_order(world)
    planned = await office.post_form(b, f"/arbetsordrar/{order}/planera", {
        "version": str(version), "technician": str(world.staff["other_technician"]), "day": today().isoformat(),
        "window_start": "13:00", "window_end": "15:00"})
    assert planned.status_code == 303, planned.text

    # The first technician's phone had not heard: its start, on the version it saw, goes to A.
    late = Change(f"/besok/{order}/starta", {"version": str(version)}, changes_order=True)
    kept = await phone.deliver(a, late)
    assert kept.status_code == 409 and "inte tilldelat dig" in kept.text
    conflict = await db.fetchrow("SELECT id, staff_user, key::text FROM sync_conflict WHERE work_order = $1", order)
    assert (conflict["staff_user"], conflict["key"]) == (world.staff["technician"], late.key)

    # The technician it now belongs to starts it, on the version after the reassignment, through A.
    current = Change(f"/besok/{order}/starta", {"version": str(version + 1)}, changes_order=True)
    started = await other.deliver(a, current)
    assert started.status_code == 200 and version_in(started.json()["location"]) == version + 2
    assert await db.fetchval("SELECT staff_user FROM work_order_event WHERE work_order = $1 AND kind = 'started'",
                             order) == world.staff["other_technician"]

    # The office sees the kept change on B's conflict list and page.
    listed = await office.get(b, "/konflikter")
    assert listed.status_code == 200 and f'href="/konflikter/{conflict["id"]}"' in listed.text
    page = await office.get(b, f"/konflikter/{conflict['id']}")
    assert page.status_code == 200 and "Test technician" in page.text


async def test_a_job_queued_by_a_request_on_one_process_is_run_by_the_worker_and_shown_done_on_the_other(
        processes, world, browsers):
    a, b = processes.servers
    office = browsers["office"]
    day = today()
    started = await office.post_form(a, "/fu/generera", {"period_start": day.isoformat(),
                                                         "period_end": (day + timedelta(days=30)).isoformat(),
                                                         "include_overdue": "ja", "cost_bearer": "", "category": ""})
    assert started.status_code == 303, started.text
    run_page = started.headers["location"]
    run_id = int(re.fullmatch(r"/fu/korningar/(\d+)", run_page).group(1))

    # B's progress fragment, polled as the page does, until it asks for the finished page.
    deadline = time.monotonic() + 20
    while True:
        progress = await office.get(b, run_page + "/status", headers={"hx-request": "true"})
        assert progress.status_code == 200
        if progress.headers.get("hx-refresh") == "true":
            break
        assert time.monotonic() < deadline, f"the run is still not done: {progress.text}"
        await asyncio.sleep(0.1)

    made = await db.fetchval("SELECT count(*) FROM work_order WHERE organisation = $1 AND type = 'maintenance'",
                             world.organisation)
    on_loan = await db.fetchval("SELECT count(*) FROM device WHERE organisation = $1 AND holder IS NOT NULL",
                                world.organisation)
    assert made == on_loan >= 1  # each device due, once
    done = await office.get(b, run_page)
    assert done.status_code == 200 and "Klar" in done.text
    assert f"<strong>{made}</strong> arbetsordrar skapade" in done.text

    job_id = await db.fetchval("SELECT job_id FROM fu_generation WHERE id = $1", run_id)
    assert await db.fetchval("SELECT status::text FROM procrastinate_jobs WHERE id = $1", job_id) == "succeeded"
    job_page = await office.get(b, f"/admin/jobb/{job_id}")
    assert job_page.status_code == 200 and "Klart" in job_page.text
    listed = await office.get(b, "/admin/jobb?status=succeeded")
    assert f'href="/admin/jobb/{job_id}"' in listed.text
