"""A safety notice's rules: which units it names (a serial range compared by prefix and number, a
manufacturing-date range, lot numbers, only its articles), its orders made once however often or
however many at once ask, each unit's outcome from its order, and closing when all are settled."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

import pytest

from backend import db
from backend.recalls import service as recalls
from backend.recalls.selection import SerialRange, SerialRangeError, lot_list
from tests.integration.recalls.conftest import actor, notice
from tests.support.jobs import run_jobs


async def named(world, recall_id: int) -> set[str]:
    found = await recalls.notice(world.organisation, recall_id)
    return {u["individnummer"] for u in found["units"]}


# --- which units ------------------------------------------------------------------------------------


def test_a_serial_range_keeps_prefix_and_number_of_digits():
    serials = SerialRange.parse("RX-000100", "rx-000199")
    assert serials.contains("RX-000100") and serials.contains("rx-000150") and serials.contains(" RX-000199 ")
    assert not serials.contains("RX-000200") and not serials.contains("RX-0000150")
    assert not serials.contains("RY-000150") and not serials.contains("RX-00015A") and not serials.contains("")
    # Ends of different lengths: any length between them, by value.
    loose = SerialRange.parse("SN-95", "SN-1200")
    assert loose.contains("SN-95") and loose.contains("SN-400") and loose.contains("SN-1200")
    assert not loose.contains("SN-1201") and not loose.contains("SN-9")


@pytest.mark.parametrize("start, end, message", [
    ("RX-100", "RY-200", "börja likadant"), ("RX-200", "RX-100", "lägre"), ("RX-A", "RX-B", "nummer i slutet")])
def test_a_serial_range_that_is_no_range_is_refused(start, end, message):
    with pytest.raises(SerialRangeError) as refused:
        SerialRange.parse(start, end)
    assert message in str(refused.value)


def test_lot_numbers_are_read_one_per_line_or_comma_separated_without_repeats():
    assert lot_list("L1, l2;L3\n\n l1 ") == ("L1", "L2", "L3")


async def test_a_serial_range_names_exactly_the_units_of_its_articles_within_it(world):
    recall_id = await recalls.create_recall(actor(world), notice(world), date.today())
    assert await named(world, recall_id) == {"R000001", "R000002", "R000003"}


async def test_a_manufacturing_period_names_the_units_made_in_it_and_not_those_of_unknown_date(world):
    recall_id = await recalls.create_recall(actor(world), notice(
        world, serial_from="", serial_to="", made_from=date(2013, 1, 1), made_to=date(2013, 12, 31)), date.today())
    assert await named(world, recall_id) == {"R000001", "R000002", "R000005", "R000006"}


async def test_lot_numbers_name_their_units_in_any_case_and_criteria_combine(world):
    recall_id = await recalls.create_recall(actor(world), notice(
        world, serial_from="", serial_to="", lot_numbers=("l1",)), date.today())
    assert await named(world, recall_id) == {"R000001", "R000003"}
    both = await recalls.create_recall(actor(world), notice(world, lot_numbers=("L2",)), date.today())
    assert await named(world, both) == {"R000002"}
    articles = await recalls.create_recall(actor(world), notice(
        world, articles=(world.article, world.other_article), serial_from="", serial_to="", lot_numbers=("L1",)),
        date.today())
    assert await named(world, articles) == {"R000001", "R000003", "R000008"}


async def test_the_page_counts_units_by_placement_and_municipality(world):
    recall_id = await recalls.create_recall(actor(world), notice(world), date.today())
    found = await recalls.notice(world.organisation, recall_id)
    counts = found["counts"]
    assert counts["total"] == 3 and counts["placement"] == {"patient": 2, "depot": 1}
    assert ("Testkommun", 2) in counts["municipality"]
    assert counts["open"] == 3 and counts["without_order"] == 3 and not found["may_close"]
    # No patient data in what the page is given: ids of holders only, never a name or address.
    for unit in found["units"]:
        assert not {"given_name", "family_name", "street", "phone", "door_code"} & set(unit)


@pytest.mark.parametrize("overrides, fields", [
    (dict(title="", articles=(), deadline=None, action="x"), {"title", "articles", "deadline", "action"}),
    (dict(serial_from="", serial_to=""), {"serial_from"}),
    (dict(serial_to=""), {"serial_to"}),
    (dict(serial_from="RX-2", serial_to="RX-1"), {"serial_from"}),
    (dict(made_from=date(2014, 1, 1), made_to=date(2013, 1, 1)), {"made_to"}),
    (dict(made_from=date.today() + timedelta(days=1)), {"made_from"}),
    (dict(deadline=date.today() - timedelta(days=1)), {"deadline"}),
    (dict(articles=(2_000_000_000,)), {"articles"}),
    (dict(lot_numbers=("L" * 61,)), {"lot_numbers"}),
])
async def test_a_wrong_notice_is_refused_field_by_field_and_nothing_is_written(world, overrides, fields):
    before = await db.fetchval("SELECT count(*) FROM recall WHERE organisation = $1", world.organisation)
    with pytest.raises(recalls.RecallError) as refused:
        await recalls.create_recall(actor(world), notice(world, **overrides), date.today())
    assert {field for field, _ in refused.value.errors} == fields
    assert await db.fetchval("SELECT count(*) FROM recall WHERE organisation = $1", world.organisation) == before


# --- orders -----------------------------------------------------------------------------------------


async def orders_of(world, recall_id: int) -> list[dict]:
    rows = await db.fetch(
        "SELECT w.* FROM recall_device rd JOIN work_order w ON w.id = rd.work_order WHERE rd.recall = $1 "
        "ORDER BY w.device", recall_id)
    return [dict(r) for r in rows]


async def test_orders_are_made_once_per_unit_at_the_patient_or_the_hmc_due_by_the_deadline(world):
    recall_id = await recalls.create_recall(actor(world), notice(world, action="pickup"), date.today())
    assert (await recalls.create_orders(actor(world), recall_id)).made == 3
    orders = await orders_of(world, recall_id)
    assert {o["device"] for o in orders} == {world.units[n] for n in ("R000001", "R000002", "R000003")}
    assert all(o["type"] == "technical_review" and o["status"] == "new" for o in orders)
    assert all(o["finish_due"] == date.today() + timedelta(days=30) for o in orders)
    by_device = {o["device"]: o for o in orders}
    assert by_device[world.units["R000001"]]["patient"] == world.patient
    assert by_device[world.units["R000003"]]["patient"] is None
    assert by_device[world.units["R000001"]]["description"].startswith(
        "Hämtning och karantän enligt säkerhetsmeddelande FSN-2026-01")
    # Again: nothing new. A unit that comes to match later gets its own order then.
    assert (await recalls.create_orders(actor(world), recall_id)).made == 0
    await db.execute("UPDATE device SET serial_number = 'RX-000120' WHERE id = $1", world.units["R000007"])
    assert (await recalls.create_orders(actor(world), recall_id)).made == 1
    assert len(await orders_of(world, recall_id)) == 4


async def test_two_coordinators_making_the_orders_at_once_make_them_once(world):
    recall_id = await recalls.create_recall(actor(world), notice(world), date.today())
    made = await asyncio.gather(recalls.create_orders(actor(world), recall_id),
                                recalls.create_orders(actor(world, "admin"), recall_id))
    assert sorted(started.made for started in made) == [0, 3]
    assert len(await orders_of(world, recall_id)) == 3


async def test_the_database_holds_one_row_per_notice_and_unit(world):
    recall_id = await recalls.create_recall(actor(world), notice(world), date.today())
    await recalls.create_orders(actor(world), recall_id)
    with pytest.raises(Exception) as doubled:
        await db.execute("INSERT INTO recall_device (organisation, recall, device) VALUES ($1, $2, $3)",
                         world.organisation, recall_id, world.units["R000001"])
    assert "recall_device_recall_device_key" in str(doubled.value)


async def test_a_condemned_unit_gets_no_order_and_counts_as_settled(world):
    await db.execute("UPDATE device SET status = 'condemned' WHERE id = $1", world.units["R000003"])
    recall_id = await recalls.create_recall(actor(world), notice(world), date.today())
    assert (await recalls.create_orders(actor(world), recall_id)).made == 2
    found = await recalls.notice(world.organisation, recall_id)
    outcome = {u["individnummer"]: u["outcome"] for u in found["units"]}
    assert outcome["R000003"] == "condemned"
    assert found["counts"]["placement"]["out_of_use"] == 1


# --- progress and closing ---------------------------------------------------------------------------------


async def test_outcomes_follow_the_orders_and_the_notice_closes_when_all_are_settled(world):
    recall_id = await recalls.create_recall(actor(world), notice(world), date.today())
    await recalls.create_orders(actor(world), recall_id)
    orders = {o["device"]: o["id"] for o in await orders_of(world, recall_id)}
    await db.execute("UPDATE work_order SET status = 'completed', completed_at = now() WHERE id = $1",
                     orders[world.units["R000001"]])
    await db.execute("UPDATE work_order SET status = 'cancelled', cancelled_at = now(), "
                     "cancel_reason = 'Brukaren avliden' WHERE id = $1", orders[world.units["R000002"]])
    with pytest.raises(recalls.RecallError) as refused:
        await recalls.close(actor(world), recall_id, "")
    assert "1 hjälpmedel är inte klara" in refused.value.message
    await recalls.mark_not_found(actor(world), recall_id, world.units["R000003"], "Inte i förrådet")
    found = await recalls.notice(world.organisation, recall_id)
    outcome = {u["individnummer"]: u["outcome"] for u in found["units"]}
    assert outcome == {"R000001": "done", "R000002": "not_reached", "R000003": "not_found"}
    assert found["counts"]["settled"] == 3 and found["may_close"]
    await recalls.close(actor(world), recall_id, "Alla enheter hanterade.")
    closed = await recalls.notice(world.organisation, recall_id)
    assert closed["recall"]["closed_at"] is not None and not closed["may_close"]
    with pytest.raises(recalls.RecallError):
        await recalls.create_orders(actor(world), recall_id)
    with pytest.raises(recalls.RecallError):
        await recalls.close(actor(world), recall_id, "")


async def test_only_a_unit_the_notice_names_can_be_marked_not_found(world):
    recall_id = await recalls.create_recall(actor(world), notice(world), date.today())
    with pytest.raises(recalls.RecallError) as refused:
        await recalls.mark_not_found(actor(world), recall_id, world.units["R000004"], "")
    assert refused.value.field == "device"


async def test_another_organisations_notice_is_not_found(world):
    recall_id = await recalls.create_recall(actor(world), notice(world), date.today())
    with pytest.raises(recalls.RecallNotFound):
        await recalls.notice(world.organisation + 100_000, recall_id)


async def test_the_confirmation_lists_each_unit_with_identity_and_outcome_and_no_patient(world):
    recall_id = await recalls.create_recall(actor(world), notice(world), date.today())
    await recalls.create_orders(actor(world), recall_id)
    confirmation = await recalls.confirmation(world.organisation, recall_id)
    assert [u["individnummer"] for u in confirmation["units"]] == ["R000001", "R000002", "R000003"]
    first = confirmation["units"][0]
    assert first["serial_number"] == "RX-000100" and first["lot_number"] == "L1"
    assert first["manufacturing_date"] == date(2013, 1, 10) and first["outcome_label"] == "Pågår"
    assert "holder" not in first and "municipality" not in first


async def test_units_lacking_the_data_a_criterion_needs_are_shown_as_undecided_until_it_is_filled_in(world):
    recall_id = await recalls.create_recall(actor(world), notice(
        world, serial_from="", serial_to="", made_from=date(2013, 1, 1), made_to=date(2013, 12, 31),
        lot_numbers=("L2",)), date.today())
    await db.execute("UPDATE device SET lot_number = 'L9', manufacturing_date = NULL WHERE id = $1",
                     world.units["R000004"])  # no date, and its lot rules it out: not undecided
    found = await recalls.notice(world.organisation, recall_id)
    assert {u["individnummer"] for u in found["units"]} == {"R000002", "R000005", "R000006"}
    assert found["counts"]["undecided"] == 1 and [u["individnummer"] for u in found["undecided"]] == ["R000007"]
    await db.execute("UPDATE device SET lot_number = 'L2', manufacturing_date = '2013-03-01' WHERE id = $1",
                     world.units["R000007"])
    found = await recalls.notice(world.organisation, recall_id)
    assert found["counts"]["undecided"] == 0 and "R000007" in {u["individnummer"] for u in found["units"]}


async def test_a_notice_naming_more_units_than_a_request_makes_has_them_made_by_the_job_queue(world, monkeypatch):
    monkeypatch.setattr(recalls, "ORDERS_AT_ONCE", 2)
    recall_id = await recalls.create_recall(actor(world), notice(world), date.today())
    started = await recalls.create_orders(actor(world), recall_id)
    assert (started.made, started.queued) == (0, 3) and await orders_of(world, recall_id) == []
    progress = await recalls.orders_progress(world.organisation, recall_id)
    assert progress["running"] and (progress["done"], progress["total"], progress["percent"]) == (0, 3, 0)
    with pytest.raises(recalls.RecallError, match="i bakgrunden"):  # asked again meanwhile: nothing more queued
        await recalls.create_orders(actor(world, "admin"), recall_id)

    await run_jobs()
    assert len(await orders_of(world, recall_id)) == 3
    progress = await recalls.orders_progress(world.organisation, recall_id)
    assert not progress["running"] and (progress["done"], progress["percent"]) == (3, 100)
    assert (await recalls.create_orders(actor(world), recall_id)).made == 0


async def test_the_job_makes_its_orders_in_batches_and_goes_on_where_a_stopped_one_left_off(world):
    recall_id = await recalls.create_recall(actor(world), notice(world), date.today())
    await db.execute(
        "INSERT INTO recall_device (organisation, recall, device) SELECT $1, $2, unnest($3::int[])",
        world.organisation, recall_id, [world.units[n] for n in ("R000001", "R000002", "R000003")])
    await db.execute("UPDATE recall SET orders_queued_at = now() WHERE id = $1", recall_id)
    # A first batch made, as by a worker killed after it: its order stays and is not made again.
    first = await db.fetchrow("SELECT * FROM recall WHERE id = $1", recall_id)
    async with db.transaction():
        assert await recalls._order_batch({**dict(first), "articles": [world.article]}, None, 1) == 1
    assert await recalls.make_queued_orders(world.organisation, recall_id, None, batch_size=1) == 2
    orders = await orders_of(world, recall_id)
    assert len(orders) == 3 and len({o["device"] for o in orders}) == 3
    assert not (await recalls.orders_progress(world.organisation, recall_id))["running"]


async def test_a_stopped_orders_job_is_shown_and_the_orders_can_be_asked_for_again(world, monkeypatch):
    monkeypatch.setattr(recalls, "ORDERS_AT_ONCE", 2)
    recall_id = await recalls.create_recall(actor(world), notice(world), date.today())
    assert (await recalls.create_orders(actor(world), recall_id)).queued == 3
    # The job failed for good (its retries spent) before it made anything.
    job = await db.fetchval("SELECT orders_job FROM recall WHERE id = $1", recall_id)
    await db.execute("UPDATE procrastinate_jobs SET status = 'failed' WHERE id = $1", job)
    progress = await recalls.orders_progress(world.organisation, recall_id)
    assert progress["stopped"] and not progress["running"] and progress["done"] == 0
    page = await recalls.notice(world.organisation, recall_id)
    assert page["progress"]["stopped"]
    # Asked again, a new job makes them; nothing is made twice.
    again = await recalls.create_orders(actor(world), recall_id)
    assert again.queued == 3 and await db.fetchval("SELECT orders_job FROM recall WHERE id = $1", recall_id) != job
    await run_jobs()
    assert len(await orders_of(world, recall_id)) == 3
    assert not (await recalls.orders_progress(world.organisation, recall_id))["stopped"]
