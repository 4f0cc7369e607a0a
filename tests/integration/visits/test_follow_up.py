"""Follow-ups from the field: "Behöver uppföljning" creates the follow-up order with the recording,
exactly once however often the phone delivers it; a failed safety item still makes its repair."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date, timedelta
from decimal import Decimal

import pytest

from backend import db
from backend.maintenance.service import Answer
from backend.sync import service as sync
from backend.visits import service as visits
from backend.visits.actions import ACTIONS
from backend.workorders import service as workorders
from backend.workdays import today
from backend.workorders.service import WorkOrderError
from tests.integration.workorders.conftest import actor, world  # noqa: F401 (the fixture)
from tests.support.factories import add_work_order

PASSING = [Answer("frame", "pass"), Answer("brakes", "pass"), Answer("battery", "pass", Decimal("24.6"))]


async def version_of(order_id: int) -> int:
    return await db.fetchval("SELECT version FROM work_order WHERE id = $1", order_id)


async def follow_ups_of(order_id: int) -> list[dict]:
    return [dict(r) for r in await db.fetch(
        "SELECT id, number, type, status, channel, device, patient, description, assignee, start_due "
        "FROM work_order WHERE follow_up_of = $1 ORDER BY id", order_id)]


async def events_of(order_id: int) -> list[tuple[str, str]]:
    return [tuple(r) for r in await db.fetch(
        "SELECT kind, detail FROM work_order_event WHERE work_order = $1 ORDER BY id", order_id)]


async def test_an_fu_that_needs_following_up_is_completed_and_makes_a_repair_in_the_home(world):
    tech = actor(world)
    await visits.save_checklist(tech, world.fu, PASSING)
    await visits.complete_visit(tech, world.fu, await version_of(world.fu), "needs_follow_up",
                                follow_up="Armstödet glappar, byt fäste")
    fu = await db.fetchrow("SELECT number, status, outcome FROM work_order WHERE id = $1", world.fu)
    assert (fu["status"], fu["outcome"]) == ("completed", "needs_follow_up")
    assert await db.fetchval("SELECT next_fu_date FROM device WHERE id = $1", world.device) == \
        today() + timedelta(days=365)  # the FU itself is done
    [follow_up] = await follow_ups_of(world.fu)
    assert follow_up["type"] == "repair_on_site" and follow_up["status"] == "new" and follow_up["assignee"] is None
    assert (follow_up["device"], follow_up["patient"]) == (world.device, world.patient)
    assert follow_up["description"] == f"Uppföljning efter FU {fu['number']}: Armstödet glappar, byt fäste"
    assert follow_up["start_due"] is not None  # the coordinator's clock runs from now
    # What happened is on the order's events, and so on its page and in the device's history.
    assert ("completed", f"Behöver uppföljning: uppföljning {follow_up['number']}") in await events_of(world.fu)
    history = await workorders.device_history(world.device)
    assert [h["number"] for h in history][:2] == [follow_up["number"], fu["number"]]
    assert history[1]["outcome_label"] == "Behöver uppföljning"


async def test_other_work_that_needs_following_up_gets_an_order_of_the_same_type(world):
    tech = actor(world)
    review = await add_work_order(world, world.repair_device, assignee=world.staff["technician"],
                                  planned=date.today(), type="technical_review", patient=world.patient, position=3)
    await visits.complete_visit(tech, review, await version_of(review), "needs_follow_up",
                                follow_up="Sitsen behöver bytas till en bredare")
    [follow_up] = await follow_ups_of(review)
    assert follow_up["type"] == "technical_review" and follow_up["status"] == "new"
    # A repair that needs following up: the device's status stays as it was.
    await visits.add_report(tech, world.repair, visits.RepairReport("Joysticken glappar", "Provisoriskt fäst"))
    await visits.complete_visit(tech, world.repair, await version_of(world.repair), "needs_follow_up",
                                follow_up="Ny joystick beställd")
    [repair_follow_up] = await follow_ups_of(world.repair)
    assert repair_follow_up["type"] == "repair_on_site"
    assert await db.fetchval("SELECT status FROM device WHERE id = $1", world.repair_device) == "in_use"


async def test_needing_a_follow_up_without_saying_what_is_refused_and_nothing_is_written(world):
    tech = actor(world)
    await visits.save_checklist(tech, world.fu, PASSING)
    with pytest.raises(WorkOrderError) as refused:
        await visits.complete_visit(tech, world.fu, await version_of(world.fu), "needs_follow_up", follow_up="")
    assert refused.value.field == "follow_up"
    assert await db.fetchval("SELECT status FROM work_order WHERE id = $1", world.fu) == "planned"
    assert await follow_ups_of(world.fu) == []
    # Any other outcome, and an FU without one, makes no follow-up.
    await visits.complete_visit(tech, world.fu, await version_of(world.fu), "", follow_up="Inget särskilt")
    assert await follow_ups_of(world.fu) == []
    assert await db.fetchval("SELECT outcome FROM work_order WHERE id = $1", world.fu) is None


def _completion(tech, order_id: int, form: dict, key: str):
    """The completion as the outbox delivers it: keyed, through sync.apply_or_keep and the action table."""
    action = ACTIONS["slutfor"]

    async def apply() -> str:
        await action.run(tech, order_id, form, None)
        return f"/besok/{order_id}?klart=klar"

    return sync.apply_or_keep(tech, sync.Delivery(key=key, path=f"/besok/{order_id}/slutfor", digest=b"s" * 32),
                              work_order_id=order_id, fields=form, photo=None,
                              base_version=int(form["version"]), apply=apply)


async def test_a_replayed_completion_that_needs_following_up_creates_one_follow_up(world):
    tech = actor(world)
    await visits.save_checklist(tech, world.fu, PASSING)
    form = {"version": str(await version_of(world.fu)), "outcome": "needs_follow_up",
            "follow_up": "Laddaren blir varm"}
    key = str(uuid.uuid4())
    first = await _completion(tech, world.fu, form, key)
    again = await _completion(tech, world.fu, form, key)  # the answer was lost: the phone sends it again
    together = await asyncio.gather(*(_completion(tech, world.fu, form, key) for _ in range(4)))
    assert isinstance(first, sync.Applied)
    assert all(isinstance(r, sync.Replayed) for r in (again, *together))
    # The same completion under a key of its own (sent from a second tab) meets a completed order: kept.
    other = await _completion(tech, world.fu, form, str(uuid.uuid4()))
    assert isinstance(other, sync.Kept)
    [follow_up] = await follow_ups_of(world.fu)
    assert follow_up["description"].endswith("Laddaren blir varm")
    assert [k for k, _ in await events_of(world.fu)].count("completed") == 1


async def test_a_failed_safety_item_still_makes_its_repair_beside_a_follow_up(world):
    tech = actor(world)
    await visits.save_checklist(tech, world.fu, [
        Answer("frame", "pass"), Answer("brakes", "fail", comment="Bromsen släpper"), Answer("battery", "pass",
                                                                                          Decimal("25"))],
        {"brakes": ("follow_up_order", "Ny broms")})
    await visits.complete_visit(tech, world.fu, await version_of(world.fu), "needs_follow_up",
                                follow_up="Kontrollera laddaren också")
    follow_ups = await follow_ups_of(world.fu)
    assert [f["type"] for f in follow_ups] == ["repair_on_site", "repair_on_site"]
    assert "Motorbromsar håller" in follow_ups[0]["description"]
    assert follow_ups[1]["description"].endswith("Kontrollera laddaren också")
    assert await db.fetchval("SELECT status FROM device WHERE id = $1", world.device) == "out_of_use"
