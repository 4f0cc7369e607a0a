"""Care units and cost bearers: add, change, deactivate and reactivate with their history; an
inactive unit is not offered for new prescribers; deleting what history depends on is refused."""

import pytest

from backend import db
from backend.accounts import service as accounts
from backend.accounts.service import AccountError
from backend.changes import service as changes
from backend.organisations import service
from backend.organisations.service import RegisterError
from tests.support.factories import delete_world, make_world

ADMIN = dict(actor_id=None, actor_name="Åsa Admin")


@pytest.fixture
async def world(database):
    world = await make_world()
    yield world
    await delete_world(world)


async def test_a_care_unit_is_added_renamed_and_keeps_its_history(world):
    unit = await service.create_care_unit(world.organisation, name="  Hemrehab Sala ", phone="0224-100 00",
                                          cost_bearer_id=world.cost_bearer, **ADMIN)
    await service.update_care_unit(world.organisation, unit, name="Hemrehab Sala-Heby", phone="0224-100 00",
                                   cost_bearer_id=world.cost_bearer, **ADMIN)
    found = await service.care_unit(world.organisation, unit)
    assert found["name"] == "Hemrehab Sala-Heby" and found["active"]
    history = await changes.history(world.organisation, "care_unit", unit)
    assert [c.action for c in history] == ["changed", "created"]
    assert history[0].fields == {"name": ("Hemrehab Sala", "Hemrehab Sala-Heby")}
    assert history[1].fields["cost_bearer"][1].startswith("Testkommun (T")
    # Saving unchanged leaves no row.
    await service.update_care_unit(world.organisation, unit, name="Hemrehab Sala-Heby", phone="0224-100 00",
                                   cost_bearer_id=world.cost_bearer, **ADMIN)
    assert len(await changes.history(world.organisation, "care_unit", unit)) == 2


async def test_a_care_unit_needs_a_name_of_its_own_and_a_cost_bearer(world):
    with pytest.raises(RegisterError) as refused:
        await service.create_care_unit(world.organisation, name="", phone="inte ett nummer", cost_bearer_id=None,
                                       **ADMIN)
    assert {f for f, _ in refused.value.errors} == {"name", "phone", "cost_bearer"}
    with pytest.raises(RegisterError) as refused:
        await service.create_care_unit(world.organisation, name="hemsjukvården test", phone="",
                                       cost_bearer_id=world.cost_bearer, **ADMIN)
    assert refused.value.for_field("name") == "Det finns redan en vårdenhet som heter hemsjukvården test."
    other = await make_world("Annan region")
    try:  # another organisation's cost bearer is no choice
        with pytest.raises(RegisterError) as refused:
            await service.create_care_unit(world.organisation, name="Ny", phone="", cost_bearer_id=other.cost_bearer,
                                           **ADMIN)
        assert refused.value.field == "cost_bearer"
    finally:
        await delete_world(other)
    assert await db.fetchval("SELECT count(*) FROM care_unit WHERE organisation = $1", world.organisation) == 2


async def test_an_inactive_care_unit_is_not_offered_for_new_prescribers_but_keeps_its_own(world):
    await service.set_care_unit_active(world.organisation, world.other_care_unit, False, **ADMIN)
    assert [u["id"] for u in await service.care_units(world.organisation)] == [world.care_unit]
    with pytest.raises(AccountError):
        await accounts.create_invitation(organisation_id=world.organisation, name="Ny förskrivare", role="prescriber",
                                         care_unit_id=world.other_care_unit)
    # Its prescriber and its history stay.
    assert await db.fetchval("SELECT care_unit FROM staff_user WHERE id = $1",
                             world.staff["other_prescriber"]) == world.other_care_unit
    listed, _ = await service.list_care_units(world.organisation, status="inactive")
    assert [u["id"] for u in listed] == [world.other_care_unit]
    await service.set_care_unit_active(world.organisation, world.other_care_unit, True, **ADMIN)
    await service.set_care_unit_active(world.organisation, world.other_care_unit, True, **ADMIN)  # no-op
    history = await changes.history(world.organisation, "care_unit", world.other_care_unit)
    assert [(c.action, c.fields) for c in history] == [("reactivated", {"active": (False, True)}),
                                                       ("deactivated", {"active": (True, False)})]


async def test_deleting_a_care_unit_that_history_names_is_refused_and_a_new_one_can_go(world):
    with pytest.raises(RegisterError) as refused:
        await service.delete_care_unit(world.organisation, world.care_unit, **ADMIN)
    assert "Inaktivera den i stället" in refused.value.message
    assert await service.care_unit(world.organisation, world.care_unit) is not None
    assert await changes.history(world.organisation, "care_unit", world.care_unit) == []
    mistake = await service.create_care_unit(world.organisation, name="Felstavad enhet", phone="",
                                             cost_bearer_id=world.cost_bearer, **ADMIN)
    await service.delete_care_unit(world.organisation, mistake, **ADMIN)
    assert await service.care_unit(world.organisation, mistake) is None
    assert [c.action for c in await changes.history(world.organisation, "care_unit", mistake)] == ["deleted", "created"]


async def test_a_care_unit_of_another_organisation_is_not_found(world):
    other = await make_world("Annan region")
    try:
        for change in (service.delete_care_unit(other.organisation, world.care_unit, **ADMIN),
                       service.set_care_unit_active(other.organisation, world.care_unit, False, **ADMIN)):
            with pytest.raises(service.NotFound):
                await change
        assert await service.care_unit(other.organisation, world.care_unit) is None
    finally:
        await delete_world(other)


async def test_searching_and_paging_care_units(world):
    async with db.transaction():
        for n in range(service.PAGE_SIZE + 3):
            await service.create_care_unit(world.organisation, name=f"Vårdcentral {n:03d}", phone="",
                                           cost_bearer_id=world.cost_bearer, **ADMIN)
    first, more = await service.list_care_units(world.organisation, search="vårdcentral 0")
    assert len(first) == service.PAGE_SIZE and more
    second, more = await service.list_care_units(world.organisation, search="vårdcentral 0", page=2)
    assert [u["name"] for u in second] == ["Vårdcentral 050", "Vårdcentral 051", "Vårdcentral 052"] and not more
    # The search's own % and _ are taken literally; it also finds units by their cost bearer.
    assert (await service.list_care_units(world.organisation, search="%"))[0] == []
    by_bearer, _ = await service.list_care_units(world.organisation, search="testkommun")
    assert len(by_bearer) == service.PAGE_SIZE


async def test_a_cost_bearer_is_added_with_a_unique_code_and_deactivated_instead_of_deleted(world):
    bearer = await service.create_cost_bearer(world.organisation, name="Sala kommun", kind="municipality", code="1981",
                                              **ADMIN)
    with pytest.raises(RegisterError) as refused:
        await service.create_cost_bearer(world.organisation, name="Sala igen", kind="municipality", code="1981", **ADMIN)
    assert refused.value.for_field("code") == "Det finns redan en kostnadsbärare med koden 1981."
    with pytest.raises(RegisterError) as refused:
        await service.create_cost_bearer(world.organisation, name="", kind="county", code="1 2", **ADMIN)
    assert {f for f, _ in refused.value.errors} == {"name", "kind", "code"}
    await service.update_cost_bearer(world.organisation, bearer, name="Sala kommun", kind="region", code="R1981",
                                     **ADMIN)
    assert (await service.cost_bearer(world.organisation, bearer))["kind_label"] == "Region"
    # In use by the world's care units, patients and devices: refused.
    with pytest.raises(RegisterError):
        await service.delete_cost_bearer(world.organisation, world.cost_bearer, **ADMIN)
    await service.set_cost_bearer_active(world.organisation, world.cost_bearer, False, **ADMIN)
    # An inactive cost bearer is no choice for a new unit, but a unit that has it keeps it.
    with pytest.raises(RegisterError) as refused:
        await service.create_care_unit(world.organisation, name="Ny enhet", phone="",
                                       cost_bearer_id=world.cost_bearer, **ADMIN)
    assert refused.value.field == "cost_bearer"
    await service.update_care_unit(world.organisation, world.care_unit, name="Hemsjukvården Test", phone="021-10 00 00",
                                   cost_bearer_id=world.cost_bearer, **ADMIN)
    assert [b["id"] for b in await service.cost_bearer_choices(world.organisation)] == [bearer]
    assert {b["id"] for b in await service.cost_bearer_choices(world.organisation, world.cost_bearer)} == {
        bearer, world.cost_bearer}
    await service.delete_cost_bearer(world.organisation, bearer, **ADMIN)
    assert [c.action for c in await changes.history(world.organisation, "cost_bearer", bearer)] == [
        "deleted", "changed", "created"]
