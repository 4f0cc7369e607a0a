"""An FU whose patient could not be reached: cancelled (makulerad) with that reason at once, so
the device is due again, and the cost bearer is to be contacted instead, exactly once however often
the phone delivers it. Other reasons, and other orders, go back to the coordinator as before."""

from __future__ import annotations

import asyncio
import uuid

from backend import db
from backend.sync import service as sync
from backend.visits import service as visits
from backend.visits.actions import ACTIONS
from backend.workorders import service as workorders
from tests.integration.workorders.conftest import actor, world  # noqa: F401 (the fixture)

MESSAGE = "Vi har sökt brukaren tre gånger utan svar."


async def version_of(order_id: int) -> int:
    return await db.fetchval("SELECT version FROM work_order WHERE id = $1", order_id)


async def order_of(order_id: int) -> dict:
    return dict(await db.fetchrow(
        "SELECT status, cancel_reason, cancelled_at, not_completed_reason, message_to_orderer FROM work_order "
        "WHERE id = $1", order_id))


async def notices_of(order_id: int) -> list[dict]:
    return [dict(r) for r in await db.fetch(
        "SELECT recipient, channel, reason, state, manual, cost_bearer, patient, note FROM notice "
        "WHERE work_order = $1 ORDER BY id", order_id)]


async def test_an_unreachable_patient_cancels_the_fu_with_the_reason_and_the_cost_bearer_is_to_be_contacted(world):
    tech = actor(world)
    await visits.could_not_complete(tech, world.fu, await version_of(world.fu), "unreachable",
                                    "Ringt tre gånger", MESSAGE)
    order = await order_of(world.fu)
    assert order["status"] == "cancelled" and order["cancelled_at"] is not None
    assert order["cancel_reason"] == "Gick inte att nå brukaren. Ringt tre gånger"
    assert order["message_to_orderer"] == MESSAGE
    [notice] = await notices_of(world.fu)
    assert (notice["recipient"], notice["channel"], notice["reason"], notice["state"], notice["manual"]) == \
        ("cost_bearer", "phone", "unreachable", "manual", True)
    assert (notice["cost_bearer"], notice["patient"]) == (world.cost_bearer, world.patient)
    assert "Gick inte att nå brukaren" in notice["note"] and MESSAGE in notice["note"]
    # The order's page and the device's history say what happened.
    [history] = [h for h in await workorders.device_history(world.device) if h["id"] == world.fu]
    assert history["status_label"] == "Makulerad" and history["cancel_reason"] == order["cancel_reason"]
    assert [(e["kind"], e["detail"]) for e in history["events"]] == [
        ("not_completed", "Gick inte att nå brukaren. Ringt tre gånger"),
        ("cancelled", "Gick inte att nå brukaren. Ringt tre gånger. Kostnadsbäraren kontaktas i stället."),
    ]


async def test_a_cancelled_fu_leaves_room_for_a_new_order_of_the_same_due_date(world):
    schedule = await db.fetchval("SELECT id FROM fu_schedule WHERE category = $1", world.category)
    await db.execute("UPDATE work_order SET fu_schedule = $2, fu_due_date = '2026-12-01', channel = 'generated' "
                     "WHERE id = $1", world.fu, schedule)
    await visits.could_not_complete(actor(world), world.fu, await version_of(world.fu), "unreachable", "", MESSAGE)
    again = await workorders.create_work_order(organisation_id=world.organisation, type="maintenance",
                                               device_id=world.device, description="Årlig FU", channel="generated")
    # The database's one-FU-per-device-schedule-and-due-date rule counts only orders not cancelled.
    await db.execute("UPDATE work_order SET fu_schedule = $2, fu_due_date = '2026-12-01' WHERE id = $1",
                     again["id"], schedule)


async def test_other_reasons_and_other_orders_go_back_to_the_coordinator_as_before(world):
    tech = actor(world)
    await visits.could_not_complete(tech, world.fu, await version_of(world.fu), "not_home", "", "Ring oss")
    assert (await order_of(world.fu))["status"] == "not_completed"
    await visits.could_not_complete(tech, world.repair, await version_of(world.repair), "unreachable", "", MESSAGE)
    repair = await order_of(world.repair)
    assert (repair["status"], repair["not_completed_reason"], repair["cancel_reason"]) == \
        ("not_completed", "unreachable", None)
    assert await notices_of(world.fu) == [] and await notices_of(world.repair) == []


async def test_a_replayed_unreachable_visit_tells_the_cost_bearer_once(world):
    tech = actor(world)
    form = {"version": str(await version_of(world.fu)), "reason": "unreachable", "detail": "",
            "message_to_orderer": MESSAGE}
    key = str(uuid.uuid4())

    def deliver(key: str):
        async def apply() -> str:
            await ACTIONS["ej-utford"].run(tech, world.fu, form, None)
            return f"/besok/{world.fu}?klart=ej-utford"

        return sync.apply_or_keep(tech, sync.Delivery(key=key, path=f"/besok/{world.fu}/ej-utford", digest=b"u" * 32),
                                  work_order_id=world.fu, fields=form, photo=None, base_version=int(form["version"]),
                                  apply=apply)

    answers = await asyncio.gather(*(deliver(key) for _ in range(4)))
    assert sorted(type(a).__name__ for a in answers) == ["Applied", "Replayed", "Replayed", "Replayed"]
    assert isinstance(await deliver(str(uuid.uuid4())), sync.Kept)  # the order had moved on: kept, not run
    assert len(await notices_of(world.fu)) == 1
    assert (await order_of(world.fu))["status"] == "cancelled"
