"""Route pictures and the driving KPI over HTTP: Min dag gives each visit its estimated arrival and
the km from the previous stop, draws the day without a protected identity's place, and takes the
km driven; the week page draws every technician-day as a timeline (and one technician's days as
sketches) in a fixed number of queries; the distance page shows km per device on loan beside the
target. Refusals answer 400 with a Swedish message by the field and nothing written."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta
from decimal import Decimal

import pytest

from backend import db
from backend.routing import kpi, views
from backend.workdays import today
from tests.support.factories import add_device, add_patient, add_work_order, delete_world, make_world
from tests.support.http import csrf, post_form, signed_in_client
from tests.support.protected import assert_no_protected_details

TODAY = today()


@pytest.fixture(scope="module")
async def world(database):
    world = await make_world()
    world.home = await add_patient(world)
    world.hidden = await add_patient(world, given="Hemlig", family="Person", street="Hemliga gatan 1",
                                     phone="070-321 65 43", door_code="8642", protected=True)
    world.far = await add_patient(world, given="Karl", street="Köpingsvägen 3")
    await db.execute("UPDATE patient SET latitude = 59.40, longitude = 16.10, city = 'Hemlingsby' WHERE id = $1",
                     world.hidden)
    await db.execute("UPDATE patient SET latitude = 59.514, longitude = 15.9926, city = 'Köping' WHERE id = $1",
                     world.far)
    device = await add_device(world, holder=world.home)
    world.orders = [await add_work_order(world, device, assignee=world.staff["technician"], planned=TODAY,
                                         patient=p, position=n) for n, p in enumerate(
                                             (world.home, world.hidden, world.far), start=1)]
    world.numbers = [await db.fetchval("SELECT number FROM work_order WHERE id = $1", o) for o in world.orders]
    yield world
    await delete_world(world)


@pytest.fixture(scope="module")
async def coordinator(app, world):
    client = await signed_in_client(app, world.organisation, world.staff["coordinator"])
    yield client
    await client.aclose()


async def queries_for(client, url: str) -> int:
    await client.get(url)
    with db.counting_queries() as counted:
        response = await client.get(url)
        await asyncio.sleep(0)
    assert response.status_code == 200, response.text
    return counted[0]


def field_error(html: str, field: str) -> str:
    match = re.search(rf'<span class="field-error" id="{re.escape(field)}-error">([^<]+)</span>', html)
    return match.group(1) if match else ""


async def test_min_dag_gives_each_visit_its_estimated_arrival_and_the_km_from_the_previous_stop(app, world, technician):
    route = await views.technician_route(world.organisation, world.staff["technician"], TODAY)
    stops = [route["stops"][o] for o in world.orders]
    assert stops[0].arrival < stops[1].arrival < stops[2].arrival
    page = (await technician.get("/min-dag")).text
    shown = re.findall(r"Ankomst ca (\d\d:\d\d)</strong>.*? · ([\d,]+) km från (start|föregående)", page)
    assert shown == [(stops[0].arrival, stops[0].km_from_previous, "start"),
                     (stops[1].arrival, stops[1].km_from_previous, "föregående"),
                     (stops[2].arrival, stops[2].km_from_previous, "föregående")]
    assert f"ca {route['km']} km, ut {route['leaves']}, tillbaka ca {route['back']}" in page
    assert 'href="geo:' in page or "maps" in page  # the address still opens the map app


async def test_min_dag_draws_the_day_but_not_where_a_protected_identity_lives(app, world, technician):
    page = (await technician.get("/min-dag")).text
    assert '<svg class="route-sketch"' in page and "Köping" in page
    assert "Hemliga gatan" not in page and "Hemlingsby" not in page
    assert "skyddad identitet" in page  # the sketch's table says a visit is not drawn
    await assert_no_protected_details(page, world.hidden)


async def test_the_km_driven_today_are_kept_and_shown_and_a_second_entry_corrects_the_first(app, world, technician):
    first = await post_form(technician, "/min-dag/korda-km", {"dag": TODAY.isoformat(), "km": "84,5"})
    assert first.status_code == 303 and first.headers["location"].startswith(f"/min-dag?dag={TODAY}")
    # The outbox asks for JSON and gets where to go, which it takes as the acknowledgement.
    again = await technician.post("/min-dag/korda-km", data={"dag": TODAY.isoformat(), "km": "90",
                                                             "_csrf_token": await csrf(technician)},
                                  headers={"accept": "application/json"})
    assert again.status_code == 200 and again.json()["location"].startswith("/min-dag?dag=")
    assert await kpi.mileage(world.staff["technician"], TODAY) == Decimal("90.0")
    page = (await technician.get("/min-dag")).text
    assert "Körda km idag" in page and "Angivet: 90,0 km" in page


@pytest.mark.parametrize("form, field, message", [
    ({"km": "åttio"}, "km", "Skriv antalet km som en siffra"),
    ({"km": "2500"}, "km", "Ange körda km mellan 0 och 2000"),
    ({"km": "10", "dag": (TODAY + timedelta(days=1)).isoformat()}, "km", "bara anges för idag"),
    ({"km": "10", "dag": "igår"}, "km", "Skriv datumet som"),
])
async def test_km_that_cannot_be_kept_are_refused_by_the_field_and_nothing_is_written(app, world, technician, form,
                                                                                       field, message):
    before = await db.fetchval("SELECT count(*) FROM mileage_entry WHERE organisation = $1", world.organisation)
    response = await post_form(technician, "/min-dag/korda-km", {"dag": TODAY.isoformat(), **form})
    assert response.status_code == 400
    assert message in field_error(response.text, field) or message in response.text
    assert await db.fetchval("SELECT count(*) FROM mileage_entry WHERE organisation = $1", world.organisation) == before


async def test_the_week_page_draws_each_technician_day_and_one_technicians_days_as_sketches(app, world, coordinator):
    week = views.week_name(TODAY - timedelta(days=TODAY.weekday()))
    page = (await coordinator.get(f"/planering/vecka?vecka={week}&tekniker={world.staff['technician']}")).text
    assert '<svg class="week-timeline"' in page and "Tidslinje" in page
    assert page.count('<svg class="route-sketch"') == 1  # the one day with visits
    assert all(number in page for number in world.numbers)
    assert "Hemliga gatan" not in page and "Hemlingsby" not in page
    await assert_no_protected_details(page, world.hidden)
    everyone = (await coordinator.get(f"/planering/vecka?vecka={week}")).text
    assert "Tina Annan" in everyone and "Välj en tekniker" in everyone


async def test_the_week_page_runs_the_same_number_of_queries_however_full_the_week(app, world, coordinator):
    monday = TODAY - timedelta(days=TODAY.weekday()) + timedelta(days=14)
    url = f"/planering/vecka?vecka={views.week_name(monday)}"
    empty = await queries_for(coordinator, url)
    device = await add_device(world, holder=world.far)
    for n in range(6):
        await add_work_order(world, device, assignee=world.staff["technician" if n % 2 else "other_technician"],
                             planned=monday + timedelta(days=n % 5), patient=world.far, position=n)
    full = await queries_for(coordinator, url + f"&tekniker={world.staff['technician']}")
    assert empty == full <= 12


@pytest.mark.parametrize("query, field, message", [
    ("vecka=2026-W60", "vecka", "Den veckan finns inte"),
    ("vecka=nästa", "vecka", "Skriv veckan som 2026-W49"),
    ("tekniker=99999", "tekniker", "Välj en av teknikerna"),
    ("tekniker=x", "tekniker", "Välj en av teknikerna"),
])
async def test_a_week_or_technician_that_names_nothing_is_refused_by_the_field(app, world, coordinator, query, field,
                                                                             message):
    response = await coordinator.get(f"/planering/vecka?{query}")
    assert response.status_code == 400 and message in field_error(response.text, field)


async def test_the_distance_page_shows_km_per_device_on_loan_beside_the_target(app, world, coordinator):
    yesterday = TODAY - timedelta(days=1)
    device = await add_device(world, holder=world.far)
    await add_work_order(world, device, assignee=world.staff["other_technician"], planned=yesterday, patient=world.far)
    await kpi.record_route_days(world.organisation, yesterday, yesterday)
    kept = await db.fetchval("SELECT planned_km FROM route_day WHERE organisation = $1 AND day = $2",
                             world.organisation, yesterday)
    figures = await kpi.distance_kpi(world.organisation, TODAY, month=yesterday)
    month = next(m for m in figures["months"] if m["month"] == yesterday.replace(day=1))
    page = (await coordinator.get(f"/planering/korstracka?manad={yesterday:%Y-%m}")).text
    assert '<svg class="kpi-chart"' in page and "inte mätt" in page and "Mål: högst <strong>0,40</strong>" in page
    assert month["planned_km"] == kept and month["devices"] >= 2
    ratio = f"{month['ratio']:.2f}".replace(".", ",")
    assert f"{ratio} <span" in page and "<th scope=\"row\">Testkommun</th>" in page


async def test_the_target_is_set_by_the_organisation_and_a_figure_that_is_none_is_refused(app, world, coordinator):
    refused = await post_form(coordinator, "/planering/korstracka/mal", {"mal": "fyra"})
    assert refused.status_code == 400 and "t.ex. 0,40" in field_error(refused.text, "mal")
    saved = await post_form(coordinator, "/planering/korstracka/mal", {"mal": "0,35"})
    assert saved.status_code == 303
    assert "Mål: högst <strong>0,35</strong>" in (await coordinator.get(saved.headers["location"])).text
    month = await coordinator.get("/planering/korstracka?manad=2027-13")
    assert month.status_code == 400 and "Skriv månaden som 2027-03" in month.text
