"""A real OpenID provider on loopback for the sign-in tests: panva's `oidc-provider` on Node
(tests/support/oidc/provider.mjs, installed by `make test`), started and stopped by the tests.

No mock of the protocol: Runda discovers it, sends the browser to its login form, exchanges the
code at its token endpoint and checks its signed ID tokens against its published keys. The tests
own the provider's keys, so they can rotate them, start an impostor with other keys, and sign a
forged token themselves.
"""

from __future__ import annotations

import json
import re
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from joserfc.jwk import RSAKey

from tests.support.server import free_port, stop_process

HERE = Path(__file__).resolve().parent / "oidc"
CLIENT_ID = "runda"
CLIENT_SECRET = "runda-test-client-secret-0123456789abcdef"

# The region's staff as the provider knows them: login name -> claims.
USERS = {
    "tekniker": {"hsa_id": "SE2321000016-T001", "name": "Tea Tekniker", "email": "tea@region.example",
                 "commission": "HMC Teknik"},
    "koordinator": {"hsa_id": "SE2321000016-K001", "name": "Kim Koordinator", "email": "kim@region.example",
                    "commission": "HMC Samordning"},
    "admin": {"hsa_id": "SE2321000016-A001", "name": "Ada Admin", "email": "ada@region.example",
              "commission": "HMC Ledning"},
    "okand": {"hsa_id": "SE2321000016-X999", "name": "Okänd Okändsson", "email": "okand@region.example",
              "commission": "Annan förvaltning"},
    "ny": {"hsa_id": "SE2321000016-N001", "name": "Nora Ny", "email": "nora@region.example",
           "commission": "HMC Teknik"},
}


def new_key(kid: str) -> dict:
    """A fresh RSA signing key (private JWK) under key id `kid`."""
    return RSAKey.generate_key(2048, {"kid": kid, "alg": "RS256", "use": "sig"}, private=True).as_dict(private=True)


def node_available() -> bool:
    return shutil.which("node") is not None and (HERE / "node_modules" / "oidc-provider").is_dir()


@dataclass
class OidcProvider:
    """One provider process. `start()` (again after `stop()`, e.g. with new keys) on the same port."""

    redirect_uris: list[str]
    post_logout_redirect_uris: list[str] = field(default_factory=list)
    keys: list[dict] = field(default_factory=lambda: [new_key("k1")])
    port: int = field(default_factory=free_port)
    issuer: str | None = None
    clock_offset_seconds: int = 0
    users: dict = field(default_factory=lambda: dict(USERS))
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def issuer_url(self) -> str:
        return self.issuer or self.url

    def env(self, **extra: str) -> dict[str, str]:
        """Runda's settings for this provider."""
        return {"OIDC_ISSUER": self.issuer_url, "OIDC_CLIENT_ID": CLIENT_ID, "OIDC_CLIENT_SECRET": CLIENT_SECRET,
                "OIDC_SCOPES": "openid profile email hsa", **extra}

    def start(self, timeout: float = 20) -> OidcProvider:
        config = {
            "port": self.port, "issuer": self.issuer, "keys": {"keys": self.keys}, "users": self.users,
            "clock_offset_seconds": self.clock_offset_seconds,
            "clients": [{
                "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "redirect_uris": self.redirect_uris,
                "post_logout_redirect_uris": self.post_logout_redirect_uris,
                "grant_types": ["authorization_code"], "response_types": ["code"],
                "token_endpoint_auth_method": "client_secret_basic", "require_auth_time": True,
            }],
        }
        handle, path = tempfile.mkstemp(prefix="runda-oidc-", suffix=".json")
        with os.fdopen(handle, "w") as f:
            json.dump(config, f)
        self.process = subprocess.Popen(
            ["node", str(HERE / "provider.mjs"), path], cwd=HERE,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        deadline = time.monotonic() + timeout
        try:
            while True:
                try:
                    if httpx.get(f"{self.url}/.well-known/openid-configuration", timeout=1).status_code == 200:
                        return self
                except httpx.TransportError:
                    pass
                if self.process.poll() is not None:
                    raise AssertionError(f"the OpenID provider exited: {self.process.stderr.read()}")
                if time.monotonic() > deadline:
                    self.stop()
                    raise AssertionError("the OpenID provider did not start")
                time.sleep(0.1)
        finally:
            os.unlink(path)  # read at start; the keys in it are private

    def stop(self) -> None:
        stop_process(self.process, 5)
        self.process = None

    def restart(self, **changes) -> OidcProvider:
        """Stop, change fields (keys, issuer, clock offset) and start again on the same port."""
        self.stop()
        for name, value in changes.items():
            setattr(self, name, value)
        return self.start()


_FORM = re.compile(r'<form[^>]*action="([^"]+)"')
_HIDDEN = re.compile(r'<input[^>]*type="hidden"[^>]*name="([^"]+)"[^>]*value="([^"]*)"')


async def sign_in_at_provider(authorization_url: str, login: str, *, back_to: str,
                              browser: httpx.AsyncClient | None = None) -> str:
    """Go through the provider's own login and consent forms as `login`, the way a browser does
    (following its redirects, posting its forms); the URL it finally sends the browser to,
    which starts with `back_to` (Runda's callback, with the code and state)."""
    own = browser is None
    browser = browser or httpx.AsyncClient(timeout=10)
    try:
        url = httpx.URL(authorization_url)
        response = await browser.get(url)
        for _ in range(12):
            if response.is_redirect:
                location = response.headers["location"]
                target = response.url.join(location)
                if str(target).startswith(back_to):
                    return str(target)
                response = await browser.get(target)
                continue
            form = _FORM.search(response.text)
            assert response.status_code == 200 and form, f"the provider answered {response.status_code}"
            data = {**dict(_HIDDEN.findall(response.text)), "login": login, "password": "test"}
            response = await browser.post(response.url.join(form.group(1)), data=data)
        raise AssertionError("the provider never sent the browser back")
    finally:
        if own:
            await browser.aclose()
