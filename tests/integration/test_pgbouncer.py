"""Runda behind a transaction-mode pooler: Debian's PgBouncer, started here with two server
connections per database, in front of the test database.

With DATABASE_POOLER=transaction everything works through it: signing in, a CSRF-protected write,
many more concurrent requests than PgBouncer has server connections (the same queries again and
again, which is what breaks named prepared statements), a transaction's statements on one server
connection, and a job queued by a web request and run by a worker, past the pooler (LISTEN) or
through it (polling). Without the setting the same server breaks on asyncpg's named prepared
statements, and a statement timeout sent at connection start is refused by PgBouncer with a hint.
A too-long statement is cancelled both ways: by the server's statement_timeout directly, and by
asyncpg's cancel request forwarded by PgBouncer behind it.
"""

from __future__ import annotations

import asyncio
import re
import secrets
import threading
import time
from collections import Counter
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import AsyncIterator

import asyncpg
import httpx
import pytest

from backend import db
from backend.accounts import service as accounts
from backend.auth import CSRF_COOKIE, SESSION_COOKIE
from backend.jobs import queue
from backend.reports.tasks import REFRESH_TASK
from backend.settings import PoolSettings
from backend.workdays import today
from tests.support.authenticator import SoftAuthenticator
from tests.support.factories import add_device, add_patient, delete_world, make_world
from tests.support.jobs import WorkerProcess
from tests.support.pgbouncer import PgBouncer, pgbouncer_binary, pgbouncer_version
from tests.support.server import ServerProcess

POOL_SIZE = 2  # PgBouncer's server connections per database: far fewer than its clients
PREPARED_STATEMENT_ERROR = re.compile(r'prepared statement "__asyncpg_stmt_\w+__" (does not exist|already exists)')
# The same, as the server logs it (the error's class only: a message may quote data).
LOGGED_PREPARED_STATEMENT_ERROR = re.compile(
    r'"error": "(InvalidSQLStatementNameError|DuplicatePreparedStatementError)"')


@pytest.fixture(scope="module")
def pgbouncer(server_url):
    pgbouncer_binary()  # skips (fails in CI) without it
    bouncer = PgBouncer(server_url, pool_size=POOL_SIZE)
    bouncer.start()
    try:
        yield bouncer
    finally:
        bouncer.stop()


@pytest.fixture(scope="module")
def pooled_url(pgbouncer, database_url, database):
    return pgbouncer.url_for(database_url)


class StderrDrain:
    """Reads a started server's stderr as it comes, so a chatty server never blocks on a full pipe."""

    def __init__(self, server: ServerProcess) -> None:
        self.lines: list[str] = []
        self.thread = threading.Thread(target=self._read, args=(server,), daemon=True)
        self.thread.start()

    def _read(self, server: ServerProcess) -> None:
        for line in server.process.stderr:
            self.lines.append(line)

    @property
    def text(self) -> str:
        return "".join(self.lines)


@pytest.fixture(scope="module")
def server(pooled_url):
    server = ServerProcess(pooled_url, DATABASE_POOLER="transaction", DATABASE_POOL_SIZE="8",
                           RATE_LIMIT_PER_MINUTE="1000")
    server.start()
    log = StderrDrain(server)
    try:
        yield server
    finally:
        server.stop()
    assert not LOGGED_PREPARED_STATEMENT_ERROR.search(log.text), log.text[-3000:]


class Browser:
    """One browser with its own cookies, on one server."""

    def __init__(self, server: ServerProcess) -> None:
        self.server = server
        self.http = httpx.AsyncClient(base_url=server.base, headers={"accept": "text/html"}, timeout=60)

    @property
    def csrf(self) -> str:
        return self.http.cookies[CSRF_COOKIE]

    async def post_json(self, path: str, body: dict | None = None) -> httpx.Response:
        return await self.http.post(path, json=body or {}, headers={"x-csrftoken": self.csrf})

    async def post_form(self, path: str, data: dict | None = None, **kwargs) -> httpx.Response:
        return await self.http.post(path, data={**(data or {}), "_csrf_token": self.csrf}, **kwargs)

    async def register(self, world, staff_user: int) -> None:
        """A passkey through a recovery invitation; signed in afterwards."""
        token, _ = await accounts.create_invitation(organisation_id=world.organisation, name="", role="technician",
                                                    staff_user_id=staff_user)
        authenticator = SoftAuthenticator(origin=self.server.base)
        assert (await self.http.get(f"/inbjudan/{token}")).status_code == 200
        options = await self.post_json(f"/inbjudan/{token}/alternativ")
        assert options.status_code == 201, options.text
        done = await self.post_json(f"/inbjudan/{token}/registrera", authenticator.register(options.json()))
        assert done.status_code == 201, done.text
        self.authenticator = authenticator

    async def aclose(self) -> None:
        await self.http.aclose()


@pytest.fixture
async def world(database):
    world = await make_world()
    world.device = await add_device(world, holder=await add_patient(world))
    yield world
    mine = "args->'organisation_id' = to_jsonb($1::int)"
    for _ in range(300):  # a worker may still be at the job a test queued
        if not await db.fetchval(f"SELECT count(*) FROM procrastinate_jobs WHERE {mine} "
                                 "AND status IN ('todo', 'doing')", world.organisation):
            break
        await asyncio.sleep(0.1)
    await db.execute(f"DELETE FROM procrastinate_jobs WHERE {mine}", world.organisation)
    await delete_world(world)


async def signed_in(server: ServerProcess, world, role: str) -> Browser:
    browser = Browser(server)
    await browser.register(world, world.staff[role])
    return browser


def test_the_pooler_is_debians_pgbouncer_in_transaction_mode(pgbouncer):
    assert pgbouncer_version(pgbouncer.binary).startswith("PgBouncer 1.")
    config = {row["key"]: row["value"] for row in pgbouncer.show("CONFIG")}
    assert config["pool_mode"] == "transaction" and config["default_pool_size"] == str(POOL_SIZE)


async def test_signing_in_and_a_csrf_protected_write_work_through_the_pooler(server, world):
    browser = await signed_in(server, world, "technician")
    try:
        session = browser.http.cookies[SESSION_COOKIE]
        assert await db.fetchval("SELECT count(*) FROM kv_store WHERE namespace = 'sessions' AND key = $1",
                                 session) == 1
        page = await browser.http.get("/konto")
        assert page.status_code == 200 and "Test technician" in page.text

        refused = await browser.http.post("/logga-ut", data={"_csrf_token": "not-the-token"})
        assert refused.status_code == 403
        signed_out = await browser.post_form("/logga-ut")
        assert signed_out.status_code in (302, 303) and signed_out.headers["location"].startswith("/logga-in")
        assert await db.fetchval("SELECT count(*) FROM kv_store WHERE namespace = 'sessions' AND key = $1",
                                 session) == 0
        assert (await browser.http.get("/konto")).headers["location"] == "/logga-in"
    finally:
        await browser.aclose()


async def burst(browsers: list[Browser], paths: list[str], rounds: int) -> Counter:
    """Every browser asks for every path `rounds` times, all browsers at once."""

    async def one(browser: Browser) -> list[int]:
        statuses = []
        for _ in range(rounds):
            for path in paths:
                statuses.append((await browser.http.get(path)).status_code)
        return statuses

    answers = await asyncio.gather(*(one(browser) for browser in browsers))
    return Counter(status for statuses in answers for status in statuses)


async def test_many_concurrent_requests_share_two_server_connections_without_prepared_statement_errors(
        server, world, pgbouncer, pooled_url):
    signed = [await signed_in(server, world, role) for role in ("technician", "other_technician")]
    # Twelve browsers (two people, each on six devices): more than the server's pool of eight,
    # which is more than PgBouncer's two server connections.
    browsers = [*signed, *(Browser(server) for _ in range(10))]
    for n, browser in enumerate(browsers[2:]):
        browser.http.cookies = signed[n % 2].http.cookies
    try:
        statuses = await burst(browsers, ["/konto", "/min-dag", "/konto"], rounds=6)
        assert statuses == Counter({200: len(browsers) * 18}), statuses
        pools = [row for row in pgbouncer.show("POOLS") if row["database"] == pooled_url.rsplit("/", 1)[1]]
        assert pools and all(row["sv_active"] + row["sv_idle"] + row["sv_used"] <= POOL_SIZE for row in pools)
        clients = [row for row in pgbouncer.show("CLIENTS") if row["database"] == pooled_url.rsplit("/", 1)[1]]
        assert len(clients) > POOL_SIZE  # the web server's pool holds more than PgBouncer lends out
    finally:
        for browser in browsers:
            await browser.aclose()


async def test_the_same_server_without_the_pooler_setting_breaks_on_named_prepared_statements(
        pooled_url, world, pgbouncer):
    # No statement timeout: that would be refused at connection start (the next test).
    server = ServerProcess(pooled_url, DATABASE_STATEMENT_TIMEOUT_MS="0", DATABASE_POOL_SIZE="8",
                           RATE_LIMIT_PER_MINUTE="1000")
    server.start()
    log = StderrDrain(server)
    browsers = []
    try:
        first = await signed_in(server, world, "technician")
        browsers = [first] + [Browser(server) for _ in range(9)]
        for browser in browsers[1:]:
            browser.http.cookies = first.http.cookies
        statuses = await burst(browsers, ["/konto", "/min-dag"], rounds=5)
    except AssertionError:
        statuses = Counter({500: 1})  # it broke signing in already
    finally:
        for browser in browsers:
            await browser.aclose()
        server.stop()
        log.thread.join(timeout=10)
        # Its named statements stay on the server connections it used: gone with them.
        pgbouncer.forget_server_connections(pooled_url.rsplit("/", 1)[1])
    assert statuses[500] > 0, statuses
    assert LOGGED_PREPARED_STATEMENT_ERROR.search(log.text), log.text[-3000:]


def test_a_statement_timeout_sent_at_connection_start_is_refused_by_pgbouncer_with_a_hint(pooled_url):
    server = ServerProcess(pooled_url, DATABASE_STATEMENT_TIMEOUT_MS="5000")  # no DATABASE_POOLER
    with pytest.raises(AssertionError) as refused:
        server.start()
    server.stop()
    assert "unsupported startup parameter: statement_timeout" in str(refused.value)
    assert "set DATABASE_POOLER=transaction" in str(refused.value)


async def test_the_pool_settings_keep_named_prepared_statements_off_only_behind_the_pooler(pooled_url, pgbouncer):
    # The same pool as the server's, over the same pooler: many connections, the same queries.
    async def hammer(pool_settings: PoolSettings) -> list[str]:
        pool = await asyncpg.create_pool(**db.connect_options(pooled_url, pool_settings), min_size=8, max_size=8)
        errors: list[str] = []

        async def client(n: int) -> None:
            for round_ in range(5):
                try:
                    async with pool.acquire() as conn:
                        assert await conn.fetchval("SELECT $1::int + $2::int", n, round_ % 2) == n + round_ % 2
                        assert await conn.fetchval("SELECT count(*) FROM staff_user WHERE id > $1", n) >= 0
                except asyncpg.PostgresError as exc:
                    errors.append(str(exc).splitlines()[0])

        try:
            await asyncio.gather(*(client(n) for n in range(32)))
        finally:
            await pool.close()
        return errors

    assert await hammer(PoolSettings(pooler="transaction")) == []
    broken = await hammer(PoolSettings(pooler="none"))
    pgbouncer.forget_server_connections(pooled_url.rsplit("/", 1)[1])
    assert broken and all(PREPARED_STATEMENT_ERROR.search(error) for error in broken), broken


@asynccontextmanager
async def other_clients(pooled_url: str, count: int = 4) -> AsyncIterator[None]:
    """Other clients of the pooler, keeping its server connections busy while the block runs."""
    pool = await asyncpg.create_pool(**db.connect_options(pooled_url, PoolSettings(pooler="transaction")),
                                     min_size=count, max_size=count)
    stop = asyncio.Event()

    async def client() -> None:
        while not stop.is_set():
            async with pool.acquire() as conn:
                await conn.fetchval("SELECT pg_backend_pid() FROM pg_sleep(0.002)")

    busy = [asyncio.create_task(client()) for _ in range(count)]
    try:
        yield
    finally:
        stop.set()
        await asyncio.gather(*busy)
        await pool.close()


async def test_a_transactions_statements_run_on_one_server_connection_through_the_pooler(pooled_url):
    options = db.connect_options(pooled_url, PoolSettings(pooler="transaction"))
    pool = await asyncpg.create_pool(**options, min_size=1, max_size=1)
    try:
        async with other_clients(pooled_url), pool.acquire() as conn:
            for _ in range(5):
                async with conn.transaction():
                    pids = set()
                    pids.add(await conn.fetchval("SELECT pg_backend_pid()"))
                    await conn.execute("CREATE TEMP TABLE scratch (n int) ON COMMIT DROP")
                    await conn.execute("INSERT INTO scratch SELECT generate_series(1, $1::int)", 10)
                    await asyncio.sleep(0.01)
                    pids.add(await conn.fetchval("SELECT pg_backend_pid()"))
                    assert await conn.fetchval("SELECT sum(n) FROM scratch") == 55
                    await conn.execute("SET LOCAL statement_timeout = '1s'")
                    assert await conn.fetchval("SHOW statement_timeout") == "1s"
                    pids.add(await conn.fetchval("SELECT pg_backend_pid()"))
                    assert len(pids) == 1
    finally:
        await pool.close()


async def running_sleeps(database_url: str, marker: str) -> int:
    conn = await asyncpg.connect(database_url)
    try:
        return await conn.fetchval("SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE $1",
                                   f"%{marker}%")
    finally:
        await conn.close()


async def test_a_too_long_statement_is_cancelled_directly_by_the_servers_statement_timeout(database_url):
    marker = f"direct_{secrets.token_hex(4)}"
    conn = await asyncpg.connect(**db.connect_options(database_url, PoolSettings(statement_timeout_ms=300)))
    try:
        assert await conn.fetchval("SHOW statement_timeout") == "300ms"
        started = time.monotonic()
        with pytest.raises(asyncpg.QueryCanceledError, match="canceling statement due to statement timeout"):
            await conn.execute(f"SELECT pg_sleep(30) /* {marker} */")
        assert time.monotonic() - started < 5
        assert await conn.fetchval("SELECT 1") == 1  # the connection goes on
    finally:
        await conn.close()
    assert await running_sleeps(database_url, marker) == 0


async def test_a_too_long_statement_is_cancelled_on_the_server_through_the_pooler(pooled_url, database_url):
    marker = f"pooled_{secrets.token_hex(4)}"
    options = db.connect_options(pooled_url, PoolSettings(statement_timeout_ms=300, pooler="transaction"))
    assert "server_settings" not in options  # PgBouncer would refuse it
    conn = await asyncpg.connect(**options)
    try:
        started = time.monotonic()
        with pytest.raises(TimeoutError):
            await conn.execute(f"SELECT pg_sleep(30) /* {marker} */")
        assert time.monotonic() - started < 5
        assert await conn.fetchval("SELECT 1") == 1
    finally:
        await conn.close()
    # Not only the client gave up: the server stopped the statement (PgBouncer passed the cancel on).
    for _ in range(50):
        if await running_sleeps(database_url, marker) == 0:
            break
        await asyncio.sleep(0.1)
    assert await running_sleeps(database_url, marker) == 0


async def generate_fu_and_wait(browser: Browser, world, timeout: float) -> tuple[int, float]:
    """The admin starts FU generation (a CSRF-protected write queueing a job); wait until the
    worker has run it. Returns the job's id and the seconds it took."""
    day = today()
    started_at = time.monotonic()
    started = await browser.post_form("/fu/generera", {"period_start": day.isoformat(),
                                                       "period_end": (day + timedelta(days=30)).isoformat(),
                                                       "include_overdue": "ja", "cost_bearer": "", "category": ""})
    assert started.status_code == 303, started.text
    run_page = started.headers["location"]
    run_id = int(re.fullmatch(r"/fu/korningar/(\d+)", run_page).group(1))
    job_id = await db.fetchval("SELECT job_id FROM fu_generation WHERE id = $1", run_id)
    while await db.fetchval("SELECT status::text FROM procrastinate_jobs WHERE id = $1", job_id) != "succeeded":
        assert time.monotonic() - started_at < timeout, "the worker did not run the job in time"
        await asyncio.sleep(0.1)
    took = time.monotonic() - started_at
    made = await db.fetchval("SELECT count(*) FROM work_order WHERE organisation = $1 AND type = 'maintenance'",
                             world.organisation)
    assert made >= 1
    done = await browser.http.get(run_page)
    assert done.status_code == 200 and f"<strong>{made}</strong> arbetsordrar skapade" in done.text
    return job_id, took


async def test_a_job_queued_through_the_pooler_is_run_by_a_worker_connected_past_it(
        server, world, pooled_url, database_url):
    worker = WorkerProcess(pooled_url, DATABASE_POOLER="transaction", WORKER_DATABASE_URL=database_url)
    worker.start()
    browser = await signed_in(server, world, "admin")
    try:
        _, took = await generate_fu_and_wait(browser, world, timeout=30)
        assert took < 4  # woken by NOTIFY, not by the 5 s poll
    finally:
        await browser.aclose()
        worker.stop()
    assert worker.process.returncode == 0


async def test_a_job_queued_through_the_pooler_is_run_by_a_worker_polling_through_it(
        server, world, pooled_url):
    # One job at a time, so one psycopg connection fetches and finishes job after job: the same
    # queries again and again, which psycopg would prepare as named statements from the fifth on.
    worker = WorkerProcess(pooled_url, "--concurrency", "1", DATABASE_POOLER="transaction")
    worker.start()
    browser = await signed_in(server, world, "admin")
    try:
        await generate_fu_and_wait(browser, world, timeout=30)
        jobs = [await queue.defer(REFRESH_TASK, organisation_id=world.organisation) for _ in range(12)]
        async with other_clients(pooled_url):  # so the worker's queries land on either server connection
            deadline = time.monotonic() + 60
            while await db.fetchval("SELECT count(*) FROM procrastinate_jobs WHERE id = ANY($1::bigint[]) "
                                    "AND status = 'succeeded'", jobs) < len(jobs):
                failed = await db.fetchval("SELECT count(*) FROM procrastinate_jobs WHERE id = ANY($1::bigint[]) "
                                           "AND status = 'failed'", jobs)
                assert not failed and time.monotonic() < deadline, "the worker did not run the jobs"
                assert worker.process.poll() is None, "the worker stopped"
                await asyncio.sleep(0.2)
    finally:
        await browser.aclose()
        worker.stop()
    assert worker.process.returncode == 0
