"""The ID token checks, against a real OpenID provider: a real token passes; a token re-signed by
a wrong key, or by the provider's own key with a wrong audience, issuer, nonce or expiry, is
refused; a code is good once. The tests own the provider's keys, which is how they forge."""

from __future__ import annotations

import base64
import os
import time
from urllib.parse import parse_qs, urlsplit

import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey

from backend.accounts import oidc
from backend.accounts.oidc import OidcRefused
from backend.settings import OidcSettings
from tests.support.oidc_provider import USERS, OidcProvider, new_key, node_available, sign_in_at_provider

CALLBACK = "http://localhost:8000/logga-in/idp/klar"

if not node_available():
    if os.environ.get("CI") == "true":
        raise RuntimeError("node and tests/support/oidc/node_modules are required in CI (make oidc-provider)")
    pytest.skip("node or oidc-provider is not installed (make oidc-provider)", allow_module_level=True)


@pytest.fixture(scope="module")
def provider():
    started = OidcProvider(redirect_uris=[CALLBACK], keys=[new_key("k1")]).start()
    yield started
    started.stop()
    oidc.forget_provider()


@pytest.fixture(scope="module")
def config(provider) -> OidcSettings:
    return OidcSettings.from_env(provider.env())


@pytest.fixture(scope="module")
def key(provider) -> dict:
    """The provider's private signing key."""
    return provider.keys[0]


async def real_answer(config: OidcSettings, login: str = "tekniker") -> tuple[dict, dict, str]:
    """A real sign-in at the provider: the flow, the token endpoint's answer, and the code."""
    url, flow = await oidc.begin(config, CALLBACK)
    back = await sign_in_at_provider(url, login, back_to=CALLBACK)
    code = parse_qs(urlsplit(back).query)["code"][0]
    return flow, await oidc.exchange_code(config, flow, code), code


def reissued(token: dict, key: dict, **changes) -> dict:
    """The token answer with its ID token's claims changed and signed again by `key`."""
    claims = jwt.decode(token["id_token"], RSAKey.import_key(key)).claims  # verified: the tests own it
    claims.update(changes)
    signed = jwt.encode({"alg": "RS256", "kid": key["kid"]}, claims, RSAKey.import_key(key))
    return {**token, "id_token": signed}


async def refusal(config, token, nonce) -> str:
    with pytest.raises(OidcRefused) as refused:
        await oidc.identity_from_token(config, token, nonce=nonce)
    return refused.value.kind


async def test_a_real_token_gives_the_identity_with_the_configured_claims(config, key):
    flow, token, _ = await real_answer(config)
    identity = await oidc.identity_from_token(config, token, nonce=flow["nonce"])
    assert identity.subject == "tekniker" and identity.issuer == config.issuer
    assert identity.hsa_id == USERS["tekniker"]["hsa_id"] and identity.name == USERS["tekniker"]["name"]
    assert identity.commission == USERS["tekniker"]["commission"] and identity.auth_time
    # Resigned by the provider's own key, unchanged: still good (so the forgeries below fail
    # for what they change, not for being re-signed).
    again = await oidc.identity_from_token(config, reissued(token, key), nonce=flow["nonce"])
    assert again.subject == "tekniker"


async def test_a_token_signed_by_a_wrong_key_is_refused(config, key):
    flow, token, _ = await real_answer(config)
    forged = reissued(token, key)
    forger = new_key("k1")  # the provider's key id, another key
    claims = jwt.decode(forged["id_token"], RSAKey.import_key(key)).claims
    forged["id_token"] = jwt.encode({"alg": "RS256", "kid": "k1"}, claims, RSAKey.import_key(forger))
    assert await refusal(config, forged, flow["nonce"]) == "oidc_bad_signature"
    # Under a key id the provider never published (fetched again, still unknown): refused too.
    stranger = new_key("k-unknown")
    forged["id_token"] = jwt.encode({"alg": "RS256", "kid": "k-unknown"}, claims, RSAKey.import_key(stranger))
    assert await refusal(config, forged, flow["nonce"]) == "oidc_bad_signature"


async def test_a_wrong_audience_issuer_or_nonce_is_refused(config, key):
    flow, token, _ = await real_answer(config)
    assert await refusal(config, reissued(token, key, aud="another-client"), flow["nonce"]) == "oidc_wrong_audience"
    assert await refusal(config, reissued(token, key, iss="http://127.0.0.1:1/elsewhere"), flow["nonce"]) \
        == "oidc_wrong_issuer"
    assert await refusal(config, token, "another-nonce") == "oidc_nonce_mismatch"


async def test_expiry_and_issue_time_are_held_to_the_leeway(config, key):
    flow, token, _ = await real_answer(config)
    now = int(time.time())
    assert await refusal(config, reissued(token, key, exp=now - 61), flow["nonce"]) == "oidc_token_expired"
    assert await refusal(config, reissued(token, key, iat=now + 120), flow["nonce"]) == "oidc_token_not_yet_valid"
    # Within the leeway (60 s): accepted.
    skewed = reissued(token, key, exp=now - 30, iat=now - 3600)
    assert (await oidc.identity_from_token(config, skewed, nonce=flow["nonce"])).subject == "tekniker"


async def test_an_unsigned_token_is_refused(config):
    flow, token, _ = await real_answer(config)
    _, payload, _ = token["id_token"].split(".")
    none_header = base64.urlsafe_b64encode(b'{"alg":"none"}').rstrip(b"=").decode()
    assert await refusal(config, {**token, "id_token": f"{none_header}.{payload}."}, flow["nonce"]) in (
        "oidc_bad_token", "oidc_bad_signature")


async def test_a_code_is_good_once(config):
    flow, _, code = await real_answer(config)
    with pytest.raises(OidcRefused) as refused:
        await oidc.exchange_code(config, flow, code)
    assert refused.value.kind == "oidc_code_refused"


async def test_a_code_needs_the_flows_pkce_verifier(config):
    url, flow = await oidc.begin(config, CALLBACK)
    back = await sign_in_at_provider(url, "tekniker", back_to=CALLBACK)
    code = parse_qs(urlsplit(back).query)["code"][0]
    with pytest.raises(OidcRefused) as refused:
        await oidc.exchange_code(config, {**flow, "verifier": "x" * 64}, code)
    assert refused.value.kind == "oidc_code_refused"


async def test_the_flow_is_bound_to_its_state(config):
    url, flow = await oidc.begin(config, CALLBACK)
    query = parse_qs(urlsplit(url).query)
    assert query["state"] == [flow["state"]] and query["nonce"] == [flow["nonce"]]
    assert query["code_challenge_method"] == ["S256"] and "code_verifier" not in query
    for params, flow_given in (({"code": "c", "state": "other"}, flow), ({"code": "c", "state": flow["state"]}, None)):
        with pytest.raises(OidcRefused) as refused:
            await oidc.finish(config, flow_given, params)
        assert refused.value.kind == "oidc_state_mismatch"
    with pytest.raises(OidcRefused) as refused:
        await oidc.finish(config, {**flow, "started": time.time() - 3600}, {"code": "c", "state": flow["state"]})
    assert refused.value.kind == "oidc_flow_expired"
    with pytest.raises(OidcRefused) as refused:
        await oidc.finish(config, flow, {"error": "access_denied", "state": flow["state"]})
    assert refused.value.kind == "oidc_provider_error"
