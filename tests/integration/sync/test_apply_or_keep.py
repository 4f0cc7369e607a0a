"""sync.apply_or_keep decides, with the receipt and in one transaction, whether a keyed write is
applied or kept: whatever the route renders afterwards, nothing the technician sent is lost."""

from __future__ import annotations

import uuid

import pytest

from backend import db
from backend.photos import clean_photo
from backend.sync import service as sync
from backend.visits import service as visits
from backend.workorders.service import VersionConflict, WorkOrderError
from tests.integration.workorders.conftest import actor, world  # noqa: F401 (the fixture)
from tests.support.factories import jpeg_bytes


def delivery(path: str = "/besok/1/tid") -> sync.Delivery:
    return sync.Delivery(key=str(uuid.uuid4()), path=path, digest=b"d" * 32)


async def counts(order_id: int) -> tuple[int, int, int]:
    row = await db.fetchrow(
        "SELECT (SELECT count(*) FROM time_entry WHERE work_order = $1) AS times, "
        "(SELECT count(*) FROM write_receipt WHERE work_order = $1) AS receipts, "
        "(SELECT count(*) FROM sync_conflict WHERE work_order = $1) AS conflicts", order_id)
    return row["times"], row["receipts"], row["conflicts"]


async def test_an_applied_write_is_stored_with_its_receipt_and_replayed_for_the_same_key(world):
    tech, sent = actor(world), delivery()

    async def apply() -> str:
        await visits.add_time(tech, world.repair, 30)
        return "/klart"

    first = await sync.apply_or_keep(tech, sent, work_order_id=world.repair, fields={"minutes": "30"}, photo=None,
                                     base_version=None, apply=apply)
    again = await sync.apply_or_keep(tech, sent, work_order_id=world.repair, fields={"minutes": "30"}, photo=None,
                                     base_version=None, apply=apply)
    assert first == sync.Applied("/klart")
    assert isinstance(again, sync.Replayed) and again.receipt.location == "/klart"
    assert await counts(world.repair) == (1, 1, 0)


async def test_a_write_that_meets_a_moved_order_is_kept_in_full_and_what_it_did_is_undone(world):
    tech, sent = actor(world), delivery()

    async def apply() -> str:
        await visits.add_time(tech, world.repair, 30)  # written, then the order turns out to have moved on
        raise VersionConflict(None, None)

    kept = await sync.apply_or_keep(tech, sent, work_order_id=world.repair, fields={"minutes": "30"},
                                    photo=jpeg_bytes(), base_version=4, apply=apply)
    assert isinstance(kept, sync.Kept) and isinstance(kept.reason, VersionConflict)
    assert await counts(world.repair) == (0, 1, 1)
    conflict = await db.fetchrow("SELECT fields, photo, base_version, key::text FROM sync_conflict WHERE id = $1",
                                 kept.conflict_id)
    assert (conflict["base_version"], conflict["key"]) == (4, sent.key)
    assert bytes(conflict["photo"]) == (await clean_photo(jpeg_bytes())).content  # kept cleaned, as stored photos are
    again = await sync.apply_or_keep(tech, sent, work_order_id=world.repair, fields={"minutes": "30"},
                                     photo=jpeg_bytes(), base_version=4, apply=apply)
    assert isinstance(again, sync.Replayed) and again.receipt.status == 409
    assert await counts(world.repair) == (0, 1, 1)


async def test_any_other_refusal_writes_nothing_so_a_corrected_resend_runs_afresh(world):
    tech, sent = actor(world), delivery()

    async def refused() -> str:
        await visits.add_time(tech, world.repair, 30)
        raise WorkOrderError("Fel i formuläret.", "minutes")

    with pytest.raises(WorkOrderError):
        await sync.apply_or_keep(tech, sent, work_order_id=world.repair, fields={}, photo=None, base_version=None,
                                 apply=refused)
    assert await counts(world.repair) == (0, 0, 0)


async def test_a_key_sent_again_with_another_change_is_refused(world):
    tech, sent = actor(world), delivery()

    async def apply() -> str:
        return "/klart"

    await sync.apply_or_keep(tech, sent, work_order_id=world.repair, fields={}, photo=None, base_version=None,
                             apply=apply)
    with pytest.raises(sync.KeyReused):
        await sync.apply_or_keep(tech, sync.Delivery(sent.key, sent.path, b"e" * 32), work_order_id=world.repair,
                                 fields={}, photo=None, base_version=None, apply=apply)


async def test_without_a_key_a_moved_order_goes_up_to_the_page_and_nothing_is_kept(world):
    tech = actor(world)

    async def apply() -> str:
        raise VersionConflict(None, None)

    with pytest.raises(VersionConflict):
        await sync.apply_or_keep(tech, None, work_order_id=world.repair, fields={}, photo=None, base_version=None,
                                 apply=apply)
    assert await counts(world.repair) == (0, 0, 0)
