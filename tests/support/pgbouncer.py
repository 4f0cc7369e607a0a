"""Debian's PgBouncer in transaction mode in front of the test server, started by the test.

Its own ini file in a temporary folder, on a free port of 127.0.0.1, with few server connections
per database, so that many clients really share them (what breaks session state and named
prepared statements). `make pgbouncer` installs it; without it the tests skip here and fail in CI.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit, urlunsplit

import pytest

from tests.support.server import free_port, stop_process


def pgbouncer_binary() -> str:
    """The pgbouncer program; the test is skipped without it (failed in CI, where it must be there)."""
    found = shutil.which("pgbouncer") or next(
        (path for path in ("/usr/sbin/pgbouncer", "/usr/bin/pgbouncer") if os.access(path, os.X_OK)), None)
    if found:
        return found
    reason = "pgbouncer is not installed: run `make pgbouncer` (Debian's pgbouncer package)"
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


def pgbouncer_version(binary: str) -> str:
    return subprocess.run([binary, "--version"], capture_output=True, text=True).stdout.split("\n")[0]


class PgBouncer:
    """PgBouncer (pool_mode = transaction) in front of the server `server_url` points at: every
    database of that server is reachable through it under the same name (`url_for`)."""

    def __init__(self, server_url: str, *, pool_size: int = 2) -> None:
        self.binary = pgbouncer_binary()
        self.pool_size = pool_size
        self.port = free_port()
        parts = urlsplit(server_url)
        query = parse_qs(parts.query)
        # The embedded server listens on a Unix socket only (`?host=/its/folder`); PgBouncer takes
        # a folder for a host the same way libpq does.
        self.server_host = query["host"][0] if "host" in query else (parts.hostname or "localhost")
        self.server_port = int(query["port"][0]) if "port" in query else (parts.port or 5432)
        self.user = unquote(parts.username or "postgres")
        self.password = unquote(parts.password or "")
        self.folder: Path | None = None
        self.process: subprocess.Popen | None = None

    def url_for(self, database_url: str) -> str:
        """`database_url`'s database, through PgBouncer."""
        name = urlsplit(database_url).path
        secret = f":{self.password}" if self.password else ""
        return urlunsplit(("postgresql", f"{self.user}{secret}@127.0.0.1:{self.port}", name, "", ""))

    @property
    def admin_url(self) -> str:
        return self.url_for("/pgbouncer")

    def _run_as(self) -> str | None:
        """PgBouncer refuses to run as root: then it runs as the owner of the server's socket
        folder (the embedded server's own user), who may connect to that socket."""
        if os.geteuid() != 0:
            return None
        if self.server_host.startswith("/"):
            owner = pwd.getpwuid(os.stat(self.server_host).st_uid).pw_name
            if owner != "root":
                return owner
        return "nobody"

    def _ini(self) -> str:
        server = f"host={self.server_host} port={self.server_port} user={self.user}"
        if self.password:
            server += f" password={self.password}"
        return "\n".join([
            "[databases]",
            f"* = {server}",  # any database name: the throwaway test databases
            "",
            "[pgbouncer]",
            "listen_addr = 127.0.0.1",
            f"listen_port = {self.port}",
            "unix_socket_dir =",
            # Clients on 127.0.0.1 only; PgBouncer logs in to the server with the password above.
            "auth_type = trust",
            f"auth_file = {self.folder / 'userlist.txt'}",
            f"admin_users = {self.user}",
            "pool_mode = transaction",
            f"default_pool_size = {self.pool_size}",
            "min_pool_size = 0",
            "reserve_pool_size = 0",
            "max_client_conn = 500",
            "server_reset_query =",
            "log_connections = 0",
            "log_disconnections = 0",
            "",
        ])

    def start(self, timeout: float = 20) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="runda-pgbouncer-"))
        self.folder.chmod(0o755)  # readable by the user PgBouncer switches to
        (self.folder / "userlist.txt").write_text(f'"{self.user}" "{self.password}"\n')
        (self.folder / "pgbouncer.ini").write_text(self._ini())
        for name in ("userlist.txt", "pgbouncer.ini"):
            (self.folder / name).chmod(0o644)
        command = [self.binary]
        if user := self._run_as():
            command += ["-u", user]
        self.log = open(self.folder / "pgbouncer.log", "w")
        self.process = subprocess.Popen([*command, str(self.folder / "pgbouncer.ini")],
                                        stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise AssertionError(f"pgbouncer exited ({self.process.returncode}): {self.read_log()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise AssertionError(f"pgbouncer did not listen within {timeout:g} s: {self.read_log()}")
                time.sleep(0.1)

    def read_log(self) -> str:
        return (self.folder / "pgbouncer.log").read_text() if self.folder else ""

    def show(self, what: str) -> list[dict]:
        """`SHOW <what>` on PgBouncer's admin console (simple query protocol only, as it requires)."""
        import psycopg
        from psycopg.rows import dict_row

        with psycopg.connect(self.admin_url, autocommit=True, cursor_factory=psycopg.RawCursor) as conn:
            cursor = conn.cursor(row_factory=dict_row)
            cursor.execute(f"SHOW {what}", prepare=False)
            return cursor.fetchall()

    def admin(self, command: str) -> None:
        """A command on the admin console (RECONNECT, PAUSE, …)."""
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True, cursor_factory=psycopg.RawCursor) as conn:
            conn.execute(command, prepare=False)

    def forget_server_connections(self, database: str, timeout: float = 10) -> None:
        """Close PgBouncer's server connections to `database` (its clients stay): whatever a
        client left on them (named prepared statements) goes with them."""
        self.admin(f"RECONNECT {database}")
        deadline = time.monotonic() + timeout
        while any(row["database"] == database for row in self.show("SERVERS")):
            assert time.monotonic() < deadline, "PgBouncer kept its server connections"
            time.sleep(0.1)

    def stop(self) -> None:
        stop_process(self.process, 10)
        if self.folder is not None:
            self.log.close()
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None

