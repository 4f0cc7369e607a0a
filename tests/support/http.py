"""Signing in over HTTP in tests, the way a browser does, with a software passkey."""

from __future__ import annotations

import secrets

import httpx
from litestar import Litestar

from backend.accounts import service
from backend.auth import CSRF_COOKIE
from tests.support.authenticator import SoftAuthenticator

BASE_URL = "http://localhost:8000"


def new_client(app: Litestar, client_host: str | None = None) -> httpx.AsyncClient:
    """A browser of its own: own cookies, and its own loopback address so the sign-in
    rate limit (per address) of one test does not spill into the next."""
    client_host = client_host or f"127.{secrets.randbelow(250)}.{secrets.randbelow(250)}.{secrets.randbelow(250) + 1}"
    transport = httpx.ASGITransport(app=app, client=(client_host, 50000))
    return httpx.AsyncClient(transport=transport, base_url=BASE_URL, headers={"accept": "text/html"})


async def csrf(client: httpx.AsyncClient) -> str:
    """The CSRF token for this client; a GET sets the cookie when it is missing."""
    if CSRF_COOKIE not in client.cookies:
        await client.get("/logga-in")
    return client.cookies[CSRF_COOKIE]


async def post_json(client: httpx.AsyncClient, url: str, body: dict | None = None) -> httpx.Response:
    return await client.post(url, json=body or {}, headers={"x-csrftoken": await csrf(client)})


async def post_form(client: httpx.AsyncClient, url: str, data: dict | None = None) -> httpx.Response:
    return await client.post(url, data={**(data or {}), "_csrf_token": await csrf(client)})


async def register_via_invitation(client: httpx.AsyncClient, token: str,
                                  authenticator: SoftAuthenticator | None = None) -> SoftAuthenticator:
    authenticator = authenticator or SoftAuthenticator()
    page = await client.get(f"/inbjudan/{token}")
    assert page.status_code == 200, page.text
    options = await post_json(client, f"/inbjudan/{token}/alternativ")
    assert options.status_code == 201, options.text
    done = await post_json(client, f"/inbjudan/{token}/registrera", authenticator.register(options.json()))
    assert done.status_code == 201, done.text
    return authenticator


async def sign_in_with(client: httpx.AsyncClient, authenticator: SoftAuthenticator) -> httpx.Response:
    options = await post_json(client, "/logga-in/alternativ")
    return await post_json(client, "/logga-in/verifiera", authenticator.sign_in(options.json()))


async def signed_in_client(app: Litestar, organisation: int, staff_user_id: int) -> httpx.AsyncClient:
    """A client signed in as an existing person, through a recovery invitation."""
    token, _ = await service.create_invitation(
        organisation_id=organisation, name="", role="technician", staff_user_id=staff_user_id
    )
    client = new_client(app)
    await register_via_invitation(client, token)
    return client
