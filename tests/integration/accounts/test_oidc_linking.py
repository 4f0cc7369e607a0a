"""Who an identity from the region's provider is in Runda (backend/accounts/idp.py): linking
people, never creating strangers, and the sign-in policy per role. The provider's part is tested
in test_oidc_tokens.py and tests/http/test_oidc_sign_in.py; here the identity is given."""

from __future__ import annotations

import secrets

import pytest

from backend import db
from backend.accounts import idp, service
from backend.accounts.idp import IdpRefused
from backend.accounts.oidc import Identity
from backend.accounts.service import AccountError, Actor, InvitationUnusable
from backend.accounts.tables import Role
from tests.support.factories import add_staff, delete_world, make_world

ISSUER = "https://idp.region.example"


@pytest.fixture
async def world(database):
    world = await make_world()
    yield world
    await delete_world(world)


def identity(hsa_id: str | None = None, *, subject: str | None = None, name: str = "Nils Ny",
             commission: str | None = None) -> Identity:
    return Identity(issuer=ISSUER, subject=subject or secrets.token_hex(8), hsa_id=hsa_id, name=name,
                    email=None, commission=commission, auth_time=None, amr=())


def hsa() -> str:
    return f"SE2321000016-{secrets.token_hex(4).upper()}"


async def kinds_since(mark: int) -> list[str]:
    return [r["kind"] for r in await db.fetch("SELECT kind FROM security_event WHERE id > $1 ORDER BY id", mark)]


async def mark() -> int:
    return await db.fetchval("SELECT coalesce(max(id), 0) FROM security_event")


async def test_a_registered_hsa_id_is_linked_once_and_then_the_subject_decides(world):
    person = await add_staff(world, "technician")
    hsa_id = hsa()
    await db.execute("UPDATE staff_user SET hsa_id = $2 WHERE id = $1", person, hsa_id)
    who = identity(hsa_id)
    actor = await idp.sign_in_with_identity(who)
    assert actor.id == person and actor.role is Role.technician
    assert await db.fetchval("SELECT staff_user FROM idp_link WHERE issuer = $1 AND subject = $2",
                             ISSUER, who.subject) == person
    # The same subject with another HSA-id in its claims: still the linked person.
    assert (await idp.sign_in_with_identity(identity(hsa(), subject=who.subject))).id == person


async def test_an_unknown_identity_is_refused_recorded_and_gets_no_account(world):
    before, staff_before = await mark(), await db.fetchval("SELECT count(*) FROM staff_user")
    with pytest.raises(IdpRefused) as refused:
        await idp.sign_in_with_identity(identity(hsa()))
    assert refused.value.unknown and refused.value.message.startswith("Du har inget konto i Runda – kontakta")
    assert await kinds_since(before) == ["oidc_unknown_identity"]
    assert await db.fetchval("SELECT count(*) FROM staff_user") == staff_before


async def test_an_hsa_id_registered_in_two_organisations_links_neither(world):
    other = await make_world("Andra regionen")
    try:
        hsa_id = hsa()
        for w in (world, other):
            person = await add_staff(w, "technician")
            await db.execute("UPDATE staff_user SET hsa_id = $2 WHERE id = $1", person, hsa_id)
        with pytest.raises(IdpRefused) as refused:
            await idp.sign_in_with_identity(identity(hsa_id))
        assert refused.value.unknown
    finally:
        await delete_world(other)


async def test_an_invitation_links_the_identity_to_a_new_person(world):
    token, invitation_id = await service.create_invitation(organisation_id=world.organisation, name="Pia Förskrivare",
                                                           role="prescriber", care_unit_id=world.care_unit)
    hsa_id = hsa()
    actor = await idp.sign_in_with_identity(identity(hsa_id), invitation_token=token)
    row = await db.fetchrow("SELECT name, role, care_unit, hsa_id FROM staff_user WHERE id = $1", actor.id)
    assert dict(row) == {"name": "Pia Förskrivare", "role": "prescriber", "care_unit": world.care_unit, "hsa_id": hsa_id}
    assert await db.fetchval("SELECT used_at FROM invitation WHERE id = $1", invitation_id) is not None
    with pytest.raises(InvitationUnusable):
        await idp.sign_in_with_identity(identity(hsa()), invitation_token=token)


async def test_a_recovery_invitation_links_an_existing_person_but_not_with_another_hsa_id(world):
    person = await add_staff(world, "technician")
    await db.execute("UPDATE staff_user SET hsa_id = $2 WHERE id = $1", person, "SE2321000016-OWN1")
    token, _ = await service.create_invitation(organisation_id=world.organisation, name="", role="technician",
                                               staff_user_id=person)
    before = await mark()
    with pytest.raises(IdpRefused) as refused:
        await idp.sign_in_with_identity(identity("SE2321000016-ELSE"), invitation_token=token)
    assert refused.value.kind == "oidc_hsa_mismatch" and await kinds_since(before) == ["oidc_hsa_mismatch"]
    assert not await db.fetchval("SELECT count(*) FROM idp_link WHERE staff_user = $1", person)
    actor = await idp.sign_in_with_identity(identity("SE2321000016-OWN1"), invitation_token=token)
    assert actor.id == person


async def test_an_identity_linked_to_someone_cannot_be_taken_by_another_invitation(world):
    first = await add_staff(world, "technician")
    hsa_id = hsa()
    await db.execute("UPDATE staff_user SET hsa_id = $2 WHERE id = $1", first, hsa_id)
    who = identity(hsa_id)
    await idp.sign_in_with_identity(who)
    token, _ = await service.create_invitation(organisation_id=world.organisation, name="Ny", role="admin")
    with pytest.raises(IdpRefused) as refused:
        await idp.sign_in_with_identity(who, invitation_token=token)
    assert refused.value.kind == "oidc_link_conflict"
    assert not await db.fetchval("SELECT count(*) FROM staff_user WHERE organisation = $1 AND name = 'Ny'",
                                 world.organisation)


async def test_a_deactivated_person_is_refused_even_when_linked(world):
    person = await add_staff(world, "technician")
    hsa_id = hsa()
    await db.execute("UPDATE staff_user SET hsa_id = $2 WHERE id = $1", person, hsa_id)
    who = identity(hsa_id)
    await idp.sign_in_with_identity(who)
    await db.execute("UPDATE staff_user SET active = false WHERE id = $1", person)
    with pytest.raises(IdpRefused) as refused:
        await idp.sign_in_with_identity(who)
    assert refused.value.kind == "oidc_inactive"


async def test_the_policy_decides_per_role(world):
    technician, coordinator = await add_staff(world, "technician"), await add_staff(world, "coordinator")
    ids = {}
    for person in (technician, coordinator):
        ids[person] = hsa()
        await db.execute("UPDATE staff_user SET hsa_id = $2 WHERE id = $1", person, ids[person])
    await db.execute("INSERT INTO sign_in_policy (organisation, role, methods) VALUES ($1, 'technician', 'passkey'), "
                     "($1, 'coordinator', 'idp')", world.organisation)
    with pytest.raises(IdpRefused) as refused:
        await idp.sign_in_with_identity(identity(ids[technician]))
    assert refused.value.kind == "oidc_policy"
    assert (await idp.sign_in_with_identity(identity(ids[coordinator]))).id == coordinator
    assert not await idp.may_sign_in_with(world.organisation, "coordinator", idp.PASSKEY, idp_configured=True)
    # Without a configured provider, passkeys hold for every role: nobody is locked out.
    assert await idp.may_sign_in_with(world.organisation, "coordinator", idp.PASSKEY, idp_configured=False)
    assert not await idp.may_sign_in_with(world.organisation, "technician", idp.IDP, idp_configured=False)


def admin_of(world, staff_id: int) -> Actor:
    return Actor(id=staff_id, organisation=world.organisation, name="Admin", role=Role.admin, care_unit=None)


async def test_an_admin_cannot_lock_admins_out(world):
    admin = admin_of(world, await add_staff(world, "admin"))
    choices = {role.value: "both" for role in Role}
    with pytest.raises(AccountError) as refused:
        await idp.set_policies(admin, {**choices, "admin": "idp"}, idp_configured=True)
    assert "en gång" in refused.value.message
    with pytest.raises(AccountError):
        await idp.set_policies(admin, {**choices, "coordinator": "idp"}, idp_configured=False)
    await idp.set_policies(admin, {**choices, "coordinator": "idp"}, idp_configured=True)
    assert await idp.policy_of(world.organisation, "coordinator") == "idp"
    coordinator = Actor(id=admin.id, organisation=world.organisation, name="K", role=Role.coordinator, care_unit=None)
    with pytest.raises(AccountError):
        await idp.set_policies(coordinator, choices, idp_configured=True)


async def test_auto_create_is_off_unless_asked_and_then_follows_the_admins_mapping(world):
    admin = admin_of(world, await add_staff(world, "admin"))
    commission = f"HMC Teknik {secrets.token_hex(3)}"
    await idp.add_role_mapping(admin, commission, "technician", None)
    with pytest.raises(AccountError):
        await idp.add_role_mapping(admin, "Ledningen", "admin", None)  # never an admin by claim
    who = identity(hsa(), commission=commission, name="Auto Matisk")
    with pytest.raises(IdpRefused):
        await idp.sign_in_with_identity(who)  # the setting is off
    actor = await idp.sign_in_with_identity(who, auto_create=True)
    assert actor.role is Role.technician and actor.name == "Auto Matisk" and actor.organisation == world.organisation
    with pytest.raises(IdpRefused):
        await idp.sign_in_with_identity(identity(hsa(), commission="Okänt uppdrag"), auto_create=True)
