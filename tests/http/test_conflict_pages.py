"""Conflicts over HTTP: a write from the outbox that met a changed order is kept, then seen and
resolved side by side by a coordinator, or by the technician who sent it; nobody else sees it."""

from __future__ import annotations

import re
import uuid
from datetime import date

import pytest

from backend import db
from tests.support.factories import (
    add_conflict,
    add_device,
    add_patient,
    add_work_order,
    delete_world,
    jpeg_bytes,
    make_world,
)
from tests.support.http import csrf, post_form, signed_in_client


@pytest.fixture(scope="module")
async def world(database):
    world = await make_world()
    world.patient = await add_patient(world, given="Signe", family="Konfliktsson")
    world.device = await add_device(world, holder=world.patient)
    yield world
    await delete_world(world)


@pytest.fixture(scope="module")
async def clients(app, world):
    clients = {role: await signed_in_client(app, world.organisation, world.staff[role])
               for role in ("technician", "other_technician", "coordinator", "admin", "prescriber", "consultant")}
    yield clients
    for client in clients.values():
        await client.aclose()


async def version_of(order: int) -> int:
    return await db.fetchval("SELECT version FROM work_order WHERE id = $1", order)


async def new_order(world) -> int:
    return await add_work_order(world, world.device, assignee=world.staff["technician"], planned=date.today(),
                                patient=world.patient)


async def conflict_from_the_phone(world, technician, order: int, path: str, form: dict) -> int:
    """The phone delivers a write the coordinator overtook: the order was re-timed meanwhile."""
    seen = await version_of(order)
    await db.execute("UPDATE work_order SET version = version + 1, window_start = '13:00', window_end = '15:00' "
                     "WHERE id = $1", order)
    response = await technician.post(f"/besok/{order}/{path}", data={"version": str(seen), **form},
                                      headers={"idempotency-key": str(uuid.uuid4()),
                                               "x-csrftoken": await csrf(technician)})
    assert response.status_code == 409, response.text
    return await db.fetchval("SELECT max(id) FROM sync_conflict WHERE work_order = $1", order)


def columns(html: str) -> tuple[str, str]:
    """The two sides of the comparison: the technician's change and the order now."""
    mine = html.split('id="mine"', 1)[1].split('id="now"', 1)[0]
    return mine, html.split('id="now"', 1)[1]


async def test_the_coordinator_sees_the_kept_change_beside_the_order_and_applies_it(world, clients):
    order = await new_order(world)
    conflict = await conflict_from_the_phone(world, clients["technician"], order, "slutfor", {"outcome": "fixed"})
    report = await add_conflict(world, order, "rapport", {"action_taken": "Bytt joystick"})
    await db.execute("INSERT INTO work_note (work_order, kind, text, added_by) VALUES ($1, 'action_taken', "
                     "'Bytt joystick', $2)", order, world.staff["technician"])
    listing = await clients["coordinator"].get("/konflikter")
    assert listing.status_code == 200
    assert f'href="/konflikter/{conflict}">Slutfört besök · AO-T-' in listing.text
    assert "Test technician" in listing.text and "Arbetsordern har ändrats" in listing.text

    page = await clients["coordinator"].get(f"/konflikter/{conflict}")
    assert page.status_code == 200
    mine, now = columns(page.text)
    assert "<dt>Resultat</dt><dd class=\"break\">Åtgärdat</dd>" in mine
    assert f"<dt>Version</dt><dd>{await version_of(order)}</dd>" in now and "13:00–15:00" in now
    assert "Signe Konfliktsson" in now
    assert f'href="/konflikter/{report}">Rapport</a>' in page.text  # the order's other open conflict
    assert await db.fetchval("SELECT count(*) FROM audit_log WHERE staff_user = $1 AND patient = $2 "
                             "AND what = 'sync_conflict'", world.staff["coordinator"], world.patient) == 1

    applied = await post_form(clients["coordinator"], f"/konflikter/{conflict}/tillampa",
                              {"version": str(await version_of(order))})
    assert applied.status_code == 303 and applied.headers["location"] == f"/konflikter/{conflict}?klart=tillampad"
    assert await db.fetchval("SELECT status FROM work_order WHERE id = $1", order) == "completed"
    done = await clients["coordinator"].get(applied.headers["location"])
    assert "Ändringen är tillämpad" in done.text and "<strong>Tillämpad</strong>" in done.text
    assert "/tillampa" not in done.text  # no forms once it is resolved

    again = await post_form(clients["admin"], f"/konflikter/{conflict}/tillampa",
                            {"version": str(await version_of(order))})
    assert again.status_code == 409 and "redan löst: tillämpad av Test coordinator" in again.text


async def test_a_dismissal_by_the_coordinator_needs_a_note_next_to_its_field(world, clients):
    order = await new_order(world)
    conflict = await conflict_from_the_phone(world, clients["technician"], order, "starta", {})
    refused = await post_form(clients["admin"], f"/konflikter/{conflict}/avfarda", {"note": ""})
    assert refused.status_code == 400
    assert re.search(r'<span class="field-error" id="note-error">Skriv varför', refused.text)
    assert await db.fetchval("SELECT resolved_at FROM sync_conflict WHERE id = $1", conflict) is None
    dismissed = await post_form(clients["admin"], f"/konflikter/{conflict}/avfarda", {"note": "Besöket flyttat"})
    assert dismissed.status_code == 303
    row = await db.fetchrow("SELECT resolution, resolution_note, fields FROM sync_conflict WHERE id = $1", conflict)
    assert (row["resolution"], row["resolution_note"]) == ("dismissed", "Besöket flyttat") and row["fields"]


async def test_the_technician_sees_their_own_conflicts_from_the_visit_and_applies_one(world, clients):
    order = await new_order(world)
    conflict = await conflict_from_the_phone(world, clients["technician"], order, "starta", {})
    visit = await clients["technician"].get(f"/besok/{order}")
    assert "Dina ändringar som väntar på beslut" in visit.text
    assert f'href="/besok/konflikter/{conflict}">Påbörjat/fortsatt besök</a>' in visit.text
    own = await clients["technician"].get("/besok/konflikter")
    assert f'href="/besok/konflikter/{conflict}"' in own.text

    page = await clients["technician"].get(f"/besok/konflikter/{conflict}")
    assert page.status_code == 200 and "Din ändring" in page.text and "Arbetsordern nu" in page.text
    assert "Tillämpa min ändring" in page.text and "Släpp min ändring" in page.text
    applied = await post_form(clients["technician"], f"/besok/konflikter/{conflict}/tillampa",
                              {"version": str(await version_of(order))})
    assert applied.status_code == 303
    assert await db.fetchval("SELECT status FROM work_order WHERE id = $1", order) == "in_progress"
    visit = await clients["technician"].get(f"/besok/{order}")
    assert "Dina ändringar som väntar på beslut" not in visit.text


async def test_after_reassignment_the_technician_may_only_let_go(world, clients):
    order = await new_order(world)
    conflict = await add_conflict(world, order, "tid", {"minutes": "40"})
    await db.execute("UPDATE work_order SET assignee = $2, version = version + 1 WHERE id = $1", order,
                     world.staff["other_technician"])
    page = await clients["technician"].get(f"/besok/konflikter/{conflict}")
    assert page.status_code == 200
    assert "inte längre tilldelad dig" in page.text and "Tillämpa min ändring" not in page.text
    assert "Konfliktsson" not in page.text  # no longer their visit: no patient
    refused = await post_form(clients["technician"], f"/besok/konflikter/{conflict}/tillampa",
                              {"version": str(await version_of(order))})
    assert refused.status_code == 409
    let_go = await post_form(clients["technician"], f"/besok/konflikter/{conflict}/slapp", {})
    assert let_go.status_code == 303
    assert await db.fetchval("SELECT resolution FROM sync_conflict WHERE id = $1", conflict) == "dismissed"


async def test_nobody_else_sees_a_technicians_conflict(world, clients):
    order = await new_order(world)
    conflict = await add_conflict(world, order, "foton", {"caption": "Skadan"}, photo=jpeg_bytes())
    other = clients["other_technician"]
    assert (await other.get(f"/besok/konflikter/{conflict}")).status_code == 404
    assert f"/besok/konflikter/{conflict}" not in (await other.get("/besok/konflikter")).text
    assert (await other.get(f"/konflikter/{conflict}/foto")).status_code == 404
    assert (await post_form(other, f"/besok/konflikter/{conflict}/slapp", {})).status_code == 404
    assert (await other.get(f"/konflikter/{conflict}")).status_code == 403
    for role in ("prescriber", "consultant"):
        for url in ("/konflikter", f"/konflikter/{conflict}", f"/konflikter/{conflict}/foto",
                    f"/besok/konflikter/{conflict}"):
            assert (await clients[role].get(url)).status_code == 403, (role, url)
    assert await db.fetchval("SELECT resolved_at FROM sync_conflict WHERE id = $1", conflict) is None


async def test_the_kept_photo_is_shown_to_its_technician_and_coordinators_without_metadata(world, clients):
    order = await new_order(world)
    conflict = await add_conflict(world, order, "foton", {"caption": "Skadan"}, photo=jpeg_bytes())
    for role in ("technician", "coordinator", "admin"):
        photo = await clients[role].get(f"/konflikter/{conflict}/foto")
        assert photo.status_code == 200 and photo.headers["content-type"] == "image/jpeg"
        assert photo.headers["cache-control"].startswith("private")
    page = await clients["coordinator"].get(f"/konflikter/{conflict}")
    assert f'<img src="/konflikter/{conflict}/foto"' in page.text and 'alt="Teknikerns foto: Skadan"' in page.text


async def test_resolving_needs_the_csrf_token(world, clients):
    order = await new_order(world)
    conflict = await add_conflict(world, order, "tid", {"minutes": "15"})
    for client, url, data in ((clients["coordinator"], f"/konflikter/{conflict}/avfarda", {"note": "x"}),
                              (clients["technician"], f"/besok/konflikter/{conflict}/slapp", {})):
        assert (await client.post(url, data=data)).status_code == 403
    assert await db.fetchval("SELECT resolved_at FROM sync_conflict WHERE id = $1", conflict) is None


async def test_the_order_page_and_the_board_point_to_open_conflicts(world, clients):
    order = await new_order(world)
    conflict = await add_conflict(world, order, "anteckning", {"note": "Ringde innan"})
    page = await clients["coordinator"].get(f"/arbetsordrar/{order}")
    assert "Olösta konflikter" in page.text
    assert f'href="/konflikter/{conflict}">Anteckning</a>' in page.text and "av Test technician" in page.text
    board = await clients["coordinator"].get("/arbetsordrar")
    open_count = await db.fetchval("SELECT count(*) FROM sync_conflict WHERE organisation = $1 "
                                   "AND resolved_at IS NULL", world.organisation)
    assert f'{open_count} konflikt' in board.text and 'href="/konflikter"' in board.text


async def test_a_write_to_a_visit_no_longer_theirs_points_the_technician_to_their_conflicts(world, clients):
    order = await add_work_order(world, world.device, assignee=world.staff["other_technician"], planned=date.today())
    response = await clients["technician"].post(
        f"/besok/{order}/tid", data={"minutes": "20"},
        headers={"idempotency-key": str(uuid.uuid4()), "x-csrftoken": await csrf(clients["technician"])})
    assert response.status_code == 409
    assert 'href="/besok/konflikter">Mina konflikter</a>' in response.text
