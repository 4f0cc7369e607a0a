"""The jobs page over HTTP (/admin/jobb): an admin sees the background jobs of their organisation
and the installation's by state, a failed one with its reason in Swedish (never an error's own
text), runs it again, and cancels a queued one; another organisation's jobs are not theirs."""

from __future__ import annotations

import asyncio
import re

import pytest

from backend import db
from backend.jobs import queue
from tests.support import job_tasks
from tests.support.factories import delete_world, make_world
from tests.support.http import post_form, signed_in_client
from tests.support.jobs import finished_job, run_jobs


@pytest.fixture(scope="module")
async def world(database):
    world = await make_world()
    yield world
    await delete_world(world)


@pytest.fixture(scope="module")
async def other_world(database):
    world = await make_world("Grannregionen")
    yield world
    await delete_world(world)


@pytest.fixture(scope="module")
async def admin(app, world):
    client = await signed_in_client(app, world.organisation, world.staff["admin"])
    yield client
    await client.aclose()


@pytest.fixture(autouse=True)
async def forget_test_jobs(database):
    await job_tasks.create_log()
    await db.execute("DELETE FROM procrastinate_jobs WHERE task_name LIKE 'tests.%'")
    job_tasks.FLAKY["failing"] = True
    yield
    await db.execute("DELETE FROM procrastinate_jobs WHERE task_name LIKE 'tests.%'")
    job_tasks.FLAKY["failing"] = True


async def status_of(job_id: int) -> str:
    return await db.fetchval("SELECT status::text FROM procrastinate_jobs WHERE id = $1", job_id)


async def fail_for_good(job_id: int) -> None:
    """Run the job through every attempt, skipping the waits between them."""
    while await status_of(job_id) != "failed":
        await db.execute("UPDATE procrastinate_jobs SET scheduled_at = now() WHERE id = $1", job_id)
        await run_jobs()


def row_of(page: str, job_id: int) -> str:
    match = re.search(rf'<tr>\s*<td><a href="/admin/jobb/{job_id}">.*?</tr>', page, re.S)
    assert match, f"job {job_id} is not listed"
    return match.group(0)


async def test_a_failed_job_shows_its_reason_and_runs_again_after_forsok_igen(admin, world):
    job_id = await queue.defer("tests.flaky", organisation_id=world.organisation)
    await fail_for_good(job_id)

    page = await admin.get("/admin/jobb?status=failed")
    assert page.status_code == 200
    row = row_of(page.text, job_id)
    assert "Testjobb som misslyckas" in row and "Misslyckades" in row
    assert "SMS-tjänsten svarar inte just nu." in row and "(GatewayDown)" in row
    assert re.search(r'<td class="num">5</td>', row)  # attempts
    assert f'action="/admin/jobb/{job_id}/forsok-igen"' in row

    detail = await admin.get(f"/admin/jobb/{job_id}")
    assert detail.text.count("SMS-tjänsten svarar inte just nu.") == 5
    assert "Misslyckades" in detail.text and "Köat för nytt försök" in detail.text

    again = await post_form(admin, f"/admin/jobb/{job_id}/forsok-igen")
    assert again.status_code == 303 and again.headers["location"] == f"/admin/jobb/{job_id}?klart=igen"
    assert "Jobbet är köat igen" in (await admin.get(again.headers["location"])).text
    assert await status_of(job_id) == "todo"

    job_tasks.FLAKY["failing"] = False
    await run_jobs()
    assert await status_of(job_id) == "succeeded"
    assert "Klart" in row_of((await admin.get("/admin/jobb?status=succeeded")).text, job_id)
    assert "Köat igen av en administratör" in (await admin.get(f"/admin/jobb/{job_id}")).text


async def test_a_queued_job_says_when_its_retry_is_due_and_can_be_cancelled(admin, world):
    job_id = await queue.defer("tests.flaky", organisation_id=world.organisation)
    await run_jobs()  # the first attempt fails; the next waits 12 s
    row = row_of((await admin.get("/admin/jobb?status=todo")).text, job_id)
    assert "Nytt försök tidigast" in row and f'action="/admin/jobb/{job_id}/avbryt"' in row

    cancelled = await post_form(admin, f"/admin/jobb/{job_id}/avbryt")
    assert cancelled.status_code == 303 and await status_of(job_id) == "cancelled"
    assert "Jobbet är avbrutet" in (await admin.get(cancelled.headers["location"])).text

    events = await db.fetchval("SELECT count(*) FROM procrastinate_events WHERE job_id = $1", job_id)
    refused = await post_form(admin, f"/admin/jobb/{job_id}/avbryt")
    assert refused.status_code == 400 and "Bara ett jobb som väntar i kön kan avbrytas." in refused.text
    refused = await post_form(admin, f"/admin/jobb/{job_id}/forsok-igen")
    assert refused.status_code == 400 and "Bara ett misslyckat jobb kan köras igen." in refused.text
    assert await status_of(job_id) == "cancelled"
    assert await db.fetchval("SELECT count(*) FROM procrastinate_events WHERE job_id = $1", job_id) == events


async def test_a_running_job_shows_since_when(admin, world):
    async with db.transaction():
        job_id = await queue.defer("tests.slow", key="running", seconds=0, organisation_id=world.organisation)
        await db.execute("UPDATE procrastinate_jobs SET status = 'doing' WHERE id = $1", job_id)
    row = row_of((await admin.get("/admin/jobb?status=doing")).text, job_id)
    assert "Pågår" in row and "Sedan 20" in row
    assert "forsok-igen" not in row and "avbryt" not in row


async def test_an_errors_own_text_is_never_shown(admin, world):
    job_id = await queue.defer("tests.leaky", organisation_id=world.organisation)
    await run_jobs()
    for url in ("/admin/jobb?status=failed", f"/admin/jobb/{job_id}"):
        page = await admin.get(url)
        assert "Oväntat fel" in page.text and "(ValueError)" in page.text
        assert "Astrid" not in page.text and "19400101" not in page.text


async def test_an_admin_sees_their_organisations_jobs_and_the_installations_not_anothers(admin, world, other_world):
    theirs = await finished_job("tests.slow", status="failed", organisation_id=other_world.organisation, key="x",
                                seconds=0)
    installation = await finished_job("tests.slow", key="upkeep", seconds=0)
    page = await admin.get("/admin/jobb")
    assert f'href="/admin/jobb/{installation}"' in page.text
    assert f'href="/admin/jobb/{theirs}"' not in page.text
    assert (await admin.get(f"/admin/jobb/{theirs}")).status_code == 404
    assert (await post_form(admin, f"/admin/jobb/{theirs}/forsok-igen")).status_code == 404
    assert (await post_form(admin, f"/admin/jobb/{theirs}/avbryt")).status_code == 404
    assert await status_of(theirs) == "failed"


async def test_counts_filters_and_paging(admin, world):
    for n in range(27):
        await finished_job("tests.slow", organisation_id=world.organisation, key=f"page-{n}", seconds=0)
    failed = await finished_job("tests.flaky", status="failed", organisation_id=world.organisation)

    page = (await admin.get("/admin/jobb?uppgift=tests.slow&status=succeeded")).text
    assert page.count('<tr>\n    <td><a href="/admin/jobb/') == 25
    assert f'href="/admin/jobb/{failed}"' not in page
    assert 'href="/admin/jobb?sida=2&amp;status=succeeded&amp;uppgift=tests.slow"' in page
    page2 = (await admin.get("/admin/jobb?uppgift=tests.slow&status=succeeded&sida=2")).text
    assert page2.count('<tr>\n    <td><a href="/admin/jobb/') == 2 and "Föregående" in page2

    found = re.findall(r'<strong>(\d+)</strong>\s*<a href="/admin/jobb\?status=(\w+)"', page)
    counts = {state: int(n) for n, state in found}
    assert counts["succeeded"] >= 27 and counts["failed"] >= 1 and set(counts) == {
        "todo", "doing", "failed", "succeeded", "cancelled", "aborted"}
    assert '<option value="tests.slow" selected>Testjobb som tar tid</option>' in page

    # What the page does not know is ignored, never an error.
    for query in ("status=everything", "uppgift=%00", "uppgift=no.such.task", "sida=0", "sida=99999"):
        assert (await admin.get(f"/admin/jobb?{query}")).status_code == 200
    for path in ("/admin/jobb/0", "/admin/jobb/99999999999999999999", f"/admin/jobb/{failed + 10_000_000}"):
        assert (await admin.get(path)).status_code == 404


async def test_the_list_makes_as_many_queries_for_many_jobs_as_for_one(admin, world):
    async def queries() -> int:
        await admin.get("/admin/jobb")
        with db.counting_queries() as counted:
            response = await admin.get("/admin/jobb")
            await asyncio.sleep(0)
        assert response.status_code == 200
        return counted[0]

    await finished_job("tests.flaky", status="failed", organisation_id=world.organisation)
    few = await queries()
    for _ in range(10):
        await finished_job("tests.flaky", status="failed", organisation_id=world.organisation)
    assert await queries() == few


async def test_the_register_index_links_the_jobs_page_for_admins_only(admin, app, world):
    assert 'href="/admin/jobb"' in (await admin.get("/admin")).text
    coordinator = await signed_in_client(app, world.organisation, world.staff["coordinator"])
    try:
        assert 'href="/admin/jobb"' not in (await coordinator.get("/admin")).text
        assert (await coordinator.get("/admin/jobb")).status_code == 403
    finally:
        await coordinator.aclose()
