"""FU production over HTTP: the due list (/fu) with its counts, filters and backlog in a fixed number
of queries; generation (/fu/generera) shows the count before anything is made, then starts a run
whose page shows its progress; automatic generation's setting; refusals answer 400 with a Swedish
message by the field and nothing written."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta

import pytest

from backend import db
from backend.maintenance import due
from backend.workdays import today
from tests.support.factories import add_device, add_patient, delete_world, make_world
from tests.support.http import post_form, signed_in_client

TODAY = today()  # Stockholm's date, as the pages and the runs count it


@pytest.fixture(scope="module")
async def world(database):
    world = await make_world()
    world.patient = await add_patient(world)
    for n, days_ago in enumerate((400, 360, 200)):  # overdue, due within days, due in half a year
        device = await add_device(world, holder=world.patient, individnummer=f"FU00000{n}")
        await db.execute("UPDATE device SET last_fu_date = $2 WHERE id = $1", device, TODAY - timedelta(days=days_ago))
    world.condemned = await add_device(world, holder=None, individnummer="FU000009")
    await db.execute("UPDATE device SET status = 'condemned' WHERE id = $1", world.condemned)
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


async def count(table: str, organisation: int) -> int:
    return await db.fetchval(f"SELECT count(*) FROM {table} WHERE organisation = $1", organisation)


async def test_the_due_list_shows_the_overdue_and_what_falls_due_with_counts_and_the_backlog(coordinator, world):
    response = await coordinator.get("/fu")
    assert response.status_code == 200
    page = response.text
    assert "FU000000" in page and "Förfallen" in page  # overdue, always shown
    assert "FU000002" not in page  # due in half a year: not this month
    assert "1 utdömd" in page  # left out, and said so
    assert "Underhållsskuld" in page and "<svg" in page and "Förfallna FU" in page
    wide = await coordinator.get("/fu?horisont=period&fran={0}&till={1}".format(TODAY, TODAY + timedelta(days=300)))
    assert all(f"FU00000{n}" in wide.text for n in range(3))


async def test_the_due_list_makes_as_many_queries_for_many_devices_as_for_few(coordinator, world):
    url = f"/fu?horisont=period&fran={TODAY}&till={TODAY + timedelta(days=400)}"
    few = await queries_for(coordinator, url)
    for n in range(15):
        device = await add_device(world, holder=world.patient, individnummer=f"FU1{n:05d}")
        await db.execute("UPDATE device SET last_fu_date = $2 WHERE id = $1", device, TODAY - timedelta(days=300 + n))
    await due.refresh(world.organisation, today=TODAY)
    assert await queries_for(coordinator, url) == few <= 10
    assert await queries_for(coordinator, url + f"&tekniker={world.staff['technician']}&kategori={world.category}") == few


async def test_the_depot_view_lists_the_checks_before_the_next_user(coordinator, world):
    await db.execute("INSERT INTO fu_schedule (organisation, category, name, interval_days, checklist_code, "
                     "before_new_user) VALUES ($1, $2, 'Kontroll före utlåning', 365, 'fore', true)",
                     world.organisation, world.category)
    await add_device(world, holder=None, individnummer="FU000010")
    await due.refresh(world.organisation, today=TODAY)
    page = (await coordinator.get("/fu?vy=fore-ny-brukare")).text
    assert "FU000010" in page and "Kontroll före utlåning" in page and "FU000000" not in page
    await db.execute("UPDATE fu_schedule SET active = false WHERE organisation = $1 AND checklist_code = 'fore'",
                     world.organisation)
    await due.refresh(world.organisation, today=TODAY)


@pytest.mark.parametrize("query, field, message", [
    ("horisont=period&fran=2026-13-01&till=2026-12-31", "fran", "Skriv datumet som 2026-03-01."),
    ("horisont=period&fran=2026-12-31&till=2026-12-01", "till", "Sista dagen kan inte vara före den första."),
    ("horisont=period&fran=2026-12-01", "till", "Ange både första och sista dagen."),
    ("horisont=period&fran=2020-01-01&till=2020-01-31", "till", "Välj en sista dag från och med idag"),
    ("sok=A%00B", "sok", "Texten innehåller tecken som inte kan sparas."),
])
async def test_a_due_list_address_that_cannot_be_read_is_refused_with_a_message_by_its_field(coordinator, query,
                                                                                             field, message):
    response = await coordinator.get(f"/fu?{query}")
    assert response.status_code == 400
    assert message in response.text
    assert f'href="#{field}"' in response.text


async def test_asking_to_compute_the_list_again_needs_the_list_the_page_showed(coordinator, world):
    page = (await coordinator.get("/fu")).text
    seen = re.search(r'name="sedan" value="([^"]+)"', page).group(1)
    jobs = "SELECT count(*) FROM procrastinate_jobs WHERE task_name = 'maintenance.refresh_due_of' AND status = 'todo'"
    before = await db.fetchval(jobs)
    assert (await post_form(coordinator, "/fu/rakna-om", {"sedan": "2020-01-01T00:00:00+00:00"})).status_code == 400
    response = await post_form(coordinator, "/fu/rakna-om", {"sedan": seen})
    assert response.status_code == 303 and response.headers["location"] == "/fu?klart=omrakning"
    assert await db.fetchval(jobs) == before + 1
    await db.execute("DELETE FROM procrastinate_jobs WHERE task_name = 'maintenance.refresh_due_of' "
                     "AND args->>'organisation_id' = $1", str(world.organisation))


async def test_generation_shows_the_count_first_then_makes_the_orders_in_a_run(coordinator, world):
    start, end = TODAY, TODAY + timedelta(days=30)
    form = (await coordinator.get("/fu/generera")).text
    assert 'name="period_start"' in form and "Automatisk generering" in form
    preview = await coordinator.get(f"/fu/generera?period_start={start}&period_end={end}&include_overdue=ja")
    assert preview.status_code == 200
    assert "Bekräfta" in preview.text and "Skapa arbetsordrarna" in preview.text
    assert await count("fu_generation", world.organisation) == 0  # nothing made by looking
    response = await post_form(coordinator, "/fu/generera", {"period_start": str(start), "period_end": str(end),
                                                             "include_overdue": "ja", "cost_bearer": "",
                                                             "category": ""})
    assert response.status_code == 303
    run_page = response.headers["location"]
    assert re.fullmatch(r"/fu/korningar/\d+", run_page)
    page = await coordinator.get(run_page)
    assert page.status_code == 200 and "I kö" in page.text and 'hx-get="' + run_page + '/status"' in page.text
    status = await coordinator.get(run_page + "/status", headers={"HX-Request": "true"})
    assert status.status_code == 200 and "hx-refresh" not in status.headers
    from backend.maintenance import generation

    run_id = int(run_page.rsplit("/", 1)[1])
    await generation.run(run_id, today=TODAY)  # what the queue's worker does
    status = await coordinator.get(run_page + "/status", headers={"HX-Request": "true"})
    assert status.headers.get("hx-refresh") == "true"
    done = (await coordinator.get(run_page)).text
    assert "Klar" in done and "arbetsordrar skapade" in done and "/arbetsordrar?type=maintenance" in done
    await db.execute("DELETE FROM procrastinate_jobs WHERE args->>'run_id' = $1 OR args->>'organisation_id' = $2",
                     str(run_id), str(world.organisation))


@pytest.mark.parametrize("fields, field, message", [
    ({"period_start": "2026-02-30", "period_end": "2026-03-01"}, "period_start", "Skriv datumet som 2026-03-01."),
    ({"period_start": "2020-01-01", "period_end": "2020-01-31"}, "period_end", "Perioden har redan varit."),
    ({"period_start": str(TODAY), "period_end": str(TODAY + timedelta(days=500))}, "period_end", "högst 400 dagar"),
    ({"period_start": str(TODAY), "period_end": str(TODAY), "cost_bearer": "999999"}, "cost_bearer",
     "Välj en kommun eller kostnadsbärare i listan."),
    ({}, "period_start", "Skriv datumet som 2026-03-01."),
])
async def test_a_period_that_cannot_be_generated_is_refused_with_nothing_made(coordinator, world, fields, field,
                                                                               message):
    before = await count("fu_generation", world.organisation)
    response = await post_form(coordinator, "/fu/generera", fields)
    assert response.status_code == 400
    assert message in response.text and f'href="#{field}"' in response.text
    assert await count("fu_generation", world.organisation) == before
    preview = await coordinator.get("/fu/generera?" + "&".join(f"{k}={v}" for k, v in fields.items())
                                    if fields else "/fu/generera?period_start=")
    assert preview.status_code == 400


async def test_automatic_generation_is_set_on_the_page_and_kept_in_its_history(coordinator, world):
    refused = await post_form(coordinator, "/fu/generera/automatiskt", {"active": "ja", "days_ahead": "7"})
    assert refused.status_code == 400 and "minst två veckor" in refused.text
    response = await post_form(coordinator, "/fu/generera/automatiskt", {"active": "ja", "days_ahead": "40"})
    assert response.status_code == 303 and response.headers["location"] == "/fu/generera?klart=automatisk"
    page = (await coordinator.get("/fu/generera?klart=automatisk")).text
    assert "Inställningen är sparad." in page and 'value="40"' in page and "Ändringar av automatisk generering" in page
    assert await db.fetchval("SELECT active FROM fu_auto_generation WHERE organisation = $1", world.organisation)


async def test_another_organisations_run_is_not_found(coordinator, world):
    from backend.maintenance import generation

    other = await make_world("Annan region")
    try:
        run = await generation.create_run(other.organisation, generation.Period(TODAY, TODAY), actor_id=None,
                                          actor_name="X", defer=False)
        assert (await coordinator.get(f"/fu/korningar/{run}")).status_code == 404
        assert (await coordinator.get(f"/fu/korningar/{run}/status")).status_code == 404
    finally:
        await delete_world(other)


async def test_a_technician_may_not_see_the_due_list(app, world):
    client = await signed_in_client(app, world.organisation, world.staff["technician"])
    try:
        assert (await client.get("/fu")).status_code == 403
        assert (await post_form(client, "/fu/generera", {"period_start": str(TODAY),
                                                         "period_end": str(TODAY)})).status_code == 403
    finally:
        await client.aclose()

