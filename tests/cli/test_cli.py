"""The `runda` command: clear one-line errors for bad configuration, and a server that
works against any PostgreSQL named by DATABASE_URL."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import httpx
import pytest

from tests.support.server import free_port, throwaway_database, wait_until_healthy


def runda(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "RUNDA_DEV", "SECRET_KEY"}}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "backend", *args], env=full_env, capture_output=True, text=True, timeout=timeout
    )


def assert_one_clear_line(result: subprocess.CompletedProcess, *words: str) -> None:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    for word in words:
        assert word in lines[0], lines[0]


@pytest.fixture
def fresh_database(server_url: str):
    """An empty database on the test server, as an operator's DATABASE_URL would name."""
    with throwaway_database(server_url, "runda_cli") as url:
        yield url


def test_production_without_secret_key_is_refused():
    result = runda("serve", env={"DATABASE_URL": "postgresql://nobody@127.0.0.1:1/x"})
    assert_one_clear_line(result, "SECRET_KEY")


def test_unreachable_database_url_is_one_line():
    result = runda("migrate", env={"DATABASE_URL": "postgresql://runda:hemligt@127.0.0.1:1/runda", "RUNDA_DEV": "1"})
    assert_one_clear_line(result, "cannot connect", "127.0.0.1:1")
    assert "hemligt" not in result.stderr  # the password is never printed


@pytest.mark.parametrize("scale", ["0", "-1", "many", "36", "2.5"])
def test_bad_scale_is_refused(scale):
    result = runda("demo", "--scale", scale, env={"RUNDA_DEV": "1"})
    assert result.returncode == 2
    assert "--scale" in result.stderr and "Traceback" not in result.stderr


def test_serving_an_unmigrated_database_says_what_to_run(fresh_database):
    result = runda("serve", env={"DATABASE_URL": fresh_database, "RUNDA_DEV": "1", "PORT": str(free_port())})
    assert_one_clear_line(result, "not migrated", "runda migrate")


def test_port_in_use_is_one_line():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = runda("serve", env={"DATABASE_URL": "postgresql://x@127.0.0.1:1/x", "RUNDA_DEV": "1", "PORT": str(port)})
    assert_one_clear_line(result, "already in use", str(port))


def test_migrate_and_serve_on_a_database_url(fresh_database):
    env = {"DATABASE_URL": fresh_database, "RUNDA_DEV": "1"}
    migrated = runda("migrate", env=env)
    assert migrated.returncode == 0, migrated.stderr
    assert "migration(s) applied" in migrated.stdout

    port = free_port()
    full_env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "SECRET_KEY"}}
    full_env.update(env, PORT=str(port))
    server = subprocess.Popen([sys.executable, "-m", "backend", "serve"], env=full_env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        wait_until_healthy(f"http://127.0.0.1:{port}", server)
        assert httpx.get(f"http://127.0.0.1:{port}/healthz").json() == {"status": "ok"}
    finally:
        server.terminate()
        server.wait(timeout=20)


def test_demo_loads_into_a_database_url_and_refuses_a_second_time(fresh_database):
    env = {"DATABASE_URL": fresh_database, "RUNDA_DEV": "1"}
    assert runda("migrate", env=env).returncode == 0
    loaded = runda("demo", "--scale", "0.01", env=env)
    assert loaded.returncode == 0, loaded.stderr
    assert "demo loaded" in loaded.stdout and "devices" in loaded.stdout  # progress is shown
    assert "already holds data" in runda("demo", "--scale", "0.01", "--if-empty", env=env).stdout
    assert_one_clear_line(runda("demo", "--scale", "0.01", env=env), "already holds data")
    invited = runda("invite", "--role", "technician", "--name", "Nina Ny", env=env)
    assert invited.returncode == 0 and "/inbjudan/" in invited.stdout


def _postgres_processes(data_dir: str) -> list[str]:
    out = subprocess.run(["ps", "-ww", "-eo", "pid,stat,args"], capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if "postgres" in line and data_dir in line and " Z" not in line]


@pytest.mark.parametrize("stop_signal", ["SIGINT", "SIGTERM"])
def test_stopping_the_server_stops_the_embedded_postgresql(tmp_path, stop_signal):
    import signal

    data_dir = str(tmp_path / "data")
    env = {"RUNDA_DEV": "1", "RUNDA_DATA_DIR": data_dir}
    assert runda("migrate", env=env).returncode == 0
    assert not _postgres_processes(data_dir), "migrate left the server running"
    port = free_port()
    full_env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "SECRET_KEY"}}
    full_env.update(env, PORT=str(port))
    server = subprocess.Popen([sys.executable, "-m", "backend", "serve"], env=full_env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_until_healthy(f"http://127.0.0.1:{port}", server)
    assert _postgres_processes(data_dir)
    server.send_signal(getattr(signal, stop_signal))
    server.wait(timeout=30)
    deadline = time.monotonic() + 10
    while _postgres_processes(data_dir) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _postgres_processes(data_dir), "PostgreSQL still running after the server stopped"


def test_a_new_passkey_needs_no_organisation_named_when_there_are_several(fresh_database):
    import asyncio

    import asyncpg

    env = {"DATABASE_URL": fresh_database, "RUNDA_DEV": "1"}
    assert runda("migrate", env=env).returncode == 0
    assert runda("demo", "--scale", "0.01", env=env).returncode == 0

    async def second_organisation() -> int:
        conn = await asyncpg.connect(fresh_database)
        try:
            await conn.execute("INSERT INTO organisation (name, slug, phone) VALUES ('Andra', 'andra', '')")
            return await conn.fetchval("SELECT min(id) FROM staff_user WHERE role = 'technician'")
        finally:
            await conn.close()

    technician = asyncio.run(second_organisation())
    again = runda("invite", "--staff-user", str(technician), env=env)
    assert again.returncode == 0 and "/inbjudan/" in again.stdout, again.stderr
    assert_one_clear_line(runda("invite", "--role", "technician", "--name", "Nina Ny", env=env),
                          "--organisation SLUG")
    named = runda("invite", "--role", "technician", "--name", "Nina Ny", "--organisation", "andra", env=env)
    assert named.returncode == 0 and "/inbjudan/" in named.stdout
