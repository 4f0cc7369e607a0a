"""The staff register's rules: the list, changing a person, their HSA-id, deactivating and
reactivating, and that the organisation never locks itself out."""

import asyncio
import json
import time
from datetime import date, timedelta

import pytest

from backend import db
from backend.accounts import service
from backend.accounts.register import LAST_ADMIN, NOT_YOUR_OWN_ADMIN_ROLE, NOT_YOURSELF, PAGE_SIZE
from backend.accounts.service import AccountError, Actor, InvitationUnusable, StaffNotFound
from backend.accounts.tables import Role
from backend.changes import service as changes
from tests.support.authenticator import SoftAuthenticator
from tests.support.factories import add_device, add_staff, add_work_order, delete_world, make_world

ORIGIN = "http://localhost:8000"
RP_ID = "localhost"


@pytest.fixture
async def world(database):
    world = await make_world()
    yield world
    await delete_world(world)


def admin_of(world, name: str = "Test admin") -> Actor:
    return Actor(id=world.staff["admin"], organisation=world.organisation, name=name, role=Role.admin, care_unit=None)


async def update(world, staff_id: int, actor: Actor | None = None, **changed):
    person = await service.staff_person(world.organisation, staff_id)
    values = {"name": person["name"], "role": person["role"], "care_unit_id": person["care_unit"],
              "hsa_id_text": person["hsa_id"] or ""} | changed
    await service.update_person(world.organisation, staff_id, actor=actor or admin_of(world), **values)


async def history_of(world, staff_id: int):
    return await changes.history(world.organisation, "staff", staff_id)


async def session_holds(staff_id: int, signed_in_at: float) -> bool:
    return await service.load_actor(staff_id, signed_in_at, absolute_hours=12) is not None


# --- the list ---------------------------------------------------------------------------------


async def test_the_list_shows_role_unit_passkeys_and_last_sign_in_and_searches_by_name_and_hsa_id(world):
    await db.execute("UPDATE staff_user SET last_signed_in_at = now(), hsa_id = 'SE2321000016-7777' WHERE id = $1",
                     world.staff["prescriber"])
    await db.execute(
        "INSERT INTO passkey (staff_user, credential_id, public_key, sign_count, transports, aaguid, backed_up, "
        "nickname, created_at) VALUES ($1, 'a', 'k', 0, '{}', '', false, 'A', now()), "
        "($1, 'b', 'k', 0, '{}', '', false, 'B', now())", world.staff["prescriber"])
    people, more = await service.list_staff(world.organisation, status="all")
    assert not more and len(people) == len(world.staff)
    prescriber = next(p for p in people if p["id"] == world.staff["prescriber"])
    assert prescriber["role_label"] == "Förskrivare" and prescriber["care_unit_name"] == "Hemsjukvården Test"
    assert prescriber["passkeys"] == 2 and prescriber["last_signed_in_at"] is not None
    assert next(p for p in people if p["id"] == world.staff["admin"])["passkeys"] == 0

    found, _ = await service.list_staff(world.organisation, search="annan", status="all")
    assert {p["name"] for p in found} == {"Olle Annan", "Tina Annan"}
    found, _ = await service.list_staff(world.organisation, search="7777", status="all")
    assert [p["id"] for p in found] == [world.staff["prescriber"]]
    found, _ = await service.list_staff(world.organisation, search="%", status="all")
    assert found == []  # a wildcard is a character like any other


async def test_the_list_filters_by_role_and_by_active_or_inactive(world):
    await db.execute("UPDATE staff_user SET active = false WHERE id = $1", world.staff["other_technician"])
    technicians, _ = await service.list_staff(world.organisation, role="technician")
    assert [p["id"] for p in technicians] == [world.staff["technician"]]
    inactive, _ = await service.list_staff(world.organisation, status="inactive")
    assert [p["id"] for p in inactive] == [world.staff["other_technician"]]
    everyone, _ = await service.list_staff(world.organisation, role="technician", status="all")
    assert len(everyone) == 2


async def test_the_list_pages_by_name_and_says_when_more_follow(world):
    for n in range(PAGE_SIZE + 1):
        await add_staff(world, "technician", name=f"Sida {n:03d}")
    first, more = await service.list_staff(world.organisation, search="Sida")
    assert more and len(first) == PAGE_SIZE and first[0]["name"] == "Sida 000"
    last, more = await service.list_staff(world.organisation, search="Sida", page=2)
    assert not more and [p["name"] for p in last] == [f"Sida {PAGE_SIZE:03d}"]
    second, more = await service.list_staff(world.organisation, page=2)
    assert not more and len(second) == len(world.staff) + 1  # the world's people and 51 more, 50 a page
    assert not {p["id"] for p in first} & {p["id"] for p in last}


async def test_the_list_holds_only_the_organisations_own_staff(world):
    other = await make_world("Annan region")
    try:
        people, _ = await service.list_staff(world.organisation, status="all")
        assert {p["id"] for p in people} == set(world.staff.values())
        assert await service.staff_person(world.organisation, other.staff["technician"]) is None
        with pytest.raises(StaffNotFound):
            await service.set_active(world.organisation, other.staff["technician"], False, actor=admin_of(world))
        assert await db.fetchval("SELECT active FROM staff_user WHERE id = $1", other.staff["technician"])
    finally:
        await delete_world(other)


# --- changing a person ------------------------------------------------------------------------


async def test_a_change_of_role_and_unit_is_kept_in_the_history_with_who_made_it(world):
    technician = world.staff["technician"]
    await update(world, technician, actor=admin_of(world, "Åsa Admin"), role="prescriber",
                 care_unit_id=world.other_care_unit, name="Test  Förskrivare ")
    person = await service.staff_person(world.organisation, technician)
    assert person["role"] == "prescriber" and person["care_unit"] == world.other_care_unit
    assert person["name"] == "Test Förskrivare"
    [change] = await history_of(world, technician)
    assert change.action == "changed" and change.actor_name == "Åsa Admin"
    assert change.fields == {"name": ("Test technician", "Test Förskrivare"), "role": ("technician", "prescriber"),
                             "care_unit": (None, "Vårdcentralen Annan")}
    # Saving the same again records nothing.
    await update(world, technician)
    assert len(await history_of(world, technician)) == 1


async def test_only_a_prescriber_has_a_care_unit(world):
    prescriber = world.staff["prescriber"]
    with pytest.raises(AccountError) as refused:
        await update(world, world.staff["technician"], role="prescriber", care_unit_id=None)
    assert refused.value.field == "care_unit"
    await update(world, prescriber, role="consultant", care_unit_id=world.care_unit)
    assert (await service.staff_person(world.organisation, prescriber))["care_unit"] is None


async def test_a_care_unit_of_another_organisation_or_deactivated_is_refused_but_a_persons_own_stays(world):
    other = await make_world("Annan region")
    try:
        with pytest.raises(AccountError) as refused:
            await update(world, world.staff["technician"], role="prescriber", care_unit_id=other.care_unit)
        assert refused.value.field == "care_unit"
        await db.execute("UPDATE care_unit SET active = false WHERE id = $1", world.care_unit)
        with pytest.raises(AccountError):
            await update(world, world.staff["technician"], role="prescriber", care_unit_id=world.care_unit)
        await update(world, world.staff["prescriber"], name="Kvar på sin enhet")  # its unit is now inactive
        assert (await service.staff_person(world.organisation, world.staff["prescriber"]))["care_unit"] == world.care_unit
    finally:
        await delete_world(other)


async def test_several_wrong_fields_are_refused_together_and_nothing_is_written(world):
    technician = world.staff["technician"]
    with pytest.raises(AccountError) as refused:
        await update(world, technician, name=" ", role="pilot", hsa_id_text="12345")
    assert {field for field, _ in refused.value.errors} == {"name", "role", "hsa_id"}
    assert (await service.staff_person(world.organisation, technician))["name"] == "Test technician"
    assert await history_of(world, technician) == []


# --- the HSA-id ---------------------------------------------------------------------------------


@pytest.mark.parametrize("given, kept", [
    ("SE2321000016-1234", "SE2321000016-1234"),
    (" se2321000016-ab12 ", "SE2321000016-AB12"),
    ("SE 2321000016-1234", "SE2321000016-1234"),
    ("", None),
])
def test_an_hsa_id_of_the_right_shape_is_kept_in_capitals(given, kept):
    assert service_hsa_id(given) == kept


@pytest.mark.parametrize("given", [
    "2321000016-1234", "SE232100001-1234", "SE23210000161-1234", "SE2321000016", "SE2321000016-",
    "SE2321000016-" + "1" * 21, "SE2321000016-12_4", "SE2321000016-ÅÄÖ", "DK2321000016-1234",
])
def test_an_hsa_id_of_another_shape_is_refused_next_to_its_field(given):
    with pytest.raises(AccountError) as refused:
        service_hsa_id(given)
    assert refused.value.field == "hsa_id" and "SE2321000016-1234" in refused.value.message


def service_hsa_id(value: str):
    from backend.accounts.register import hsa_id

    return hsa_id(value)


async def test_an_hsa_id_is_unique_within_the_organisation_only(world):
    await update(world, world.staff["technician"], hsa_id_text="SE2321000016-0001")
    with pytest.raises(AccountError) as refused:
        await update(world, world.staff["consultant"], hsa_id_text="se2321000016-0001")
    assert refused.value.field == "hsa_id" and "Test technician" in refused.value.message
    other = await make_world("Annan region")
    try:
        await update(other, other.staff["technician"], actor=admin_of(other), hsa_id_text="SE2321000016-0001")
    finally:
        await delete_world(other)
    # Kept on a save that does not change it, and cleared with an empty field.
    await update(world, world.staff["technician"], name="Ny Tekniker")
    await update(world, world.staff["technician"], hsa_id_text="")
    assert (await service.staff_person(world.organisation, world.staff["technician"]))["hsa_id"] is None


# --- admins cannot lock the organisation out -----------------------------------------------------


async def test_an_admin_cannot_deactivate_themself_or_take_away_their_own_admin_role(world):
    me = admin_of(world)
    with pytest.raises(AccountError) as refused:
        await service.set_active(world.organisation, me.id, False, actor=me)
    assert refused.value.message == NOT_YOURSELF and refused.value.field == "active"
    with pytest.raises(AccountError) as refused:
        await update(world, me.id, role="coordinator")
    assert refused.value.message == NOT_YOUR_OWN_ADMIN_ROLE and refused.value.field == "role"
    assert (await service.staff_person(world.organisation, me.id))["role"] == "admin"
    assert await history_of(world, me.id) == []


async def test_the_organisation_keeps_an_active_admin(world):
    second = await add_staff(world, "admin", name="Andra Admin")
    first_admin, second_admin = admin_of(world), Actor(second, world.organisation, "Andra Admin", Role.admin, None)
    await update(world, second, actor=first_admin, role="coordinator")
    # The second admin's page was open from before: they are an admin no longer, and the one left stays.
    with pytest.raises(AccountError) as refused:
        await service.set_active(world.organisation, first_admin.id, False, actor=second_admin)
    assert refused.value.message == LAST_ADMIN
    with pytest.raises(AccountError) as refused:
        await update(world, first_admin.id, actor=second_admin, role="technician")
    assert refused.value.message == LAST_ADMIN


async def test_two_admins_deactivating_each_other_at_once_leave_one(world):
    second = await add_staff(world, "admin", name="Andra Admin")
    first_admin, second_admin = admin_of(world), Actor(second, world.organisation, "Andra Admin", Role.admin, None)
    outcomes = await asyncio.gather(
        service.set_active(world.organisation, second, False, actor=first_admin),
        service.set_active(world.organisation, first_admin.id, False, actor=second_admin),
        return_exceptions=True,
    )
    assert sum(isinstance(o, AccountError) for o in outcomes) == 1
    assert await db.fetchval("SELECT count(*) FROM staff_user WHERE organisation = $1 AND role = 'admin' AND active",
                             world.organisation) == 1


# --- deactivating and reactivating --------------------------------------------------------------


async def test_deactivating_ends_every_session_at_once_and_reactivating_does_not_bring_them_back(world):
    technician = world.staff["technician"]
    signed_in_at = time.time() - 60
    assert await session_holds(technician, signed_in_at)
    await service.set_active(world.organisation, technician, False, actor=admin_of(world))
    assert not await session_holds(technician, signed_in_at)
    await service.set_active(world.organisation, technician, True, actor=admin_of(world))
    assert not await session_holds(technician, signed_in_at)
    assert await session_holds(technician, time.time() + 1)  # a sign-in after the reactivation
    assert [c.action for c in await history_of(world, technician)] == ["reactivated", "deactivated"]
    assert (await history_of(world, technician))[1].fields == {"active": (True, False)}


async def test_a_deactivated_person_keeps_their_orders_and_history(world):
    technician = world.staff["technician"]
    order = await add_work_order(world, await add_device(world, holder=None), assignee=technician,
                                 planned=date.today())
    await service.set_active(world.organisation, technician, False, actor=admin_of(world))
    assert await db.fetchval("SELECT assignee FROM work_order WHERE id = $1", order) == technician
    assert (await service.staff_person(world.organisation, technician))["name"] == "Test technician"
    # A second click records nothing more.
    await service.set_active(world.organisation, technician, False, actor=admin_of(world))
    assert len(await history_of(world, technician)) == 1


async def test_a_deactivated_person_gets_no_link_for_a_new_passkey_until_reactivated(world):
    technician = world.staff["technician"]
    token, _ = await service.create_invitation(organisation_id=world.organisation, name="", role="",
                                               staff_user_id=technician, invited_by=admin_of(world))
    await service.set_active(world.organisation, technician, False, actor=admin_of(world))
    with pytest.raises(InvitationUnusable) as unusable:
        await service.open_invitation(token)  # the open link was revoked with the deactivation
    assert unusable.value.state == "revoked"
    for invited_by in (admin_of(world), None):  # the web and the command line alike
        with pytest.raises(AccountError) as refused:
            await service.create_invitation(organisation_id=world.organisation, name="", role="",
                                            staff_user_id=technician, invited_by=invited_by)
        assert refused.value.field == "staff_user" and "inaktiverad" in refused.value.message
    await service.set_active(world.organisation, technician, True, actor=admin_of(world))
    await service.create_invitation(organisation_id=world.organisation, name="", role="",
                                    staff_user_id=technician, invited_by=admin_of(world))


# --- sign-in and the person's beginning ----------------------------------------------------------


async def test_a_passkey_sign_in_records_when_and_a_new_person_starts_their_history_as_invited(world):
    admin = admin_of(world, "Åsa Admin")
    await db.execute("UPDATE staff_user SET name = 'Åsa Admin' WHERE id = $1", admin.id)
    token, _ = await service.create_invitation(organisation_id=world.organisation, name="Tove Tekniker",
                                               role="technician", invited_by=admin)
    invitation = await service.open_invitation(token)
    options, challenge = await service.registration_options(invitation, rp_id=RP_ID)
    authenticator = SoftAuthenticator()
    registered = await service.complete_registration(
        token=token, credential=authenticator.register(json.loads(options)), challenge=challenge, rp_id=RP_ID,
        origin=ORIGIN)
    [created] = await history_of(world, registered.id)
    assert created.action == "created" and created.actor_name == "Åsa Admin"
    assert created.fields["role"] == (None, "technician") and created.fields["name"] == (None, "Tove Tekniker")

    later = service.utcnow() + timedelta(minutes=5)
    options, challenge = service.authentication_options(rp_id=RP_ID)
    credential = authenticator.sign_in(json.loads(options), origin=ORIGIN, rp_id=RP_ID)
    await service.complete_authentication(credential=credential, challenge=challenge, rp_id=RP_ID, origin=ORIGIN,
                                          now=later)
    person = await service.staff_person(world.organisation, registered.id)
    assert person["last_signed_in_at"] == later
    [passkey] = await service.passkeys_of(registered.id)
    assert passkey["last_used_at"] == later
