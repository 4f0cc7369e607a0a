"""Follow-ups on the visit page: an FU's completion offers "Behöver uppföljning" and asks what to
follow up; left out, the message stands next to the field with what was typed kept and nothing
written; given, the new order is named on the order's events. An unreachable patient on an FU
cancels it with the reason."""

from __future__ import annotations

from datetime import date

import pytest

from backend import db
from backend.maintenance import service as maintenance
from tests.support.factories import add_device, add_patient, add_work_order, delete_world, make_world
from tests.support.http import post_form

CHECKLIST = [{"key": "frame", "text": "Ram och sits hela", "safety_critical": False, "measurement": None}]


@pytest.fixture(scope="module")
async def world(database):
    world = await make_world()
    await maintenance.publish_checklist(world.category, CHECKLIST)
    world.patient = await add_patient(world)
    world.fu = await add_work_order(world, await add_device(world, holder=world.patient),
                                    assignee=world.staff["technician"], planned=date.today(), type="maintenance",
                                    patient=world.patient)
    world.other_fu = await add_work_order(world, await add_device(world, holder=world.patient),
                                          assignee=world.staff["technician"], planned=date.today(),
                                          type="maintenance", patient=world.patient, position=2)
    yield world
    await delete_world(world)


async def version_of(order_id: int) -> str:
    return str(await db.fetchval("SELECT version FROM work_order WHERE id = $1", order_id))


async def test_an_fu_that_needs_following_up_asks_what_and_then_makes_the_order(technician, world):
    page = await technician.get(f"/besok/{world.fu}")
    assert '<option value="needs_follow_up">Behöver uppföljning</option>' in page.text
    assert 'name="follow_up"' in page.text and "Vad behöver följas upp?" in page.text
    assert (await post_form(technician, f"/besok/{world.fu}/checklista", {"item-frame": "pass"})).status_code == 303
    refused = await post_form(technician, f"/besok/{world.fu}/slutfor",
                              {"version": await version_of(world.fu), "outcome": "needs_follow_up", "follow_up": ""})
    assert refused.status_code == 400
    assert 'id="follow_up-error">Beskriv vad som behöver följas upp.' in refused.text
    assert '<option value="needs_follow_up" selected>' in refused.text  # the choice is kept
    assert await db.fetchval("SELECT count(*) FROM work_order WHERE follow_up_of = $1", world.fu) == 0
    done = await post_form(technician, f"/besok/{world.fu}/slutfor", {
        "version": await version_of(world.fu), "outcome": "needs_follow_up", "follow_up": "Byt armstödets fäste"})
    assert done.status_code == 303
    number = await db.fetchval("SELECT number FROM work_order WHERE follow_up_of = $1", world.fu)
    page = await technician.get(f"/besok/{world.fu}")
    assert "Resultat: Behöver uppföljning" in page.text, page.text[page.text.find("Besöket:"):][:600]
    assert number in page.text


async def test_an_unreachable_patient_cancels_the_fu(technician, world):
    done = await post_form(technician, f"/besok/{world.other_fu}/ej-utford", {
        "version": await version_of(world.other_fu), "reason": "unreachable", "detail": "",
        "message_to_orderer": "Sökt tre gånger"})
    assert done.status_code == 303
    assert await db.fetchval("SELECT cancel_reason FROM work_order WHERE id = $1", world.other_fu) == \
        "Gick inte att nå brukaren"
    page = await technician.get(f"/besok/{world.other_fu}")
    assert page.status_code == 200 and "Makulerad" in page.text
