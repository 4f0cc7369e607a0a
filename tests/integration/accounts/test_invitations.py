"""Who may invite whom: decided by the accounts service, for the web and the command line alike."""

import pytest

from backend import db
from backend.accounts import service
from backend.accounts.service import AccountError, Actor
from backend.accounts.tables import Role
from tests.support.factories import delete_world, make_world


@pytest.fixture
async def world(database):
    world = await make_world()
    yield world
    await delete_world(world)


def person(world, role: str) -> Actor:
    return Actor(id=world.staff[role], organisation=world.organisation, name=f"Test {role}", role=Role(role),
                 care_unit=None)


async def test_a_coordinator_invites_staff_but_not_admins_or_coordinators(world):
    coordinator = person(world, "coordinator")
    _, invitation_id = await service.create_invitation(
        organisation_id=world.organisation, name="Nils", role="technician", invited_by=coordinator)
    assert await db.fetchval("SELECT created_by FROM invitation WHERE id = $1", invitation_id) == coordinator.id
    for role in ("admin", "coordinator"):
        with pytest.raises(AccountError) as refused:
            await service.create_invitation(organisation_id=world.organisation, name="Ada", role=role,
                                            invited_by=coordinator)
        assert refused.value.field == "role"
    with pytest.raises(AccountError) as refused:
        await service.create_invitation(organisation_id=world.organisation, name="", role="",
                                        staff_user_id=world.staff["admin"], invited_by=coordinator)
    assert refused.value.field == "staff_user"


async def test_an_admin_invites_every_role_and_the_command_line_anyone(world):
    for role in Role:
        await service.create_invitation(organisation_id=world.organisation, name="Ada", role=role.value,
                                        care_unit_id=world.care_unit, invited_by=person(world, "admin"))
    await service.create_invitation(organisation_id=world.organisation, name="", role="",
                                    staff_user_id=world.staff["admin"])


async def test_anyone_may_invite_themselves_onto_a_new_device_and_no_one_else(world):
    technician = person(world, "technician")
    _, invitation_id = await service.invite_own_device(technician)
    row = await db.fetchrow("SELECT staff_user, created_by, expires_at - created_at AS valid FROM invitation "
                            "WHERE id = $1", invitation_id)
    assert row["staff_user"] == row["created_by"] == technician.id and row["valid"].total_seconds() == 3600
    with pytest.raises(AccountError):
        await service.create_invitation(organisation_id=world.organisation, name="Nils", role="technician",
                                        invited_by=technician)
