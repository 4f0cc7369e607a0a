"""The OpenID Connect client for the region's identity provider: Authlib does the protocol.

Authorization code flow with PKCE (S256), `state` and `nonce`; the provider's discovery document
and keys (JWKS) are fetched by Authlib and kept in this process, the keys fetched again when a
token names a key id not seen before (the provider rotated its keys). The ID token's signature,
issuer, audience, expiry, issue time and nonce are checked by the library (joserfc underneath),
with the configured clock-skew leeway. Nothing here writes to the database: idp.py holds the
rules for who the identity is in Runda.

The in-process cache holds only the provider's public metadata and keys, which every process
fetches alike; the flow's secrets (state, nonce, code verifier) live in the server-side session.
"""

from __future__ import annotations

import logging
import secrets
import time
from dataclasses import dataclass
from typing import Any

import warnings

import httpx
from authlib.integrations.base_client import BaseApp, OAuthError
from authlib.integrations.base_client.async_app import AsyncOAuth2Mixin
from authlib.integrations.base_client.async_openid import AsyncOpenIDMixin

with warnings.catch_warnings():
    # Authlib 1.9 nudges towards its httpx2 client; the httpx one is the one Runda has.
    warnings.simplefilter("ignore")
    from authlib.integrations.httpx_client import AsyncOAuth2Client
from joserfc.errors import (
    BadSignatureError,
    ClaimError,
    ExpiredTokenError,
    InvalidKeyIdError,
    JoseError,
    MissingClaimError,
)

from backend.settings import OidcSettings

# Authlib tells of the code verifier at DEBUG; nothing of a sign-in belongs in the logs.
logging.getLogger("authlib").setLevel(logging.WARNING)

# How long a started sign-in may take at the provider (the login form, the card reader).
FLOW_SECONDS = 600
# The discovery document is fetched again after this long, so a changed provider is noticed.
METADATA_SECONDS = 3600


class OidcRefused(Exception):
    """A sign-in through the provider that did not go through.

    `kind` names it for the security event (fixed words, no claim values); `unreachable` says
    the provider did not answer, so the page offers passkeys instead."""

    def __init__(self, kind: str, *, unreachable: bool = False) -> None:
        super().__init__(kind)
        self.kind = kind
        self.unreachable = unreachable


@dataclass(frozen=True)
class Identity:
    """Who the provider vouches for, as the configured claims name them."""

    issuer: str
    subject: str
    hsa_id: str | None
    name: str | None
    email: str | None
    commission: str | None
    auth_time: int | None
    amr: tuple[str, ...]


class _ProviderApp(AsyncOAuth2Mixin, AsyncOpenIDMixin, BaseApp):
    """Authlib's OAuth 2 / OpenID app (as its Starlette integration builds it), without a framework:
    the flow's data is kept by our routes in Runda's own session."""

    client_cls = AsyncOAuth2Client


_apps: dict[tuple, _ProviderApp] = {}


def _app(config: OidcSettings) -> _ProviderApp:
    key = (config.issuer, config.client_id, config.client_secret, config.scopes, config.timeout_seconds)
    app = _apps.get(key)
    if app is None:
        app = _apps[key] = _ProviderApp(
            None,
            name="idp",
            client_id=config.client_id,
            client_secret=config.client_secret,
            server_metadata_url=f"{config.issuer.rstrip('/')}/.well-known/openid-configuration",
            client_kwargs={"scope": " ".join(config.scopes), "code_challenge_method": "S256",
                           "timeout": config.timeout_seconds,
                           "token_endpoint_auth_method": "client_secret_basic"},
        )
    return app


def forget_provider() -> None:
    """Drop what this process knows of any provider (its metadata and keys)."""
    _apps.clear()


async def _metadata(config: OidcSettings) -> dict:
    app = _app(config)
    loaded = app.server_metadata.get("_loaded_at")
    if loaded is not None and time.time() - loaded > METADATA_SECONDS:
        app.server_metadata.clear()
    try:
        metadata = await app.load_server_metadata()
    except (httpx.HTTPError, ValueError):
        app.server_metadata.clear()
        raise OidcRefused("oidc_unreachable", unreachable=True) from None
    if metadata.get("issuer") != config.issuer:
        # A discovery document for another issuer: not the provider Runda was registered with.
        app.server_metadata.clear()
        raise OidcRefused("oidc_wrong_issuer")
    return metadata


async def begin(config: OidcSettings, redirect_uri: str) -> tuple[str, dict]:
    """The provider's authorization URL to send the browser to, and the flow's data for the
    session (state, nonce, PKCE code verifier, when it started)."""
    await _metadata(config)
    app = _app(config)
    try:
        started = await app.create_authorization_url(
            redirect_uri, state=secrets.token_urlsafe(32), nonce=secrets.token_urlsafe(32),
            code_verifier=secrets.token_urlsafe(64),
        )
    except (httpx.HTTPError, RuntimeError):
        raise OidcRefused("oidc_unreachable", unreachable=True) from None
    flow = {"state": started["state"], "nonce": started["nonce"], "verifier": started["code_verifier"],
            "redirect_uri": redirect_uri, "started": time.time()}
    return started["url"], flow


async def finish(config: OidcSettings, flow: dict | None, params: dict[str, str], *,
                 leeway: int | None = None) -> Identity:
    """The identity from the provider's answer at the callback, or OidcRefused.

    `flow` is what begin() returned, taken out of the session (so a second use of the same
    answer finds none); `params` the callback's query."""
    if params.get("error"):
        # The person cancelled at the provider, or it refused them.
        raise OidcRefused("oidc_provider_error")
    state = params.get("state") or ""
    if not flow or not isinstance(flow.get("state"), str) or not secrets.compare_digest(
        flow["state"].encode(), state.encode()
    ):
        raise OidcRefused("oidc_state_mismatch")
    if time.time() - float(flow.get("started", 0)) > FLOW_SECONDS:
        raise OidcRefused("oidc_flow_expired")
    code = params.get("code") or ""
    if not code or len(code) > 2000:
        raise OidcRefused("oidc_no_code")
    token = await exchange_code(config, flow, code)
    return await identity_from_token(config, token, nonce=flow["nonce"], leeway=leeway)


async def exchange_code(config: OidcSettings, flow: dict, code: str) -> dict:
    """The token endpoint's answer for `code` (PKCE: with the flow's code verifier)."""
    await _metadata(config)
    try:
        return await _app(config).fetch_access_token(
            redirect_uri=flow["redirect_uri"], code=code, code_verifier=flow["verifier"],
        )
    except OAuthError:
        # invalid_grant: a code used before (replayed), expired, or not issued to Runda.
        raise OidcRefused("oidc_code_refused") from None
    except httpx.TransportError:
        raise OidcRefused("oidc_unreachable", unreachable=True) from None
    except (httpx.HTTPError, ValueError):
        raise OidcRefused("oidc_code_refused") from None


async def identity_from_token(config: OidcSettings, token: dict, *, nonce: str,
                              leeway: int | None = None) -> Identity:
    """Check the ID token in a token response with the provider's keys; its identity."""
    if not isinstance(token, dict) or not isinstance(token.get("id_token"), str):
        raise OidcRefused("oidc_no_id_token")
    await _metadata(config)
    app = _app(config)
    options = {
        "iss": {"essential": True, "value": config.issuer},
        "aud": {"essential": True, "value": config.client_id},
        "sub": {"essential": True},
    }
    try:
        # Authlib fetches the keys again, once, when the token's key id is not among them.
        claims = await app.parse_id_token(
            token, nonce, claims_options=options,
            leeway=config.leeway_seconds if leeway is None else leeway,
        )
    except httpx.TransportError:
        raise OidcRefused("oidc_unreachable", unreachable=True) from None
    except httpx.HTTPError:
        raise OidcRefused("oidc_keys_unavailable") from None
    except ExpiredTokenError:
        raise OidcRefused("oidc_token_expired") from None
    except (BadSignatureError, InvalidKeyIdError):
        raise OidcRefused("oidc_bad_signature") from None
    except MissingClaimError:
        raise OidcRefused("oidc_missing_claim") from None
    except ClaimError as exc:
        kind = {"iss": "oidc_wrong_issuer", "aud": "oidc_wrong_audience", "azp": "oidc_wrong_audience",
                "nonce": "oidc_nonce_mismatch", "iat": "oidc_token_not_yet_valid",
                "nbf": "oidc_token_not_yet_valid", "at_hash": "oidc_bad_signature"}.get(exc.claim, "oidc_bad_claim")
        raise OidcRefused(kind) from None
    except (JoseError, ValueError, KeyError, TypeError):
        raise OidcRefused("oidc_bad_token") from None
    if claims is None:
        raise OidcRefused("oidc_no_id_token")
    return Identity(
        issuer=config.issuer,
        subject=str(claims["sub"]),
        hsa_id=_text(claims.get(config.claim_hsa_id), 40),
        name=_text(claims.get(config.claim_name), 200),
        email=_text(claims.get(config.claim_email), 200),
        commission=_text(claims.get(config.claim_commission), 200),
        auth_time=claims.get("auth_time") if isinstance(claims.get("auth_time"), int) else None,
        amr=tuple(str(m) for m in claims.get("amr") or () if isinstance(m, str))[:8],
    )


def _text(value: Any, limit: int) -> str | None:
    if isinstance(value, list) and value:
        value = value[0]  # e.g. the first of several commissions
    if not isinstance(value, str):
        return None
    value = " ".join(value.split())
    if not value or len(value) > limit or any(ord(c) < 32 or ord(c) == 127 for c in value):
        return None
    return value


async def end_session_url(config: OidcSettings, post_logout_redirect_uri: str) -> str | None:
    """Where to send the browser to sign out at the provider too (RP-initiated logout), or None
    when the provider offers no end_session_endpoint or does not answer."""
    try:
        metadata = await _metadata(config)
    except OidcRefused:
        return None
    if not metadata.get("end_session_endpoint"):
        return None
    logout = await _app(config).create_logout_url(
        post_logout_redirect_uri=post_logout_redirect_uri, client_id=config.client_id,
    )
    return logout["url"]
