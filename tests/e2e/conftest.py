"""End-to-end fixtures: a real Runda server process and Debian's headless Chromium.

The server runs `runda serve` against the test session's database, so the browser
exercises exactly what production runs. Chromium comes from Debian (`make test`
installs it); without it these tests are skipped locally and fail in CI.
"""

from __future__ import annotations

import os
import shutil
from typing import AsyncIterator, Iterator

import pytest

from backend.accounts import service
from tests.support.server import ServerProcess

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
]


def pytest_collection_modifyitems(config, items):
    if CHROMIUM:
        return
    if os.environ.get("CI") == "true":
        raise pytest.UsageError("chromium is required for the browser tests in CI (apt-get install chromium)")
    skip = pytest.mark.skip(reason="Debian's chromium is not installed")
    for item in items:
        if "tests/e2e/" in str(item.fspath):
            item.add_marker(skip)



@pytest.fixture(scope="session")
def live_server(database_url: str, database) -> Iterator[str]:
    # Every browser test signs in from 127.0.0.1: more than a person does in a minute.
    server = ServerProcess(database_url, RATE_LIMIT_PER_MINUTE="1000")
    server.start()
    yield server.base
    server.stop()


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        await browser.close()


@pytest.fixture
async def page(browser):
    context = await browser.new_context(locale="sv-SE", viewport={"width": 360, "height": 740})
    page = await context.new_page()
    yield page
    await context.close()


async def add_virtual_authenticator(page) -> str:
    """A platform passkey authenticator with user verification, via the DevTools Protocol."""
    cdp = await page.context.new_cdp_session(page)
    await cdp.send("WebAuthn.enable")
    result = await cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "internal", "hasResidentKey": True, "hasUserVerification": True,
        "isUserVerified": True, "automaticPresenceSimulation": True,
    }})
    page.runda_cdp = cdp
    return result["authenticatorId"]


async def sign_in_with_passkey(page, live_server, world, role: str, start_page: str) -> None:
    """Register a passkey through an invitation in the browser; lands signed in on `start_page`."""
    token, _ = await service.create_invitation(organisation_id=world.organisation, name="", role=role,
                                               staff_user_id=world.staff[role])
    await add_virtual_authenticator(page)
    await page.goto(f"{live_server}/inbjudan/{token}")
    await page.get_by_label("Namn på passkeyn").fill(f"Testdator {role}")
    await page.get_by_role("button", name="Skapa passkey och logga in").click()
    await page.wait_for_url(f"{live_server}{start_page}")


@pytest.fixture
def queue_worker(database_url: str, database) -> Iterator[None]:
    """A `runda worker` process on the test database for the test's duration, so jobs the browser
    starts (FU generation, notices) run while it works. It schedules no periodic jobs."""
    from tests.support.jobs import WorkerProcess

    worker = WorkerProcess(database_url, "--concurrency", "2")
    worker.start()
    yield
    worker.stop()
