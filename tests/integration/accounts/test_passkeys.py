"""Passkey registration and sign-in rules, against the real webauthn verification."""

from datetime import timedelta

import pytest

from backend import db
from backend.accounts import service
from backend.accounts.service import AccountError, InvitationUnusable, SignInRefused
from tests.support.authenticator import SoftAuthenticator
from tests.support.factories import delete_world, make_world

ORIGIN = "http://localhost:8000"
RP_ID = "localhost"


@pytest.fixture
async def world(database):
    world = await make_world()
    yield world
    await delete_world(world)


async def register(world, authenticator=None, role="technician", name="Tove Tekniker", **kwargs):
    token, _ = await service.create_invitation(organisation_id=world.organisation, name=name, role=role, **kwargs)
    invitation = await service.open_invitation(token)
    options_json, challenge = await service.registration_options(invitation, rp_id=RP_ID)
    authenticator = authenticator or SoftAuthenticator()
    import json

    credential = authenticator.register(json.loads(options_json))
    actor = await service.complete_registration(
        token=token, credential=credential, challenge=challenge, rp_id=RP_ID, origin=ORIGIN
    )
    return actor, authenticator, token


async def sign_in(authenticator, *, origin=ORIGIN, rp_id=RP_ID, challenge=None, now=None, sign_count=None):
    import json

    options_json, fresh = service.authentication_options(rp_id=RP_ID)
    challenge = challenge or fresh
    credential = authenticator.sign_in(json.loads(options_json) | {"challenge": service.Challenge.to_session(challenge)["value"]},
                                       origin=origin, rp_id=rp_id, sign_count=sign_count)
    return await service.complete_authentication(
        credential=credential, challenge=challenge, rp_id=RP_ID, origin=ORIGIN, now=now
    ), challenge


async def test_an_invitation_registers_a_new_person_with_a_passkey(world):
    actor, _, _ = await register(world)
    assert actor.name == "Tove Tekniker" and actor.role.value == "technician"
    row = await db.fetchrow("SELECT * FROM passkey WHERE staff_user = $1", actor.id)
    assert row["sign_count"] == 0 and row["transports"] == ["internal"]
    assert row["nickname"] == "Passkey 1"
    assert len(await db.fetchval("SELECT user_handle FROM staff_user WHERE id = $1", actor.id)) == 32


async def test_an_invitation_works_once(world):
    _, _, token = await register(world)
    with pytest.raises(InvitationUnusable) as refused:
        await service.open_invitation(token)
    assert refused.value.state == "used"
    assert "redan använts" in refused.value.message


async def test_revoked_and_expired_invitations_are_refused(world):
    token, invitation_id = await service.create_invitation(
        organisation_id=world.organisation, name="Rut", role="technician")
    await service.revoke_invitation(world.organisation, invitation_id)
    with pytest.raises(InvitationUnusable, match="återkallats"):
        await service.open_invitation(token)

    token, _ = await service.create_invitation(organisation_id=world.organisation, name="Rut", role="technician")
    later = service.utcnow() + timedelta(hours=73)
    with pytest.raises(InvitationUnusable, match="gått ut"):
        await service.open_invitation(token, now=later)


async def test_unknown_invitation_is_refused():
    with pytest.raises(InvitationUnusable) as refused:
        await service.open_invitation("no-such-token")
    assert refused.value.state == "unknown"


async def test_invitation_input_is_validated(world):
    with pytest.raises(AccountError, match="namn"):
        await service.create_invitation(organisation_id=world.organisation, name="  ", role="technician")
    with pytest.raises(AccountError, match="roll"):
        await service.create_invitation(organisation_id=world.organisation, name="A", role="boss")
    with pytest.raises(AccountError, match="vårdenhet"):
        await service.create_invitation(organisation_id=world.organisation, name="A", role="prescriber")
    other = await make_world("Annan region")
    try:
        with pytest.raises(AccountError, match="Vårdenheten finns inte"):
            await service.create_invitation(organisation_id=world.organisation, name="A", role="prescriber",
                                            care_unit_id=other.care_unit)
    finally:
        await delete_world(other)


async def test_a_registered_passkey_signs_in_and_counts_up(world):
    actor, authenticator, _ = await register(world)
    signed_in, _ = await sign_in(authenticator)
    assert signed_in == actor
    assert await db.fetchval("SELECT sign_count FROM passkey WHERE staff_user = $1", actor.id) == 1


async def test_sign_in_without_a_challenge_in_the_session_is_refused(world):
    # Single use is enforced by the routes, which take the challenge out of the session
    # before verifying; see tests/http/test_sign_in.py for the replay over HTTP.
    with pytest.raises(SignInRefused, match="inte giltigt"):
        await service.complete_authentication(credential={}, challenge=None, rp_id=RP_ID, origin=ORIGIN)


async def test_an_expired_challenge_is_refused(world):
    _, authenticator, _ = await register(world)
    with pytest.raises(SignInRefused, match="för lång tid"):
        await sign_in(authenticator, now=service.utcnow() + timedelta(seconds=service.CHALLENGE_SECONDS + 1))


async def test_a_wrong_origin_is_refused(world):
    _, authenticator, _ = await register(world)
    with pytest.raises(SignInRefused):
        await sign_in(authenticator, origin="https://evil.example")


async def test_a_wrong_rp_id_is_refused(world):
    _, authenticator, _ = await register(world)
    with pytest.raises(SignInRefused):
        await sign_in(authenticator, rp_id="evil.example")


async def test_registration_with_a_wrong_origin_is_refused_and_leaves_the_invitation_usable(world):
    import json

    token, _ = await service.create_invitation(organisation_id=world.organisation, name="Vera", role="technician")
    invitation = await service.open_invitation(token)
    options_json, challenge = await service.registration_options(invitation, rp_id=RP_ID)
    credential = SoftAuthenticator().register(json.loads(options_json), origin="https://evil.example")
    with pytest.raises(SignInRefused):
        await service.complete_registration(token=token, credential=credential, challenge=challenge,
                                            rp_id=RP_ID, origin=ORIGIN)
    assert await service.open_invitation(token)  # still usable: nothing half-written
    assert await db.fetchval("SELECT count(*) FROM staff_user WHERE name = 'Vera'") == 0


async def test_a_sign_count_that_goes_backwards_is_refused_and_recorded(world):
    actor, authenticator, _ = await register(world)
    await sign_in(authenticator, sign_count=5)
    with pytest.raises(SignInRefused):
        await sign_in(authenticator, sign_count=3)
    event = await db.fetchrow("SELECT kind, detail FROM security_event WHERE staff_user = $1", actor.id)
    assert event["kind"] == "sign_count_regression"
    assert await db.fetchval("SELECT sign_count FROM passkey WHERE staff_user = $1", actor.id) == 5


async def test_recovery_adds_a_second_passkey_to_the_same_person(world):
    actor, _, _ = await register(world)
    second = SoftAuthenticator()
    again, _, _ = await register(world, authenticator=second, staff_user_id=actor.id)
    assert again.id == actor.id
    assert await db.fetchval("SELECT count(*) FROM passkey WHERE staff_user = $1", actor.id) == 2
    assert (await sign_in(second))[0].id == actor.id


async def test_the_last_passkey_cannot_be_removed_but_others_can(world):
    actor, _, _ = await register(world)
    await register(world, staff_user_id=actor.id)
    keys = await service.list_passkeys(actor)
    await service.remove_passkey(actor, keys[0]["id"])
    with pytest.raises(AccountError, match="enda passkey"):
        await service.remove_passkey(actor, keys[1]["id"])
    await service.rename_passkey(actor, keys[1]["id"], "  Jobbtelefonen ")
    assert (await service.list_passkeys(actor))[0]["nickname"] == "Jobbtelefonen"


async def test_someone_elses_passkey_cannot_be_touched(world):
    actor, _, _ = await register(world)
    other, _, _ = await register(world, name="Otto")
    key = (await service.list_passkeys(other))[0]
    with pytest.raises(AccountError):
        await service.rename_passkey(actor, key["id"], "Mitt nu")
    with pytest.raises(AccountError):
        await service.remove_passkey(actor, key["id"])


async def test_sign_out_everywhere_ends_every_earlier_session(world):
    actor, _, _ = await register(world)
    signed_in_at = service.utcnow().timestamp() - 10
    assert await service.load_actor(actor.id, signed_in_at, absolute_hours=24) == actor
    await service.sign_out_everywhere(actor)
    assert await service.load_actor(actor.id, signed_in_at, absolute_hours=24) is None


async def test_sessions_end_after_the_absolute_timeout(world):
    actor, _, _ = await register(world)
    long_ago = service.utcnow().timestamp() - 25 * 3600
    assert await service.load_actor(actor.id, long_ago, absolute_hours=24) is None
