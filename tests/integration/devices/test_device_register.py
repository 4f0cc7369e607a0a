"""The device register's rules: creating and editing a device, its status, replacing its label
while it keeps its identity, and finding it by number, old label, serial number, UDI or article."""

from __future__ import annotations

from datetime import date

import pytest

from backend import db
from backend.changes import service as changes
from backend.devices import loans, register
from backend.devices import service as devices
from backend.devices.register import DeviceFields, DeviceFilter, DeviceRegisterError
from tests.integration.devices.conftest import actor
from tests.support.factories import add_device, delete_world, make_world

TODAY = date(2026, 3, 10)


def fields(world, **overrides) -> DeviceFields:
    values = dict(article=world.article, serial_number="SN-77", udi="(01)07350012345678(21)AB123",
                  owner=world.cost_bearer, in_service_date=date(2026, 3, 1), expected_end_of_life=None)
    return DeviceFields(**{**values, **overrides})


async def device(device_id: int) -> dict:
    return dict(await db.fetchrow("SELECT * FROM device WHERE id = $1", device_id))


# --- creating ------------------------------------------------------------------------------------


async def test_a_new_device_is_stored_normalised_with_its_lifetime_and_first_fu_from_its_category(world):
    new_id = await register.create_device(actor(world), " n 123 456 ", fields(world))
    created = await device(new_id)
    assert created["individnummer"] == "N123456"
    assert created["status"] == "in_depot" and created["holder"] is None
    assert created["udi"] == "(01)07350012345678(21)AB123"
    # Elrullstol: 5 years of expected life, FU every 365 days.
    assert created["expected_end_of_life"] == date(2031, 3, 1)
    assert created["next_fu_date"] == date(2027, 3, 1)
    [created_change] = await changes.history(world.organisation, "device", new_id)
    assert created_change.action == "created" and created_change.actor_name == "Test admin"
    assert created_change.fields["individnummer"] == (None, "N123456")
    assert created_change.fields["article"] == (None, "100200 Permobil M3 Corpus")
    assert created_change.fields["owner"] == (None, "Testkommun")


async def test_a_lifetime_from_the_29th_of_february_ends_on_the_28th():
    assert register.default_end_of_life(date(2024, 2, 29), 5) == date(2029, 2, 28)
    assert register.default_end_of_life(date(2024, 2, 29), 4) == date(2028, 2, 29)


async def test_a_given_end_of_life_is_kept_and_one_before_the_start_is_refused(world):
    new_id = await register.create_device(actor(world), "N1", fields(world, expected_end_of_life=date(2027, 1, 1),
                                                                      owner=None))
    assert (await device(new_id))["expected_end_of_life"] == date(2027, 1, 1)
    assert (await device(new_id))["owner"] is None
    with pytest.raises(DeviceRegisterError) as refused:
        await register.create_device(actor(world), "N2", fields(world, expected_end_of_life=date(2020, 1, 1)))
    assert refused.value.field == "expected_end_of_life"


async def test_every_wrong_field_of_a_new_device_is_refused_at_once_and_nothing_is_written(world):
    before = await db.fetchval("SELECT count(*) FROM device WHERE organisation = $1", world.organisation)
    with pytest.raises(DeviceRegisterError) as refused:
        await register.create_device(actor(world), "A-1", fields(world, article=world.spare_part, udi="åäö",
                                                                  serial_number="x" * 61, in_service_date=None),
                                     status="in_use")
    assert {field for field, _ in refused.value.errors} == {
        "individnummer", "status", "article", "udi", "serial_number", "in_service_date"}
    assert await db.fetchval("SELECT count(*) FROM device WHERE organisation = $1", world.organisation) == before


async def test_an_owner_or_article_of_another_organisation_is_refused(world):
    other = await make_world("Annan region")
    try:
        with pytest.raises(DeviceRegisterError) as refused:
            await register.create_device(actor(world), "N3", fields(world, owner=other.cost_bearer,
                                                                     article=other.article))
        assert {field for field, _ in refused.value.errors} == {"owner", "article"}
    finally:
        await delete_world(other)


@pytest.mark.parametrize("udi", ["(01)07350012345678(17)251231(21)SN-9", "+H123PROD1/$$0123", "0735001234567812"])
async def test_a_udi_as_printed_is_accepted(udi):
    assert register.check_udi(f"  {udi} ") == udi


@pytest.mark.parametrize("udi", ["12345", "(01)0735 åäö", "x" * 121, "rad\nrad"])
async def test_a_udi_that_cannot_be_one_is_refused(udi):
    with pytest.raises(DeviceRegisterError):
        register.check_udi(udi)


async def test_an_individnummer_in_use_is_refused(world):
    with pytest.raises(DeviceRegisterError) as refused:
        await register.create_device(actor(world), "l000001", fields(world))
    assert refused.value.field == "individnummer" and "L000001" in refused.value.message


# --- editing and status ----------------------------------------------------------------------------


async def test_editing_records_each_changed_field_by_name_and_an_unchanged_save_records_nothing(world):
    admin = actor(world)
    original = await device(world.depot)
    kept = fields(world, serial_number=original["serial_number"], udi="", owner=world.cost_bearer,
                  in_service_date=original["in_service_date"],
                  expected_end_of_life=original["expected_end_of_life"])
    assert not await register.update_device(admin, world.depot, kept)
    assert await changes.history(world.organisation, "device", world.depot) == []

    assert await register.update_device(admin, world.depot, fields(world, article=world.lift, owner=None,
                                                                   serial_number="NY-1", udi=""))
    changed = await device(world.depot)
    assert (changed["article"], changed["owner"], changed["serial_number"]) == (world.lift, None, "NY-1")
    # The lift's 8 years of expected life, from the new in-service date.
    assert changed["expected_end_of_life"] == date(2034, 3, 1)
    [change] = await changes.history(world.organisation, "device", world.depot)
    assert change.fields["article"] == ("100200 Permobil M3 Corpus", "185671 Liko Viking M")
    assert change.fields["owner"] == ("Testkommun", "Hjälpmedelscentralen")
    assert change.fields["serial_number"][1] == "NY-1"


async def test_only_a_loan_puts_a_device_in_use_and_only_a_return_takes_it_back_to_the_depot(world):
    admin = actor(world)
    with pytest.raises(DeviceRegisterError, match="låna ut"):
        await register.change_status(admin, world.depot, "in_use")
    for status in ("in_depot", "reconditioning"):
        with pytest.raises(DeviceRegisterError, match="återlämningen"):
            await register.change_status(admin, world.lent, status)
    with pytest.raises(DeviceRegisterError):
        await register.change_status(admin, world.depot, "borta")
    assert await register.change_status(admin, world.lent, "in_repair")
    assert (await device(world.lent))["status"] == "in_repair"
    [change] = await changes.history(world.organisation, "device", world.lent)
    assert change.fields == {"status": ("in_use", "in_repair")}


async def test_a_device_is_condemned_rather_than_deleted_and_keeps_its_history(world):
    await register.condemn(actor(world), world.depot)
    assert (await device(world.depot))["status"] == "condemned"
    assert [c.action for c in await changes.history(world.organisation, "device", world.depot)] == ["changed"]


# --- replacing the label ---------------------------------------------------------------------------


async def test_a_replaced_label_keeps_the_device_and_its_loans_and_the_old_number_leads_to_it(world):
    admin = actor(world)
    assert await register.replace_label(admin, world.lent, " l 000 009") == "L000009"
    after = await device(world.lent)
    assert after["individnummer"] == "L000009" and after["holder"] == world.patient
    assert await loans.open_loan(world.lent) is not None
    assert await devices.current_individnummer(world.organisation, "l000001") == "L000009"
    assert await devices.current_individnummer(world.organisation, "X999") is None
    with pytest.raises(register.LabelMoved) as moved:
        await register.register_device(admin, "L000001")
    assert moved.value.current == "L000009"
    assert [label["individnummer"] for label in await register.old_labels(world.lent)] == ["L000001"]
    [change] = await changes.history(world.organisation, "device", world.lent)
    assert change.action == "replaced" and change.fields == {"individnummer": ("L000001", "L000009")}
    found, _ = await register.find_devices(admin, DeviceFilter(search="L000001"))
    assert [d["id"] for d in found] == [world.lent]


async def test_an_old_label_is_never_given_to_another_device(world):
    admin = actor(world)
    await register.replace_label(admin, world.lent, "L000009")
    with pytest.raises(DeviceRegisterError) as refused:
        await register.create_device(admin, "L000001", fields(world))
    assert refused.value.field == "individnummer"
    with pytest.raises(DeviceRegisterError) as refused:
        await register.replace_label(admin, world.depot, "L000001")
    assert refused.value.field == "new_individnummer"
    with pytest.raises(DeviceRegisterError):
        await register.replace_label(admin, world.depot, "L000009")
    assert (await device(world.depot))["individnummer"] == "D000001"


async def test_a_device_may_get_its_own_old_label_back(world):
    admin = actor(world)
    await register.replace_label(admin, world.depot, "D000002")
    await register.replace_label(admin, world.depot, "D000001")
    assert (await device(world.depot))["individnummer"] == "D000001"
    assert [label["individnummer"] for label in await register.old_labels(world.depot)] == ["D000002"]
    with pytest.raises(DeviceRegisterError, match="nuvarande"):
        await register.replace_label(admin, world.depot, "D000001")


# --- finding ----------------------------------------------------------------------------------------


async def found(world, role: str = "admin", page: int = 1, **wanted) -> list[str]:
    rows, _ = await register.find_devices(actor(world, role), DeviceFilter(**wanted), page)
    return [d["individnummer"] for d in rows]


async def test_the_list_finds_by_number_serial_number_udi_and_article(world):
    admin = actor(world)
    lift = await register.create_device(admin, "M000001", fields(world, article=world.lift, serial_number="VK-2024-17",
                                                                 udi="(01)07312345000019(21)77"))
    assert await found(world) == ["D000001", "L000001", "M000001"]
    assert await found(world, search="l0000") == ["L000001"]
    assert await found(world, search="vk-2024") == ["M000001"]
    assert await found(world, search="(01)0731234") == ["M000001"]
    assert await found(world, search="185671") == ["M000001"]
    assert await found(world, search="viking") == ["M000001"]
    assert await found(world, search="%") == []  # the user's % is a character, not a wildcard
    assert (await found(world, search="M000001")) == ["M000001"] and lift


async def test_the_list_filters_by_status_category_article_owner_and_placement(world):
    admin = actor(world)
    await register.create_device(admin, "M000001", fields(world, article=world.lift, owner=None))
    assert await found(world, status="in_use") == ["L000001"]
    assert await found(world, category=world.lift_category) == ["M000001"]
    assert await found(world, article=world.article) == ["D000001", "L000001"]
    assert await found(world, owner="hmc") == ["M000001"]
    assert await found(world, owner=str(world.cost_bearer)) == ["D000001", "L000001"]
    assert await found(world, placement="utlanad") == ["L000001"]
    assert await found(world, placement="forrad") == ["D000001", "M000001"]
    # Values that name no choice are ignored rather than refused.
    assert len(await found(world, status="nope", owner="9" * 30, placement="x")) == 3


async def test_the_list_pages_by_individnummer(world, monkeypatch):
    monkeypatch.setattr(register, "PAGE_SIZE", 1)
    first, more = await register.find_devices(actor(world), DeviceFilter(), 1)
    last, no_more = await register.find_devices(actor(world), DeviceFilter(), 2)
    assert [d["individnummer"] for d in first + last] == ["D000001", "L000001"] and more and not no_more


async def test_the_list_names_a_holder_only_to_who_may_see_them_and_logs_each_read(world):
    await add_device(world, holder=world.other_patient, individnummer="L000002")
    rows, _ = await register.find_devices(actor(world), DeviceFilter(placement="utlanad"))
    assert [(d["individnummer"], d["holder_family_name"]) for d in rows] == [("L000001", "Lindqvist"),
                                                                           ("L000002", "Ek")]
    logged = await db.fetch("SELECT patient, what FROM audit_log WHERE staff_user = $1", world.staff["admin"])
    assert sorted(r["patient"] for r in logged) == sorted([world.patient, world.other_patient])
    assert {r["what"] for r in logged} == {"device_register"}
    # A prescriber sees only their own unit's patients (the service follows patients.scope).
    rows, _ = await register.find_devices(actor(world, "prescriber"), DeviceFilter(placement="utlanad"))
    assert [(d["individnummer"], d["holder_family_name"]) for d in rows] == [("L000001", "Lindqvist"),
                                                                           ("L000002", None)]


async def test_an_article_no_longer_offered_is_kept_by_its_devices_but_not_chosen_anew(world):
    admin = actor(world)
    await db.execute("UPDATE article SET active = false WHERE id = $1", world.article)
    assert world.article not in [a["id"] for a in await register.article_choices(world.organisation)]
    assert world.article in [a["id"] for a in await register.article_choices(world.organisation, inactive=True)]
    with pytest.raises(DeviceRegisterError) as refused:
        await register.create_device(admin, "N9", fields(world))
    assert refused.value.field == "article"
    # Its devices keep it when their other fields change.
    assert await register.update_device(admin, world.depot, fields(world, serial_number="Kvar"))
    assert (await device(world.depot))["article"] == world.article
    # A device of another article cannot be moved onto it.
    await register.update_device(admin, world.lent, fields(world, article=world.lift))
    with pytest.raises(DeviceRegisterError):
        await register.update_device(admin, world.lent, fields(world))
