"""Settings come from the environment, and bad values are refused in one line."""

import pytest

from backend.settings import ConfigError, Settings


def test_production_requires_a_secret_key():
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        Settings.from_env({})


def test_development_works_without_configuration():
    settings = Settings.from_env({"RUNDA_DEV": "1"})
    assert settings.development
    assert settings.database_url is None
    assert settings.public_origin == "http://localhost:8000"
    assert settings.rp_id == "localhost"
    assert not settings.secure_cookies
    assert settings.listens_on_loopback


def test_production_origin_gives_rp_id_and_secure_cookies():
    settings = Settings.from_env(
        {"SECRET_KEY": "x" * 40, "PUBLIC_ORIGIN": "https://runda.regionvastmanland.se/", "PORT": "9000"}
    )
    assert settings.public_origin == "https://runda.regionvastmanland.se"
    assert settings.rp_id == "runda.regionvastmanland.se"
    assert settings.secure_cookies
    assert settings.port == 9000
    assert settings.host == "0.0.0.0"


@pytest.mark.parametrize(
    "env, message",
    [
        ({"RUNDA_DEV": "1", "PORT": "eighty"}, "PORT must be a number"),
        ({"RUNDA_DEV": "1", "PORT": "70000"}, "between 1 and 65535"),
        ({"SECRET_KEY": "short"}, "at least 32"),
        ({"RUNDA_DEV": "1", "PUBLIC_ORIGIN": "runda.example.se"}, "PUBLIC_ORIGIN"),
        ({"RUNDA_DEV": "1", "PUBLIC_ORIGIN": "http://runda.example.se"}, "https"),
        ({"RUNDA_DEV": "1", "FITTING_MIN_NOTICE_HOURS": "a day"}, "FITTING_MIN_NOTICE_HOURS must be a whole number"),
        ({"RUNDA_DEV": "1", "FITTING_MIN_NOTICE_HOURS": "-1"}, "FITTING_MIN_NOTICE_HOURS must be between"),
        ({"RUNDA_DEV": "1", "FITTING_HORIZON_DAYS": "0"}, "FITTING_HORIZON_DAYS must be between"),
    ],
)
def test_bad_settings_are_refused_with_a_clear_message(env, message):
    with pytest.raises(ConfigError, match=message):
        Settings.from_env(env)


def test_settings_are_frozen():
    settings = Settings.from_env({"RUNDA_DEV": "1"})
    with pytest.raises(AttributeError):
        settings.port = 1  # type: ignore[misc]


def test_fitting_notice_and_horizon_have_defaults_and_can_be_set():
    defaults = Settings.from_env({"RUNDA_DEV": "1"})
    assert (defaults.fitting_min_notice_hours, defaults.fitting_horizon_days) == (24, 90)
    custom = Settings.from_env({"RUNDA_DEV": "1", "FITTING_MIN_NOTICE_HOURS": "48", "FITTING_HORIZON_DAYS": "120"})
    assert (custom.fitting_min_notice_hours, custom.fitting_horizon_days) == (48, 120)
