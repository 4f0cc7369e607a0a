"""Throwaway databases and started server processes, shared by the test suites."""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from typing import Iterator
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx


async def _admin(server_url: str, sql: str) -> None:
    conn = await asyncpg.connect(server_url)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@contextmanager
def throwaway_database(server_url: str, prefix: str) -> Iterator[str]:
    """A new, empty database on the server at `server_url`, dropped afterwards."""
    name = f"{prefix}_{secrets.token_hex(4)}"
    asyncio.run(_admin(server_url, f'CREATE DATABASE "{name}"'))
    try:
        yield urlunsplit(urlsplit(server_url)._replace(path="/" + name))
    finally:
        asyncio.run(_admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def stop_process(process: subprocess.Popen | None, timeout: float) -> None:
    """Ask a started process to stop (SIGTERM) and wait for it; killed when it takes longer."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_healthy(base: str, process: subprocess.Popen, timeout: float = 30) -> None:
    """Wait for a started `runda serve` to answer /healthz; fail if it exits or hangs."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if process.poll() is not None:
            stderr = process.stderr.read() if process.stderr else ""
            raise AssertionError(f"the server exited: {stderr}")
        if time.monotonic() > deadline:
            process.kill()
            raise AssertionError(f"the server did not answer within {timeout:g} s")
        time.sleep(0.2)


class ServerProcess:
    """`runda serve` as a child process on a test database, the way production runs it.

    It can be stopped, or killed without warning (SIGKILL, as a crash or a lost machine
    would) and started again on the same port with the same secret, so sessions and CSRF
    tokens issued before still hold."""

    def __init__(self, database_url: str, **env: str) -> None:
        self.port = free_port()
        self.base = f"http://localhost:{self.port}"
        self.env = {k: v for k, v in os.environ.items() if k != "RUNDA_DEV"}
        self.env.update(DATABASE_URL=database_url, SECRET_KEY=secrets.token_urlsafe(32), PORT=str(self.port),
                        HOST="127.0.0.1", PUBLIC_ORIGIN=self.base, LOG_LEVEL="WARNING", **env)
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen([sys.executable, "-m", "backend", "serve"], env=self.env,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        wait_until_healthy(self.base, self.process)

    def kill(self) -> None:
        """Gone at once: no response finishes, no transaction commits, nothing is cleaned up."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=20)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)
