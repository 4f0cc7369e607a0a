"""Sign-in over HTTP: invitations, passkeys, sessions, CSRF, rate limits, the dev shortcut."""

import logging

import pytest

from backend import db
from backend.accounts import service
from backend.app import create_app
from backend.auth import SESSION_COOKIE
from backend.settings import Settings
from tests.support.authenticator import SoftAuthenticator
from tests.support.factories import delete_world, make_world
from tests.support.http import csrf, new_client, post_form, post_json, register_via_invitation, sign_in_with


@pytest.fixture
async def world(database):
    world = await make_world()
    yield world
    await delete_world(world)


async def invite(world, role="technician", name="Tove Tekniker", **kwargs):
    token, _ = await service.create_invitation(organisation_id=world.organisation, name=name, role=role, **kwargs)
    return token


async def test_invitation_register_sign_out_and_sign_in_again(app, world):
    token = await invite(world)
    async with new_client(app) as client:
        anonymous_session = client.cookies.get(SESSION_COOKIE)
        authenticator = await register_via_invitation(client, token)
        assert client.cookies.get(SESSION_COOKIE) not in (None, anonymous_session, "null")
        start = await client.get("/")
        assert start.headers["location"] == "/min-dag"
        assert (await client.get("/konto")).status_code == 200

        signed_out = await post_form(client, "/logga-ut")
        assert signed_out.status_code in (302, 303)
        assert (await client.get("/konto")).headers["location"] == "/logga-in"

        result = await sign_in_with(client, authenticator)
        assert result.status_code == 201 and result.json() == {"redirect": "/min-dag"}
        page = await client.get("/konto")
        assert page.status_code == 200 and "Tove Tekniker" in page.text


async def test_a_browser_without_the_credential_cannot_sign_in(app, world):
    await register_via_invitation(new_client(app), await invite(world))
    async with new_client(app) as stranger:
        result = await sign_in_with(stranger, SoftAuthenticator())
        assert result.status_code == 400
        assert "Inloggningen misslyckades" in result.json()["error"]
        assert (await stranger.get("/konto")).status_code == 303


async def test_a_challenge_cannot_be_replayed(app, world):
    authenticator = await register_via_invitation(new_client(app), await invite(world))
    async with new_client(app) as client:
        options = (await post_json(client, "/logga-in/alternativ")).json()
        credential = authenticator.sign_in(options)
        assert (await post_json(client, "/logga-in/verifiera", credential)).status_code == 201
        await post_form(client, "/logga-ut")
        replay = await post_json(client, "/logga-in/verifiera", credential)
        assert replay.status_code == 400
        assert (await client.get("/konto")).status_code == 303


async def test_used_revoked_and_expired_invitations_show_a_swedish_message(app, world):
    token = await invite(world)
    await register_via_invitation(new_client(app), token)
    async with new_client(app) as client:
        used = await client.get(f"/inbjudan/{token}")
        assert used.status_code == 410 and "redan använts" in used.text
        revoked_token, invitation_id = await service.create_invitation(
            organisation_id=world.organisation, name="Rut", role="technician")
        await service.revoke_invitation(world.organisation, invitation_id)
        assert "återkallats" in (await client.get(f"/inbjudan/{revoked_token}")).text
        await db.execute("UPDATE invitation SET expires_at = now() - interval '1 minute' WHERE organisation = $1",
                         world.organisation)
        fresh = await invite(world)
        await db.execute("UPDATE invitation SET expires_at = now() - interval '1 minute' WHERE organisation = $1",
                         world.organisation)
        assert "gått ut" in (await client.get(f"/inbjudan/{fresh}")).text
        assert (await client.get("/inbjudan/not-a-real-token")).status_code == 410


async def test_missing_or_wrong_csrf_token_is_403_and_changes_nothing(app, world):
    coordinator = await make_signed_in(app, world, "coordinator")
    before = await db.fetchval("SELECT count(*) FROM invitation WHERE organisation = $1", world.organisation)
    no_token = await coordinator.post("/admin/inbjudningar", data={"name": "Nils", "role": "technician"})
    assert no_token.status_code == 403
    wrong = await coordinator.post("/admin/inbjudningar", data={"name": "Nils", "role": "technician",
                                                               "_csrf_token": "forged"})
    assert wrong.status_code == 403
    htmx_without = await coordinator.post("/admin/inbjudningar", data={"name": "Nils", "role": "technician"},
                                          headers={"hx-request": "true"})
    assert htmx_without.status_code == 403
    assert await db.fetchval("SELECT count(*) FROM invitation WHERE organisation = $1", world.organisation) == before
    ok = await coordinator.post("/admin/inbjudningar", data={"name": "Nils", "role": "technician"},
                                headers={"x-csrftoken": await csrf(coordinator)})
    assert ok.status_code == 200 and "/inbjudan/" in ok.text
    await coordinator.aclose()


async def test_coordinator_lists_creates_and_revokes_invitations(app, world):
    coordinator = await make_signed_in(app, world, "coordinator")
    created = await post_form(coordinator, "/admin/inbjudningar",
                              {"name": "Pia Förskrivare", "role": "prescriber", "care_unit": str(world.care_unit)})
    assert created.status_code == 200 and "Inbjudan skapad" in created.text
    invitation_id = await db.fetchval("SELECT id FROM invitation WHERE name = 'Pia Förskrivare'")
    revoked = await post_form(coordinator, f"/admin/inbjudningar/{invitation_id}/aterkalla")
    assert "Återkallad" in revoked.text
    # A prescriber needs a care unit: the form comes back with the message and what was typed.
    bad = await post_form(coordinator, "/admin/inbjudningar", {"name": "Per Utan Enhet", "role": "prescriber"})
    assert bad.status_code == 400
    assert "En förskrivare behöver en vårdenhet" in bad.text and 'value="Per Utan Enhet"' in bad.text
    # A coordinator cannot invite an admin.
    admin = await post_form(coordinator, "/admin/inbjudningar", {"name": "Ada", "role": "admin"})
    assert admin.status_code == 400
    await coordinator.aclose()


async def test_sign_out_everywhere_ends_other_sessions(app, world):
    token = await invite(world)
    phone = new_client(app)
    authenticator = await register_via_invitation(phone, token)
    desktop = new_client(app)
    await sign_in_with(desktop, authenticator)
    assert (await desktop.get("/konto")).status_code == 200
    await post_form(phone, "/logga-ut/overallt")
    assert (await desktop.get("/konto")).status_code == 303
    assert (await phone.get("/konto")).status_code == 303


async def test_session_cookie_is_httponly_and_lax(app, world):
    async with new_client(app) as client:
        token = await invite(world)
        await client.get(f"/inbjudan/{token}")
        options = await post_json(client, f"/inbjudan/{token}/alternativ")
        done = await post_json(client, f"/inbjudan/{token}/registrera", SoftAuthenticator().register(options.json()))
        cookie = [v for k, v in done.headers.multi_items() if k == "set-cookie" and SESSION_COOKIE in v][-1]
        assert "HttpOnly" in cookie and "SameSite=lax" in cookie
        assert "Secure" not in cookie  # plain-http localhost in these settings


def test_production_cookies_are_secure():
    from backend.auth import csrf_config, session_config

    settings = Settings.from_env({"SECRET_KEY": "k" * 40, "PUBLIC_ORIGIN": "https://runda.example.se"})
    assert session_config(settings).secure and csrf_config(settings).cookie_secure


async def test_sign_in_endpoints_are_rate_limited_with_a_swedish_message(app, world):
    async with new_client(app, client_host="10.9.8.7") as client:
        statuses = [(await post_json(client, "/logga-in/alternativ")).status_code for _ in range(35)]
        assert statuses[0] == 201 and statuses[-1] == 429
        limited = await post_json(client, "/logga-in/alternativ")
        assert "För många försök" in limited.text
    async with new_client(app, client_host="10.9.8.8") as other:
        assert (await post_json(other, "/logga-in/alternativ")).status_code == 201


async def test_dev_sign_in_exists_only_in_development_on_loopback(world, settings):
    token = await invite(world)
    production = create_app(settings)
    async with new_client(production) as client:
        page = await client.get(f"/inbjudan/{token}")
        assert "utan passkey" not in page.text
        assert (await post_form(client, f"/inbjudan/{token}/utan-passkey")).status_code == 404

    dev_settings = Settings(database_url=settings.database_url, secret_key=settings.secret_key, development=True,
                            host="127.0.0.1")
    dev = create_app(dev_settings)
    async with new_client(dev, client_host="192.168.1.20") as remote:
        assert "utan passkey" not in (await remote.get(f"/inbjudan/{token}")).text
        assert (await post_form(remote, f"/inbjudan/{token}/utan-passkey")).status_code == 404
    async with new_client(dev) as local:
        assert "Fortsätt utan passkey (endast utveckling)" in (await local.get(f"/inbjudan/{token}")).text
        done = await post_form(local, f"/inbjudan/{token}/utan-passkey")
        assert done.status_code in (302, 303) and done.headers["location"] == "/min-dag"
        assert (await local.get("/konto")).status_code == 200

    exposed = create_app(Settings(database_url=settings.database_url, secret_key=settings.secret_key,
                                  development=True, host="0.0.0.0"))
    async with new_client(exposed) as local:
        assert (await post_form(local, f"/inbjudan/{token}/utan-passkey")).status_code == 404


async def test_logs_of_a_full_sign_in_hold_no_secret_or_personal_data(app, world, caplog):
    token = await invite(world, name="Signe Hemligsson")
    with caplog.at_level(logging.DEBUG):
        async with new_client(app) as client:
            authenticator = await register_via_invitation(client, token)
            await post_form(client, "/logga-ut")
            options = (await post_json(client, "/logga-in/alternativ")).json()
            await post_json(client, "/logga-in/verifiera", authenticator.sign_in(options))
            session_id = client.cookies.get(SESSION_COOKIE)
            csrf_token = client.cookies.get("runda_csrf")
    # Everything the server side logged; httpx's own lines are the test client's, not ours.
    server_records = [r for r in caplog.records if not r.name.startswith("httpx")]
    text = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in server_records)
    assert "request" in text  # the requests were logged
    for secret in (token, options["challenge"], session_id, csrf_token, "Signe", "Hemligsson"):
        assert secret and secret not in text


async def make_signed_in(app, world, role):
    from tests.support.http import signed_in_client

    return await signed_in_client(app, world.organisation, world.staff[role])


async def session_rows() -> int:
    return await db.fetchval("SELECT count(*) FROM kv_store WHERE namespace = 'sessions'")


async def test_anonymous_page_views_store_no_session(app, world):
    from tests.support.factories import add_device, add_patient, device_token

    sticker = await device_token(world, await add_device(world, holder=await add_patient(world)))
    invitation = await invite(world)
    before = await session_rows()
    for _ in range(20):
        # A browser that keeps no cookies: every request comes without one.
        async with new_client(app) as browser:
            for path in ("/", "/logga-in", "/logga-in?utloggad=1", "/offline", f"/f/{sticker}",
                         f"/f/{sticker}/anmal", f"/inbjudan/{invitation}"):
                page = await browser.get(path)
                assert page.status_code in (200, 302, 303), (path, page.status_code)
                assert SESSION_COOKIE not in page.headers.get("set-cookie", ""), path
    assert await session_rows() == before


async def test_a_session_id_the_server_did_not_issue_is_dropped_not_stored(app, world):
    made_up = "a" * 32
    async with new_client(app) as browser:
        browser.cookies.set(SESSION_COOKIE, made_up)
        page = await browser.get("/logga-in")
        assert page.status_code == 200
        cleared = [v for k, v in page.headers.multi_items() if k == "set-cookie" and SESSION_COOKIE in v]
        assert cleared and all(f"{SESSION_COOKIE}=null" in v for v in cleared)
        # Something worth keeping (a sign-in challenge) goes under an id of the server's own.
        token = await csrf(browser)
        browser.cookies.clear()
        options = await browser.post("/logga-in/alternativ", headers={
            "x-csrftoken": token, "cookie": f"{SESSION_COOKIE}={made_up}; runda_csrf={token}"})
        assert options.status_code == 201
        issued = options.cookies.get(SESSION_COOKIE)
        assert issued not in (None, "null", made_up)
    assert await db.fetchval("SELECT count(*) FROM kv_store WHERE namespace = 'sessions' AND key = $1",
                             made_up) == 0
    assert await db.fetchval("SELECT count(*) FROM kv_store WHERE namespace = 'sessions' AND key = $1",
                             issued) == 1


async def test_signing_in_gives_a_new_csrf_token_and_the_old_one_stops_working(app, world):
    authenticator = await register_via_invitation(new_client(app), await invite(world, role="coordinator"))
    async with new_client(app) as client:
        before = await csrf(client)
        result = await sign_in_with(client, authenticator)
        assert result.status_code == 201
        after = client.cookies.get("runda_csrf")
        assert after and after != before
        invitation = {"name": "Nils", "role": "technician"}
        with_old = await client.post("/admin/inbjudningar", data={**invitation, "_csrf_token": before})
        assert with_old.status_code == 403
        with_new = await client.post("/admin/inbjudningar", data={**invitation, "_csrf_token": after})
        assert with_new.status_code == 200 and "/inbjudan/" in with_new.text


async def test_the_sign_in_page_itself_is_rate_limited(app, world):
    async with new_client(app, client_host="10.9.8.9") as client:
        statuses = [(await client.get("/logga-in")).status_code for _ in range(31)]
        assert statuses[:30] == [200] * 30 and statuses[30] == 429
        limited = await client.get("/logga-in")
        assert limited.status_code == 429 and "För många försök" in limited.text
        assert int(limited.headers["retry-after"]) <= 60
