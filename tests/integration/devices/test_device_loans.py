"""Loans: lending a device and taking it back keep device.holder equal to the open loan's
patient; a condemned, out-of-use or lent device is not lent; the loans show names only to those
who may see the patient, and each read is logged."""

from __future__ import annotations

from datetime import date

import pytest

from backend import db
from backend.changes import service as changes
from backend.devices import loans
from backend.devices.loans import LoanError
from backend.devices.service import DeviceNotFound
from tests.integration.devices.conftest import actor
from tests.support.factories import add_patient, delete_world, make_world

TODAY = date(2026, 3, 10)


async def holder_matches_open_loan(organisation: int) -> bool:
    """The invariant: every device's holder is its open loan's patient (None without one)."""
    return not await db.fetchval(
        """
        SELECT count(*) FROM device d LEFT JOIN device_loan l ON l.device = d.id AND l.to_date IS NULL
        WHERE d.organisation = $1 AND d.holder IS DISTINCT FROM l.patient
        """, organisation)


async def state(device_id: int) -> tuple:
    row = await db.fetchrow("SELECT status, holder FROM device WHERE id = $1", device_id)
    return row["status"], row["holder"]


async def test_lending_and_returning_keep_the_holder_equal_to_the_open_loan(world):
    admin = actor(world)
    loan = await loans.lend(admin, world.depot, world.other_patient, date(2026, 3, 2), today=TODAY)
    assert await state(world.depot) == ("in_use", world.other_patient)
    assert (await loans.open_loan(world.depot))["id"] == loan
    assert await holder_matches_open_loan(world.organisation)

    await loans.end_loan(admin, world.depot, date(2026, 3, 9), "reconditioning", today=TODAY)
    assert await state(world.depot) == ("reconditioning", None)
    assert await loans.open_loan(world.depot) is None
    assert await holder_matches_open_loan(world.organisation)

    # Lent again from the day it came back, to someone else: two loans, one after the other.
    await loans.lend(admin, world.depot, world.patient, date(2026, 3, 9), today=TODAY)
    assert [(l["from_date"], l["to_date"]) for l in await loans.device_loans(admin, world.depot)] == [
        (date(2026, 3, 9), None), (date(2026, 3, 2), date(2026, 3, 9))]
    assert await holder_matches_open_loan(world.organisation)
    history = await changes.history(world.organisation, "device", world.depot)
    assert [c.fields.get("on_loan") for c in history] == [(False, True), (True, False), (False, True)]
    assert history[1].fields["status"] == ("in_use", "reconditioning")
    assert history[1].fields["loan_to"] == (None, "2026-03-09")


@pytest.mark.parametrize("status, message", [("condemned", "utdömt"), ("out_of_use", "ur bruk")])
async def test_a_condemned_or_out_of_use_device_is_not_lent(world, status, message):
    await db.execute("UPDATE device SET status = $2 WHERE id = $1", world.depot, status)
    with pytest.raises(LoanError, match=message):
        await loans.lend(actor(world), world.depot, world.patient, TODAY, today=TODAY)
    assert await state(world.depot) == (status, None)
    assert await db.fetchval("SELECT count(*) FROM device_loan WHERE device = $1", world.depot) == 0


async def test_a_lent_device_is_not_lent_again(world):
    with pytest.raises(LoanError, match="redan utlånat"):
        await loans.lend(actor(world), world.lent, world.other_patient, TODAY, today=TODAY)
    assert await state(world.lent) == ("in_use", world.patient)


async def test_a_loan_begins_neither_in_the_future_nor_before_the_last_one_ended(world):
    admin = actor(world)
    with pytest.raises(LoanError) as refused:
        await loans.lend(admin, world.depot, world.patient, date(2026, 3, 11), today=TODAY)
    assert refused.value.field == "from_date"
    await loans.end_loan(admin, world.lent, date(2026, 3, 5), "in_depot", today=TODAY)
    with pytest.raises(LoanError, match="2026-03-05") as refused:
        await loans.lend(admin, world.lent, world.other_patient, date(2026, 3, 4), today=TODAY)
    assert refused.value.field == "from_date"


async def test_a_device_is_lent_only_to_a_patient_the_actor_may_see(world):
    other = await make_world("Annan region")
    try:
        stranger = await add_patient(other)
        with pytest.raises(LoanError) as refused:
            await loans.lend(actor(world), world.depot, stranger, TODAY, today=TODAY)
        assert refused.value.field == "patient"
        # A prescriber sees only their own unit's patients.
        with pytest.raises(LoanError):
            await loans.lend(actor(world, "prescriber"), world.depot, world.other_patient, TODAY, today=TODAY)
        assert await state(world.depot) == ("in_depot", None)
    finally:
        await delete_world(other)


async def test_another_organisations_device_is_not_found(world):
    other = await make_world("Annan region")
    try:
        with pytest.raises(DeviceNotFound):
            await loans.lend(actor(other), world.depot, world.patient, TODAY, today=TODAY)
        with pytest.raises(DeviceNotFound):
            await loans.end_loan(actor(other), world.lent, TODAY, "in_depot", today=TODAY)
    finally:
        await delete_world(other)


async def test_a_return_is_dated_within_the_loan_and_goes_to_the_depot_or_reconditioning(world):
    admin = actor(world)
    for to_date, status, field in [(date(2023, 2, 28), "in_depot", "to_date"), (date(2026, 3, 11), "in_depot", "to_date"),
                                   (TODAY, "in_use", "return_status"), (TODAY, "", "return_status")]:
        with pytest.raises(LoanError) as refused:
            await loans.end_loan(admin, world.lent, to_date, status, today=TODAY)
        assert refused.value.field == field
    assert await state(world.lent) == ("in_use", world.patient)
    with pytest.raises(LoanError, match="inte utlånat"):
        await loans.end_loan(admin, world.depot, TODAY, "in_depot", today=TODAY)


async def test_a_condemned_device_stays_condemned_when_it_comes_back(world):
    await db.execute("UPDATE device SET status = 'condemned' WHERE id = $1", world.lent)
    await loans.end_loan(actor(world), world.lent, TODAY, "in_depot", today=TODAY)
    assert await state(world.lent) == ("condemned", None)


async def test_the_loans_name_a_patient_only_to_who_may_see_them_and_log_each_read(world):
    admin = actor(world)
    await loans.end_loan(admin, world.lent, date(2026, 3, 1), "in_depot", today=TODAY)
    await loans.lend(admin, world.lent, world.other_patient, date(2026, 3, 2), today=TODAY)
    seen = await loans.device_loans(admin, world.lent)
    assert [l["family_name"] for l in seen] == ["Ek", "Lindqvist"]
    prescriber = actor(world, "prescriber")  # of the first patient's unit, not the second's
    assert [l["family_name"] for l in await loans.device_loans(prescriber, world.lent)] == [None, "Lindqvist"]
    logged = await db.fetch("SELECT staff_user, patient FROM audit_log WHERE what = 'device_loans' "
                            "AND staff_user = ANY($1::int[])", [world.staff["admin"], world.staff["prescriber"]])
    assert sorted((r["staff_user"], r["patient"]) for r in logged) == sorted([
        (world.staff["admin"], world.patient), (world.staff["admin"], world.other_patient),
        (world.staff["prescriber"], world.patient)])
