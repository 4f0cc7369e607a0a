"""Signing in through the region's identity provider, in Chromium, end to end: Runda's sign-in
page, the real provider's own login form (oidc-provider on Node), back to Runda linked and on the
role's page; signing out of Runda and then of the provider."""

from __future__ import annotations

import os

import pytest
from axe_playwright_python.async_playwright import Axe

from backend import db
from backend.accounts import service
from tests.support.factories import add_staff, delete_world, make_world
from tests.support.oidc_provider import USERS, OidcProvider, node_available
from tests.support.server import ServerProcess

if not node_available():
    if os.environ.get("CI") == "true":
        raise RuntimeError("node and tests/support/oidc/node_modules are required in CI (make oidc-provider)")
    pytest.skip("node or oidc-provider is not installed (make oidc-provider)", allow_module_level=True)


@pytest.fixture(scope="module")
def region(database_url, database):
    """A Runda server whose sign-in goes to a provider of its own, and that provider."""
    server = ServerProcess(database_url, RATE_LIMIT_PER_MINUTE="1000")
    provider = OidcProvider(redirect_uris=[f"{server.base}/logga-in/idp/klar"],
                            post_logout_redirect_uris=[f"{server.base}/logga-in?utloggad=1"]).start()
    server.env.update(provider.env(OIDC_LABEL="SITHS-inloggning"))
    try:
        server.start()
        yield server.base, provider
    finally:
        server.stop()
        provider.stop()


@pytest.fixture
async def world(database):
    world = await make_world()
    yield world
    await delete_world(world)


async def assert_accessible(page) -> None:
    results = await Axe().run(page)
    assert results.violations_count == 0, results.generate_report()
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"{page.url} scrolls sideways at 360 px ({width} px wide)"


async def log_in_at_provider(page, login: str) -> None:
    """The provider's own pages: its login form, then its consent."""
    await page.locator("input[name=login]").fill(login)
    await page.locator("input[name=password]").fill("vilket-som-helst")
    await page.get_by_role("button", name="Sign-in").click()
    await page.get_by_role("button", name="Continue").click()


async def test_a_coordinator_signs_in_through_the_provider_is_linked_and_signs_out(page, region, world):
    base, provider = region
    coordinator = await add_staff(world, "coordinator", name="Kim Koordinator")
    await db.execute("UPDATE staff_user SET hsa_id = $2 WHERE id = $1", coordinator, USERS["koordinator"]["hsa_id"])

    await page.goto(f"{base}/logga-in")
    await assert_accessible(page)
    await page.get_by_role("link", name="Logga in med SITHS-inloggning").click()
    await page.wait_for_url(f"{provider.url}/interaction/**")
    await log_in_at_provider(page, "koordinator")
    await page.wait_for_url(f"{base}/arbetsordrar")
    assert await db.fetchval("SELECT subject FROM idp_link WHERE staff_user = $1", coordinator) == "koordinator"

    await page.get_by_role("button", name="Logga ut").first.click()
    await page.wait_for_url(f"{base}/logga-in?utloggad=1&idp=1")
    assert "Du är utloggad" in await page.locator("main").inner_text()
    await page.get_by_role("link", name="Logga ut även från SITHS-inloggning").click()
    await page.get_by_role("button", name="Yes, sign me out").click()
    await page.wait_for_url(f"{base}/logga-in?utloggad=1*")
    await page.goto(f"{base}/konto")
    await page.wait_for_url(f"{base}/logga-in")

    # Signed out at the provider too: signing in again asks for the login once more.
    await page.get_by_role("link", name="Logga in med SITHS-inloggning").click()
    await page.wait_for_url(f"{provider.url}/interaction/**")
    assert await page.locator("input[name=login]").count() == 1


async def test_a_technician_comes_in_from_the_invitation_and_lands_on_the_day(page, region, world):
    base, _ = region
    token, _ = await service.create_invitation(organisation_id=world.organisation, name="Nora Ny", role="technician")
    await page.goto(f"{base}/inbjudan/{token}")
    await page.get_by_role("link", name="Logga in med SITHS-inloggning").click()
    await log_in_at_provider(page, "ny")
    await page.wait_for_url(f"{base}/min-dag")
    person = await db.fetchrow("SELECT id, hsa_id FROM staff_user WHERE organisation = $1 AND name = 'Nora Ny'",
                               world.organisation)
    assert person["hsa_id"] == USERS["ny"]["hsa_id"]
    assert await db.fetchval("SELECT subject FROM idp_link WHERE staff_user = $1", person["id"]) == "ny"


async def test_an_unknown_person_is_told_to_contact_the_hmc(page, region, world):
    base, _ = region
    await page.goto(f"{base}/logga-in")
    await page.get_by_role("link", name="Logga in med SITHS-inloggning").click()
    await log_in_at_provider(page, "okand")
    assert "Du har inget konto i Runda – kontakta" in await page.locator("main").inner_text()
    await assert_accessible(page)
    await page.goto(f"{base}/konto")
    await page.wait_for_url(f"{base}/logga-in")


async def test_an_admin_makes_the_provider_the_only_way_for_coordinators(page, region, world):
    base, _ = region
    admin = await add_staff(world, "admin", name="Ada Admin")
    await db.execute("UPDATE staff_user SET hsa_id = $2 WHERE id = $1", admin, USERS["admin"]["hsa_id"])
    await page.goto(f"{base}/logga-in")
    await page.get_by_role("link", name="Logga in med SITHS-inloggning").click()
    await log_in_at_provider(page, "admin")
    await page.wait_for_url(f"{base}/admin/inbjudningar")
    await page.goto(f"{base}/admin")
    await page.get_by_role("link", name="Inloggningssätt").click()
    await assert_accessible(page)
    coordinators = page.get_by_role("group", name="Koordinator")
    await coordinators.get_by_label("Endast regionens inloggning").check()
    await page.get_by_role("button", name="Spara inloggningssätt").click()
    assert "Inloggningssätten är sparade." in await page.locator("main").inner_text()
    await assert_accessible(page)
    assert await db.fetchval("SELECT methods FROM sign_in_policy WHERE organisation = $1 AND role = 'coordinator'",
                             world.organisation) == "idp"
