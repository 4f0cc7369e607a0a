"""Who is told and how: the channel from the patient's preference, and the adapter from settings."""

from __future__ import annotations

import pytest

from backend.notices import channels
from backend.notices.channels import Route, route_for
from backend.settings import ConfigError, OutboundSettings

REACHABLE = dict(phone="070-111 22 33", email="astrid@example.se", has_address=True, protected=False)


@pytest.mark.parametrize("phone, expected", [
    ("070-111 22 33", "+46701112233"), ("0701112233", "+46701112233"), ("+46 70 111 22 33", "+46701112233"),
    ("0046701112233", "+46701112233"), ("021-10 00 00", None), ("", None), (None, None), ("070-111 22", None),
])
def test_only_a_swedish_mobile_number_takes_an_sms(phone, expected):
    assert channels.mobile_number(phone) == expected


@pytest.mark.parametrize("preference, channel", [("letter", "letter"), ("sms", "sms"), ("email", "email")])
def test_a_reachable_patient_is_told_as_they_prefer(preference, channel):
    assert route_for(preference=preference, **REACHABLE) == Route("patient", channel, False)


@pytest.mark.parametrize("preference, missing", [("sms", {"phone": "021-10 00 00"}), ("email", {"email": ""}),
                                                 ("letter", {"has_address": False})])
def test_a_patient_the_chosen_channel_cannot_reach_is_the_cost_bearers_by_a_person(preference, missing):
    route = route_for(preference=preference, **{**REACHABLE, **missing})
    assert (route.recipient, route.channel, route.manual) == ("cost_bearer", "phone", True)
    assert route.note


def test_a_patient_who_wants_no_notices_is_handled_through_the_cost_bearer():
    route = route_for(preference="none", **REACHABLE)
    assert (route.recipient, route.channel, route.manual) == ("cost_bearer", "phone", True)


def test_a_letter_to_a_protected_identity_goes_to_the_cost_bearer():
    route = route_for(preference="letter", **{**REACHABLE, "protected": True})
    assert (route.recipient, route.channel, route.manual) == ("cost_bearer", "letter", False)
    assert "Skyddade personuppgifter" in route.note


def test_an_sms_or_email_to_a_protected_identity_needs_no_address_and_goes_to_the_patient():
    for preference in ("sms", "email"):
        assert route_for(preference=preference, **{**REACHABLE, "protected": True}).recipient == "patient"


def test_by_default_every_message_goes_to_the_dev_outbox():
    chosen = channels.adapters(OutboundSettings.from_env({}))
    assert {a.transport for a in chosen.values()} == {"outbox"}


def test_configured_channels_use_smtp_and_the_sms_gateway():
    settings = OutboundSettings.from_env({"SMTP_HOST": "smtp.example.se", "SMTP_FROM": "hmc@example.se",
                                          "SMS_GATEWAY_URL": "https://sms.example.se/send", "SMS_GATEWAY_TOKEN": "t"})
    chosen = channels.adapters(settings)
    assert chosen["email"].transport == "smtp" and chosen["sms"].transport == "sms_gateway"


def test_in_development_nothing_leaves_the_machine_whatever_is_configured():
    settings = OutboundSettings.from_env({"RUNDA_DEV": "1", "SMTP_HOST": "smtp.example.se", "SMTP_FROM": "a@b.se",
                                          "SMS_GATEWAY_URL": "https://sms.example.se/send"})
    assert {a.transport for a in channels.adapters(settings).values()} == {"outbox"}


@pytest.mark.parametrize("env", [{"SMTP_HOST": "smtp.example.se"}, {"SMS_GATEWAY_URL": "http://sms.example.se/x"},
                                 {"SMS_GATEWAY_URL": "sms.example.se"}, {"SMTP_PORT": "0"}])
def test_bad_channel_settings_stop_the_start_with_one_line(env):
    with pytest.raises(ConfigError):
        OutboundSettings.from_env(env)


def test_the_password_and_token_never_show_in_the_settings_repr():
    settings = OutboundSettings.from_env({"SMTP_HOST": "h", "SMTP_FROM": "a@b.se", "SMTP_PASSWORD": "hemligt",
                                          "SMS_GATEWAY_URL": "https://x.se", "SMS_GATEWAY_TOKEN": "token123"})
    assert "hemligt" not in repr(settings) and "token123" not in repr(settings)
