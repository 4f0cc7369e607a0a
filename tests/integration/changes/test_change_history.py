"""The registers' change history: what changed, by whom, newest first; nothing for a no-op."""

from datetime import date

from backend import db
from backend.changes import service as changes
from tests.support.factories import delete_world, make_world


async def test_a_change_is_kept_field_by_field_and_read_back_newest_first(database):
    world = await make_world()
    try:
        await changes.record(world.organisation, "article", 7, "created", actor=None, actor_name="Import",
                             after={"name": "Rollator", "life": 8})
        kept = await changes.record(world.organisation, "article", 7, "changed", actor=world.staff["admin"],
                                    actor_name="Åsa Admin", before={"name": "Rollator", "life": 8, "since": date(2026, 1, 1)},
                                    after={"name": "Rollator XL", "life": 8, "since": date(2026, 2, 1)})
        assert kept
        history = await changes.history(world.organisation, "article", 7)
        assert [c.action for c in history] == ["changed", "created"]
        assert history[0].actor_name == "Åsa Admin"
        assert history[0].fields == {"name": ("Rollator", "Rollator XL"), "since": ("2026-01-01", "2026-02-01")}
        assert history[1].fields == {"name": (None, "Rollator"), "life": (None, 8)}
        assert await changes.history(world.organisation, "article", 8) == []
    finally:
        await delete_world(world)


async def test_saving_without_a_change_leaves_no_row(database):
    world = await make_world()
    try:
        same = {"name": "Rollator"}
        assert not await changes.record(world.organisation, "article", 1, "changed", actor=None, actor_name="x",
                                        before=same, after=dict(same))
        assert await db.fetchval("SELECT count(*) FROM register_change WHERE organisation = $1", world.organisation) == 0
    finally:
        await delete_world(world)
