"""A device's identity as a manufacturer knows it: manufacturing date and lot number kept by the
register (checked: not in the future, not before 1950, not after it went into service), and
`devices.service.identity`, which deviations and recalls read."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from backend import db
from backend.devices import register
from backend.devices import service as devices
from backend.devices.register import DeviceFields, DeviceRegisterError
from backend.workdays import today
from tests.integration.devices.conftest import actor


def fields(world, **overrides) -> DeviceFields:
    values = dict(article=world.article, serial_number="SN-9", in_service_date=date(2024, 5, 1),
                  manufacturing_date=date(2024, 2, 1), lot_number=" LOT-2024-07 ")
    return DeviceFields(**{**values, **overrides})


async def test_a_new_device_keeps_its_manufacturing_date_and_lot_and_identity_returns_them(world):
    new_id = await register.create_device(actor(world), "ID1", fields(world))
    found = await devices.identity(world.organisation, new_id)
    assert found["individnummer"] == "ID1" and found["serial_number"] == "SN-9"
    assert found["manufacturing_date"] == date(2024, 2, 1) and found["lot_number"] == "LOT-2024-07"
    assert found["article_id"] == world.article and found["manufacturer"] and found["article_number"]
    assert found["status"] == "in_depot" and found["holder"] is None
    assert set(found) == {"device_id", "individnummer", "serial_number", "udi", "lot_number", "manufacturing_date",
                          "article_id", "article_number", "article_name", "manufacturer", "category_name",
                          "status", "holder"}


async def test_identity_names_the_holder_and_nothing_of_another_organisation(world):
    found = await devices.identity(world.organisation, world.lent)
    assert found["holder"] == world.patient and found["manufacturing_date"] is None and found["lot_number"] == ""
    assert await devices.identity(world.organisation + 100_000, world.lent) is None


async def test_changing_the_identity_is_kept_in_the_history(world):
    new_id = await register.create_device(actor(world), "ID2", fields(world, manufacturing_date=None, lot_number=""))
    assert await register.update_device(actor(world), new_id, fields(world))
    [changed, _] = await register.history(world.organisation, new_id)
    assert changed.fields["lot_number"] == ("", "LOT-2024-07")
    assert changed.fields["manufacturing_date"][1].startswith("2024-02-01")


@pytest.mark.parametrize("made, message", [
    (today() + timedelta(days=1), "framtiden"),
    (date(1949, 12, 31), "1950"),
    (date(2024, 5, 2), "efter att hjälpmedlet togs i bruk"),
])
async def test_an_impossible_manufacturing_date_is_refused_and_nothing_is_written(world, made, message):
    before = await db.fetchval("SELECT count(*) FROM device WHERE organisation = $1", world.organisation)
    with pytest.raises(DeviceRegisterError) as refused:
        await register.create_device(actor(world), "ID3", fields(world, manufacturing_date=made))
    assert refused.value.field == "manufacturing_date" and message in refused.value.message
    assert await db.fetchval("SELECT count(*) FROM device WHERE organisation = $1", world.organisation) == before


async def test_a_too_long_lot_number_is_refused(world):
    with pytest.raises(DeviceRegisterError) as refused:
        await register.create_device(actor(world), "ID4", fields(world, lot_number="L" * 61))
    assert refused.value.field == "lot_number"
