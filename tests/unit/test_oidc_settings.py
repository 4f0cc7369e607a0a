"""The OpenID Connect settings are checked at start: a wrong one stops Runda with one clear line."""

import pytest

from backend.settings import ConfigError, OidcSettings, Settings

GOOD = {"OIDC_ISSUER": "https://idp.region.se/oidc/", "OIDC_CLIENT_ID": "runda", "OIDC_CLIENT_SECRET": "s3cret"}


def test_no_issuer_is_passkeys_only_and_the_defaults_are_safe():
    assert Settings.from_env({"RUNDA_DEV": "1"}).oidc is None
    config = OidcSettings.from_env(GOOD)
    assert config.issuer == "https://idp.region.se/oidc/" and config.scopes == ("openid", "profile", "email")
    assert config.auto_create is False and config.leeway_seconds == 60
    assert "s3cret" not in repr(config)


@pytest.mark.parametrize("env, says", [
    ({"OIDC_CLIENT_ID": "runda"}, "OIDC_ISSUER is not set"),
    ({**GOOD, "OIDC_ISSUER": "http://idp.region.se"}, "https"),
    ({**GOOD, "OIDC_ISSUER": "idp.region.se"}, "OIDC_ISSUER must look like"),
    ({**GOOD, "OIDC_CLIENT_ID": ""}, "OIDC_CLIENT_ID is not set"),
    ({**GOOD, "OIDC_CLIENT_SECRET": ""}, "OIDC_CLIENT_SECRET is not set"),
    ({**GOOD, "OIDC_SCOPES": "profile email"}, "must include openid"),
    ({**GOOD, "OIDC_LEEWAY_SECONDS": "3600"}, "OIDC_LEEWAY_SECONDS must be between"),
    ({**GOOD, "OIDC_CLAIM_HSA_ID": "hsa id; drop"}, "OIDC_CLAIM_HSA_ID must be a claim name"),
])
def test_a_wrong_setting_is_refused_with_one_line(env, says):
    with pytest.raises(ConfigError) as refused:
        OidcSettings.from_env(env)
    assert says in str(refused.value) and "\n" not in str(refused.value)


def test_a_loopback_provider_may_use_http():
    assert OidcSettings.from_env({**GOOD, "OIDC_ISSUER": "http://127.0.0.1:4000"}).issuer == "http://127.0.0.1:4000"
