"""An import run from dry run to applied: confirmed once, applied in one transaction in the
background with its progress visible from outside it, summarised in the change history, its file
forgotten once applied; a run whose process died shows as failed with nothing written."""

from __future__ import annotations

import asyncio

import pytest

from backend import db
from backend.changes import service as changes
from backend.devices import bulk
from backend.imports import service as imports
from tests.support.factories import delete_world, make_world

ARTICLES = "Artikelnummer;Benämning;Tillverkare;ISO-kod\r\n" + "".join(
    f"{700000 + i};Rollator {i};Invacare;12 23 06\r\n" for i in range(300)) + "700000;Dubblett;;\r\n"


@pytest.fixture
async def world(database):
    world = await make_world()
    yield world
    await delete_world(world)


async def dry_run(world, content: str = ARTICLES) -> int:
    return await imports.dry_run(world.organisation, "articles", "artiklar.csv", content.encode(),
                                 actor_id=world.staff["admin"], actor_name="Test admin")


async def articles(world) -> int:
    return await db.fetchval("SELECT count(*) FROM article WHERE organisation = $1", world.organisation)


async def test_confirming_applies_in_the_background_and_the_progress_is_seen_meanwhile(world, monkeypatch):
    run_id = await dry_run(world)
    assert await articles(world) == 1  # the world's own; the dry run wrote nothing
    await imports.confirm(world.organisation, run_id)
    seen: list[tuple[str, int, str]] = []
    slow = asyncio.Event()
    merge = bulk.merge_articles

    async def slow_merge(*args, **kwargs):
        outcome = await merge(*args, **kwargs)
        await slow.wait()  # inside the import's transaction, after its writes
        return outcome

    monkeypatch.setattr(bulk, "merge_articles", slow_merge)
    task = imports.start_in_background(run_id)
    for _ in range(100):
        run = await imports.run(world.organisation, run_id)
        seen.append((run["state"], run["progress"], run["progress_text"]))
        if run["state"] == "applying" and run["progress"] >= 20:
            break
        await asyncio.sleep(0.05)
    assert seen[-1][0] == "applying" and seen[-1][1] >= 20, seen
    assert await articles(world) == 1  # not committed yet: nobody sees half an import
    slow.set()
    assert await task == "applied"
    run = await imports.run(world.organisation, run_id)
    assert (run["state"], run["progress"], run["new_rows"], run["refused_rows"], run["kept"]) == (
        "applied", 100, 300, 1, False)
    assert await articles(world) == 301
    history = await changes.history(world.organisation, "import", run_id)
    assert [(c.action, c.actor_name) for c in history] == [("imported", "Test admin")]
    assert history[0].fields["new"] == (None, 300) and history[0].fields["kind"] == (None, "Artiklar")
    with pytest.raises(imports.ImportRefused, match="Importen är redan genomförd"):
        await imports.confirm(world.organisation, run_id)


async def test_a_run_whose_process_died_shows_as_failed_and_wrote_nothing(world):
    run_id = await dry_run(world)
    await imports.confirm(world.organisation, run_id)
    await db.execute("UPDATE import_run SET state = 'applying', heartbeat_at = now() - interval '5 minutes' "
                     "WHERE id = $1", run_id)
    run = await imports.run(world.organisation, run_id)
    assert run["state"] == "failed"
    assert "Importen avbröts" in run["error"] and not run["kept"]
    assert await articles(world) == 1


async def test_a_running_import_is_not_taken_for_dead_while_its_transaction_holds_it(world):
    run_id = await dry_run(world)
    await imports.confirm(world.organisation, run_id)
    await db.execute("UPDATE import_run SET state = 'applying', heartbeat_at = now() - interval '5 minutes' "
                     "WHERE id = $1", run_id)
    holding, release = asyncio.Event(), asyncio.Event()

    async def hold() -> None:
        async with db.transaction():
            await db.execute("SELECT pg_advisory_xact_lock(hashtext('import_run'), $1)", run_id)
            holding.set()
            await release.wait()

    holder = asyncio.create_task(hold())
    await holding.wait()
    try:
        assert (await imports.run(world.organisation, run_id))["state"] == "applying"
    finally:
        release.set()
        await holder


async def test_a_failing_import_is_failed_with_its_reason_and_nothing_stays(world, monkeypatch):
    run_id = await dry_run(world)
    await imports.confirm(world.organisation, run_id)

    async def failing_merge(*args, **kwargs):
        await db.execute("INSERT INTO article (organisation, article_number, name) VALUES ($1, 'X1', 'x')",
                         world.organisation)
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(bulk, "merge_articles", failing_merge)
    assert await imports.apply(run_id) == "failed"
    run = await imports.run(world.organisation, run_id)
    assert run["error"].startswith("Importen avbröts av ett fel hos oss. Ingenting av den har sparats")
    assert await articles(world) == 1
    assert await changes.history(world.organisation, "import", run_id) == []


async def test_a_dry_run_without_changes_cannot_be_confirmed_and_one_can_be_discarded(world):
    run_id = await dry_run(world, "Artikelnummer;Benämning;Tillverkare;ISO-kod\n100200;Permobil M3 Corpus;Permobil;12 23 06\n")
    run = await imports.run(world.organisation, run_id)
    assert (run["unchanged_rows"], run["confirmable"]) == (1, False)
    with pytest.raises(imports.ImportRefused, match="inget att importera"):
        await imports.confirm(world.organisation, run_id)
    await imports.discard(world.organisation, run_id)
    with pytest.raises(imports.RunNotFound):
        await imports.run(world.organisation, run_id)
    other = await make_world()
    try:
        run_id = await dry_run(world)
        with pytest.raises(imports.RunNotFound):  # another organisation's run is not there
            await imports.confirm(other.organisation, run_id)
    finally:
        await delete_world(other)


async def test_an_unconfirmed_dry_run_expires_after_a_day(world):
    old = await dry_run(world)
    await db.execute("UPDATE import_run SET created_at = now() - interval '2 days' WHERE id = $1", old)
    await dry_run(world)
    run = await imports.run(world.organisation, old)
    assert (run["kept"], run["expired"], run["confirmable"]) == (False, True, False)
    with pytest.raises(imports.ImportRefused, match="Provkörningen har gått ut"):
        await imports.confirm(world.organisation, old)
