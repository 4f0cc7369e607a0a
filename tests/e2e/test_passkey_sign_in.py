"""A person signs in the way they will every day: with a passkey, in Chromium."""

import pytest

from backend.accounts import service
from tests.e2e.conftest import add_virtual_authenticator
from tests.support.factories import delete_world, make_world


@pytest.fixture
async def world(database):
    world = await make_world()
    yield world
    await delete_world(world)


async def test_invitation_register_sign_out_and_sign_in_with_a_passkey(page, live_server, world):
    token, _ = await service.create_invitation(organisation_id=world.organisation, name="Tove Tekniker",
                                               role="technician")
    await add_virtual_authenticator(page)

    await page.goto(f"{live_server}/inbjudan/{token}")
    assert await page.locator("h1").inner_text() == "Välkommen till Runda"
    await page.get_by_label("Namn på passkeyn").fill("Testtelefonen")
    await page.get_by_role("button", name="Skapa passkey och logga in").click()
    await page.wait_for_url(f"{live_server}/min-dag")
    assert "Min dag" in await page.locator("h1").inner_text()

    await page.goto(f"{live_server}/konto")
    assert "Testtelefonen" in await page.locator("main").inner_text()

    await page.get_by_role("button", name="Logga ut").first.click()
    await page.wait_for_url(f"{live_server}/logga-in?utloggad=1")
    assert "Du är utloggad" in await page.locator("main").inner_text()

    await page.get_by_role("button", name="Logga in med passkey").click()
    await page.wait_for_url(f"{live_server}/min-dag")

    # The invitation is used up now, and says so in Swedish.
    await page.goto(f"{live_server}/inbjudan/{token}")
    assert "redan använts" in await page.locator("main").inner_text()


async def test_a_browser_without_the_credential_cannot_sign_in(page, live_server, world):
    await add_virtual_authenticator(page)  # an authenticator that holds no Runda passkey
    await page.goto(f"{live_server}/logga-in")
    await page.get_by_role("button", name="Logga in med passkey").click()
    status = page.locator("#sign-in-status")
    await status.filter(has_text="avbröts").or_(status.filter(has_text="misslyckades")).wait_for(timeout=15000)
    assert page.url == f"{live_server}/logga-in"


async def test_expired_and_revoked_invitations_show_a_clear_message(page, live_server, world):
    token, invitation_id = await service.create_invitation(
        organisation_id=world.organisation, name="Rut", role="technician")
    await service.revoke_invitation(world.organisation, invitation_id)
    await page.goto(f"{live_server}/inbjudan/{token}")
    assert "återkallats" in await page.locator("main").inner_text()
    assert await page.get_by_role("button", name="Skapa passkey och logga in").count() == 0
