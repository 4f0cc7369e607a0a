"""Sign-in through the region's identity provider over HTTP, against a real OpenID provider
(oidc-provider on Node, tests/support/oidc_provider.py): linking, the policy per role, and every
failure path refused with a security event and no session."""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import re
import time
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from backend import db
from backend.accounts import oidc, service
from backend.app import create_app
from backend.auth import SESSION_COOKIE
from backend.settings import OidcSettings
from tests.support.factories import add_staff, delete_world, make_world
from tests.support.http import BASE_URL, new_client, post_form, post_json, register_via_invitation, sign_in_with
from tests.support.oidc_provider import USERS, OidcProvider, new_key, node_available, sign_in_at_provider
from tests.support.server import free_port

CALLBACK = BASE_URL + "/logga-in/idp/klar"

if not node_available():
    if os.environ.get("CI") == "true":
        raise RuntimeError("node and tests/support/oidc/node_modules are required in CI (make oidc-provider)")
    pytest.skip("node or oidc-provider is not installed (make oidc-provider)", allow_module_level=True)


@pytest.fixture(scope="module")
def provider():
    started = OidcProvider(redirect_uris=[CALLBACK], post_logout_redirect_uris=[BASE_URL + "/logga-in?utloggad=1"])
    started.start()
    yield started
    started.stop()
    oidc.forget_provider()


def app_for(settings, provider, **env):
    return create_app(dataclasses.replace(settings, oidc=OidcSettings.from_env(provider.env(**env))))


@pytest.fixture(scope="module")
def oidc_app(settings, provider):
    return app_for(settings, provider)


@pytest.fixture
async def world(database):
    world = await make_world()
    yield world
    await delete_world(world)


async def with_hsa_id(staff_user: int, login: str) -> int:
    await db.execute("UPDATE staff_user SET hsa_id = $2 WHERE id = $1", staff_user, USERS[login]["hsa_id"])
    return staff_user


async def events_since(mark: int) -> list[str]:
    return [r["kind"] for r in await db.fetch("SELECT kind FROM security_event WHERE id > $1 ORDER BY id", mark)]


async def event_mark() -> int:
    return await db.fetchval("SELECT coalesce(max(id), 0) FROM security_event")


async def through_provider(client: httpx.AsyncClient, login: str, start: str = "/logga-in/idp") -> str:
    """Start at Runda, sign in at the provider as `login`: the callback URL it sends back."""
    started = await client.get(start)
    assert started.status_code in (302, 303), started.text
    return await sign_in_at_provider(started.headers["location"], login, back_to=CALLBACK)


async def callback(client: httpx.AsyncClient, url: str) -> httpx.Response:
    parts = urlsplit(url)
    return await client.get(f"{parts.path}?{parts.query}")


async def signed_in(client: httpx.AsyncClient) -> bool:
    return (await client.get("/konto")).status_code == 200


# --- linking ------------------------------------------------------------------------------


async def test_a_registered_hsa_id_signs_in_is_linked_and_lands_on_the_roles_page(oidc_app, world):
    person = await with_hsa_id(await add_staff(world, "technician", name="Tea Tekniker"), "tekniker")
    async with new_client(oidc_app) as client:
        page = await client.get("/logga-in")
        assert 'href="/logga-in/idp"' in page.text and "Logga in med passkey" in page.text
        done = await callback(client, await through_provider(client, "tekniker"))
        assert done.status_code in (302, 303) and done.headers["location"] == "/min-dag"
        assert await signed_in(client)
        link = await db.fetchrow("SELECT subject, last_signed_in_at FROM idp_link WHERE staff_user = $1", person)
        assert link["subject"] == "tekniker" and link["last_signed_in_at"] is not None
        session = await db.fetchval(
            "SELECT convert_from(value, 'UTF8') FROM kv_store WHERE namespace = 'sessions' AND key = $1",
            client.cookies[SESSION_COOKIE],
        )
        recorded = json.loads(session)
        assert recorded["method"] == "idp" and abs(recorded["auth_time"] - time.time()) < 120

    # Linked by the provider's subject from now on, whatever becomes of the HSA-id in the register.
    await db.execute("UPDATE staff_user SET hsa_id = NULL WHERE id = $1", person)
    async with new_client(oidc_app) as client:
        done = await callback(client, await through_provider(client, "tekniker"))
        assert done.headers["location"] == "/min-dag" and await signed_in(client)


async def test_an_invitation_links_the_identity_and_makes_the_person(oidc_app, world):
    token, _ = await service.create_invitation(organisation_id=world.organisation, name="Kim Koordinator",
                                               role="coordinator")
    async with new_client(oidc_app) as client:
        invitation = await client.get(f"/inbjudan/{token}")
        assert f'href="/inbjudan/{token}/idp"' in invitation.text
        done = await callback(client, await through_provider(client, "koordinator", f"/inbjudan/{token}/idp"))
        assert done.headers["location"] == "/arbetsordrar" and await signed_in(client)
    person = await db.fetchrow(
        "SELECT id, role, hsa_id FROM staff_user WHERE organisation = $1 AND name = 'Kim Koordinator'", world.organisation
    )
    assert person["role"] == "coordinator" and person["hsa_id"] == USERS["koordinator"]["hsa_id"]
    assert await db.fetchval("SELECT subject FROM idp_link WHERE staff_user = $1", person["id"]) == "koordinator"
    async with new_client(oidc_app) as client:
        # The invitation is used up.
        assert (await client.get(f"/inbjudan/{token}/idp")).status_code == 410


async def test_an_unknown_identity_gets_the_contact_page_and_never_an_account(oidc_app, world):
    mark = await event_mark()
    async with new_client(oidc_app) as client:
        refused = await callback(client, await through_provider(client, "okand"))
        assert refused.status_code == 403
        assert "Du har inget konto i Runda – kontakta" in refused.text
        assert not await signed_in(client)
    assert await events_since(mark) == ["oidc_unknown_identity"]
    assert not await db.fetchval("SELECT count(*) FROM staff_user WHERE hsa_id = $1", USERS["okand"]["hsa_id"])
    assert not await db.fetchval("SELECT count(*) FROM idp_link WHERE subject = 'okand'")


async def test_a_deactivated_person_cannot_sign_in_through_the_provider(oidc_app, world):
    person = await with_hsa_id(await add_staff(world, "technician"), "tekniker")
    await db.execute("UPDATE staff_user SET active = false WHERE id = $1", person)
    mark = await event_mark()
    async with new_client(oidc_app) as client:
        refused = await callback(client, await through_provider(client, "tekniker"))
        assert refused.status_code == 403 and "inaktiverat" in refused.text
        assert not await signed_in(client)
    assert await events_since(mark) == ["oidc_inactive"]
    assert not await db.fetchval("SELECT count(*) FROM idp_link WHERE staff_user = $1", person)


# --- the policy per role ------------------------------------------------------------------


async def set_policy(world, role: str, methods: str) -> None:
    await db.execute(
        "INSERT INTO sign_in_policy (organisation, role, methods) VALUES ($1, $2, $3) "
        "ON CONFLICT (organisation, role) DO UPDATE SET methods = EXCLUDED.methods",
        world.organisation, role, methods,
    )


async def test_a_role_limited_to_passkeys_is_refused_at_the_provider(oidc_app, world):
    await with_hsa_id(await add_staff(world, "technician"), "tekniker")
    await set_policy(world, "technician", "passkey")
    mark = await event_mark()
    async with new_client(oidc_app) as client:
        refused = await callback(client, await through_provider(client, "tekniker"))
        assert refused.status_code == 403 and "Logga in med din passkey" in refused.text
        assert not await signed_in(client)
    assert await events_since(mark) == ["oidc_policy"]


async def test_a_role_limited_to_the_provider_cannot_use_a_passkey(oidc_app, world):
    token, _ = await service.create_invitation(organisation_id=world.organisation, name="Cai", role="coordinator")
    async with new_client(oidc_app) as client:
        authenticator = await register_via_invitation(client, token)
        await post_form(client, "/logga-ut")
        await set_policy(world, "coordinator", "idp")
        mark = await event_mark()
        refused = await sign_in_with(client, authenticator)
        assert refused.status_code == 400 and "regionens inloggning" in refused.json()["error"]
        assert not await signed_in(client)
        assert await events_since(mark) == ["passkey_policy"]
    # An invitation for that role offers the provider only: no passkey to create.
    token, _ = await service.create_invitation(organisation_id=world.organisation, name="Cleo", role="coordinator")
    async with new_client(oidc_app) as client:
        page = await client.get(f"/inbjudan/{token}")
        assert f'href="/inbjudan/{token}/idp"' in page.text and "Skapa passkey" not in page.text
        refused = await post_json(client, f"/inbjudan/{token}/registrera", {})
        assert refused.status_code == 400 and "inte med passkey" in refused.json()["error"]


async def test_without_the_provider_the_sign_in_page_offers_passkeys_only(app, world):
    async with new_client(app) as client:
        page = await client.get("/logga-in")
        assert "Logga in med passkey" in page.text and "/logga-in/idp" not in page.text
        assert (await client.get("/logga-in/idp")).status_code == 404


async def test_an_admin_sets_the_policy_per_role(oidc_app, world):
    admin = await add_staff(world, "admin")
    await with_hsa_id(admin, "admin")
    async with new_client(oidc_app) as client:
        await callback(client, await through_provider(client, "admin"))
        assert await signed_in(client)
        # The staff register shows the person linked to the provider, and when they last came through it.
        register = await client.get(f"/admin/personal/{admin}")
        assert re.search(r"Regionens inloggning</dt><dd>Kopplad, senast", register.text)
        choices = {f"policy_{role}": "both" for role in ("technician", "consultant", "prescriber", "admin")}
        saved = await post_form(client, "/admin/inloggning", {**choices, "policy_coordinator": "idp"})
        assert saved.status_code == 200 and "sparade" in saved.text
        wrong = await post_form(client, "/admin/inloggning", {**choices, "policy_coordinator": "magic"})
        assert wrong.status_code == 400 and "Välj ett inloggningssätt" in wrong.text
    rows = dict(await db.fetch("SELECT role, methods FROM sign_in_policy WHERE organisation = $1", world.organisation))
    assert rows["coordinator"] == "idp" and rows["technician"] == "both"


# --- failure paths ------------------------------------------------------------------------


async def test_an_unreachable_provider_gets_a_swedish_page_offering_passkeys(settings, world):
    nowhere = OidcProvider(redirect_uris=[CALLBACK], port=free_port())  # never started
    app = app_for(settings, nowhere)
    mark = await event_mark()
    async with new_client(app) as client:
        page = await client.get("/logga-in/idp")
        assert page.status_code == 503
        assert "svarar inte" in page.text and "passkey" in page.text
        assert not await signed_in(client)
    assert await events_since(mark) == ["oidc_unreachable"]


async def test_a_provider_gone_before_the_code_is_exchanged_gets_the_same_page(settings, world):
    await with_hsa_id(await add_staff(world, "technician"), "tekniker")
    going, app = await provider_with(settings)
    try:
        async with new_client(app) as client:
            url = await through_provider(client, "tekniker")
            going.stop()
            mark = await event_mark()
            page = await callback(client, url)
            assert page.status_code == 503 and "svarar inte" in page.text
            assert not await signed_in(client)
        assert await events_since(mark) == ["oidc_unreachable"]
    finally:
        going.stop()


async def test_a_wrong_state_is_refused_and_the_code_never_used(oidc_app, world):
    await with_hsa_id(await add_staff(world, "technician"), "tekniker")
    mark = await event_mark()
    async with new_client(oidc_app) as client:
        url = await through_provider(client, "tekniker")
        forged = re.sub(r"state=[^&]+", "state=someone-elses-state", url)
        refused = await callback(client, forged)
        assert refused.status_code == 400 and "kunde inte slutföras" in refused.text
        assert not await signed_in(client)
        # The flow is used up: the real answer after it is refused too.
        assert (await callback(client, url)).status_code == 400
    assert await events_since(mark) == ["oidc_state_mismatch", "oidc_state_mismatch"]


async def test_a_replayed_code_is_refused(oidc_app, world):
    await with_hsa_id(await add_staff(world, "technician"), "tekniker")
    async with new_client(oidc_app) as client:
        url = await through_provider(client, "tekniker")
        assert (await callback(client, url)).headers["location"] == "/min-dag"
        await post_form(client, "/logga-ut")
        mark = await event_mark()
        # The same answer again: no flow in the session any more.
        assert (await callback(client, url)).status_code == 400
        # Within a new flow (its state), the old code: the provider refuses it.
        started = await client.get("/logga-in/idp")
        state = parse_qs(urlsplit(started.headers["location"]).query)["state"][0]
        old_code = parse_qs(urlsplit(url).query)["code"][0]
        replayed = await client.get("/logga-in/idp/klar", params={"code": old_code, "state": state})
        assert replayed.status_code == 400
        assert not await signed_in(client)
    assert await events_since(mark) == ["oidc_state_mismatch", "oidc_code_refused"]


async def provider_with(settings, **changes) -> tuple[OidcProvider, object]:
    started = OidcProvider(redirect_uris=[CALLBACK], **changes).start()
    return started, app_for(settings, started)


async def test_an_expired_token_is_refused(settings, world):
    # The provider's clock two hours behind when it issues tokens: its ID tokens (valid an hour)
    # expired an hour ago.
    await with_hsa_id(await add_staff(world, "technician"), "tekniker")
    behind, app = await provider_with(settings, clock_offset_seconds=-7200)
    try:
        mark = await event_mark()
        async with new_client(app) as client:
            refused = await callback(client, await through_provider(client, "tekniker"))
            assert refused.status_code == 400 and not await signed_in(client)
        assert await events_since(mark) == ["oidc_token_expired"]
    finally:
        behind.stop()


async def test_clock_skew_within_the_leeway_passes_and_beyond_it_is_refused(settings, world):
    # The provider's clock 30 s ahead: its tokens are issued "in the future".
    await with_hsa_id(await add_staff(world, "technician"), "tekniker")
    ahead, tolerant = await provider_with(settings, clock_offset_seconds=30)
    strict = app_for(settings, ahead, OIDC_LEEWAY_SECONDS="5")
    try:
        async with new_client(tolerant) as client:  # leeway 60 s
            assert (await callback(client, await through_provider(client, "tekniker"))).headers["location"] == "/min-dag"
        mark = await event_mark()
        async with new_client(strict) as client:
            refused = await callback(client, await through_provider(client, "tekniker"))
            assert refused.status_code == 400 and not await signed_in(client)
        assert await events_since(mark) == ["oidc_token_not_yet_valid"]
    finally:
        ahead.stop()


async def test_rotated_keys_are_fetched_and_a_token_signed_by_a_wrong_key_is_refused(settings, world):
    await with_hsa_id(await add_staff(world, "technician"), "tekniker")
    first = new_key("k1")
    running, app = await provider_with(settings, keys=[first])
    try:
        async with new_client(app) as client:
            assert (await callback(client, await through_provider(client, "tekniker"))).headers["location"] == "/min-dag"
        # The provider rotates: a new key signs, the old one is still published. Runda has not
        # seen k2 and fetches the keys again.
        running.restart(keys=[new_key("k2"), first])
        async with new_client(app) as client:
            assert (await callback(client, await through_provider(client, "tekniker"))).headers["location"] == "/min-dag"
        # An impostor on the provider's address signs with a key of its own under the known id.
        running.restart(keys=[new_key("k2")])
        mark = await event_mark()
        async with new_client(app) as client:
            refused = await callback(client, await through_provider(client, "tekniker"))
            assert refused.status_code == 400 and not await signed_in(client)
        assert await events_since(mark) == ["oidc_bad_signature"]
    finally:
        running.stop()


async def test_a_provider_claiming_another_issuer_is_refused(settings, world):
    port = free_port()
    impostor, _ = await provider_with(settings, port=port, issuer=f"http://127.0.0.1:{port}/another")
    try:
        app = create_app(dataclasses.replace(settings, oidc=OidcSettings.from_env(
            {**impostor.env(), "OIDC_ISSUER": impostor.url})))
        mark = await event_mark()
        async with new_client(app) as client:
            refused = await client.get("/logga-in/idp")
            assert refused.status_code == 502 and not await signed_in(client)
        assert await events_since(mark) == ["oidc_wrong_issuer"]
    finally:
        impostor.stop()


# --- sign-out -------------------------------------------------------------------------------


async def test_sign_out_ends_the_session_and_offers_the_providers_logout(oidc_app, world, provider):
    await with_hsa_id(await add_staff(world, "technician"), "tekniker")
    async with new_client(oidc_app) as client:
        await callback(client, await through_provider(client, "tekniker"))
        out = await post_form(client, "/logga-ut")
        assert out.headers["location"] == "/logga-in?utloggad=1&idp=1"
        assert not await signed_in(client)
        page = await client.get(out.headers["location"])
        assert 'href="/logga-ut/idp"' in page.text
        there = await client.get("/logga-ut/idp")
        location = there.headers["location"]
        assert location.startswith(f"{provider.url}/session/end")
        query = parse_qs(urlsplit(location).query)
        assert query["client_id"] == ["runda"] and query["post_logout_redirect_uri"] == [BASE_URL + "/logga-in?utloggad=1"]


# --- logs -------------------------------------------------------------------------------------


async def test_logs_of_a_sign_in_through_the_provider_hold_no_token_code_or_claim(oidc_app, world, caplog):
    await with_hsa_id(await add_staff(world, "technician", name="Tea Tekniker"), "tekniker")
    with caplog.at_level(logging.DEBUG):
        async with new_client(oidc_app) as client:
            url = await through_provider(client, "tekniker")
            await callback(client, url)
            session_id = client.cookies.get(SESSION_COOKIE)
            await post_form(client, "/logga-ut")
            await callback(client, url)  # refused: a security event, and a log line perhaps
    query = parse_qs(urlsplit(url).query)
    # The test's own HTTP clients (the browser at Runda and at the provider's login form) log the
    # URLs they fetch; Runda's lines are the rest, its own calls to the provider included.
    browser = ("localhost:8000", "/auth", "/interaction/")
    server_records = [r for r in caplog.records if not r.name.startswith("httpcore") and not (
        r.name.startswith("httpx") and any(part in r.getMessage() for part in browser))]
    text = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in server_records)
    assert "request" in text
    secrets_ = [query["code"][0], query["state"][0], *USERS["tekniker"].values(), "Tea", "tekniker", session_id]
    for secret in secrets_:
        assert secret and secret not in text, secret


async def test_hostile_answers_at_the_callback_are_refused_never_a_server_error(oidc_app, world):
    staff_before = await db.fetchval("SELECT count(*) FROM staff_user")
    async with new_client(oidc_app) as client:
        started = await client.get("/logga-in/idp")
        state = parse_qs(urlsplit(started.headers["location"]).query)["state"][0]
        for params in ({}, {"code": "x" * 5000, "state": state}, {"code": "a\x00b", "state": state},
                       {"code": "%FF%FE", "state": "\x00"}, {"error": "access_denied", "state": state},
                       {"code": ["a", "b"], "state": [state, state]}, {"state": state}):
            response = await client.get("/logga-in/idp/klar", params=params)
            assert response.status_code == 400, (params, response.status_code)
            assert not await signed_in(client)
    assert await db.fetchval("SELECT count(*) FROM staff_user") == staff_before
