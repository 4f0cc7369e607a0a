"""Shared fixtures: one throwaway PostgreSQL database for the whole test session.

Tests run against a real PostgreSQL: the embedded server, started in a temporary
folder (never the demo's data folder), or the server at TEST_DATABASE_URL. Either
way a fresh database is created, migrated, and dropped at the end.
"""

from __future__ import annotations

import os
import secrets
import tempfile
import time
from pathlib import Path
from typing import AsyncIterator, Iterator

import pytest
import httpx
from litestar import Litestar

from backend import db
from backend.app import create_app
from backend.settings import Settings
from tests.support.server import throwaway_database

# Runda's day is Stockholm's (backend.workdays.today); tests that say date.today() mean the same
# day, also in the hour after midnight when UTC's date is still yesterday's.
os.environ["TZ"] = "Europe/Stockholm"
time.tzset()


@pytest.fixture(scope="session")
def server_url() -> Iterator[str]:
    """Admin URL of a running PostgreSQL server for this test session."""
    if os.environ.get("TEST_DATABASE_URL"):
        yield os.environ["TEST_DATABASE_URL"]
        return
    with tempfile.TemporaryDirectory(prefix="runda-test-") as folder:
        with db.embedded_server(Path(folder), database="postgres") as url:
            yield url


@pytest.fixture(scope="session")
def database_url(server_url: str) -> Iterator[str]:
    """URL of a fresh database (migrated by `database`), dropped when the session ends."""
    with throwaway_database(server_url, "runda_test") as url:
        yield url


@pytest.fixture(scope="session")
async def database(database_url: str) -> AsyncIterator[str]:
    """The migrated test database with Runda's pool open on it."""
    db.configure(database_url)
    await db.start_pool(count_queries=True)
    await db.migrate()
    try:
        yield database_url
    finally:
        await db.close_pool()


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        secret_key=secrets.token_urlsafe(32),
        development=False,
    )


@pytest.fixture(scope="session")
def app(settings: Settings) -> Litestar:
    return create_app(settings)


@pytest.fixture
async def client(database: str, app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client talking to the app in-process, on the test database.

    It runs in the test's own event loop, so the app shares the session's pool; the
    app's lifespan would only reuse that pool, so it is not run.
    """
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost:8000") as test_client:
        yield test_client
