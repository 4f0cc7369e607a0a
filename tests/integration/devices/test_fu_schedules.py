"""FU schedules: a category's or article's default, a device's own and its override of an inherited
interval; what applies to a device (the most specific level per checklist), and device_row's
fu_interval_days following it. Every change is kept in the history."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from backend import db
from backend.accounts.service import Actor
from backend.accounts.tables import Role
from backend.changes import service as changes
from backend.db import Sql
from backend.devices import schedules
from backend.devices import service as devices
from backend.devices.catalogue import CatalogueError
from backend.devices.schedules import ScheduleNotFound
from backend.maintenance import service as maintenance
from tests.support.factories import add_device, delete_world, make_world

CODES = ["fu", "sling"]


@pytest.fixture
async def region(database):
    world = await make_world()
    admin = Actor(id=world.staff["admin"], organisation=world.organisation, name="Åsa Admin", role=Role.admin,
                  care_unit=None)
    device = await add_device(world, holder=None, individnummer="S000001")
    other = await add_device(world, holder=None, individnummer="S000002")
    default = await db.fetchval("SELECT id FROM fu_schedule WHERE category = $1", world.category)
    yield SimpleNamespace(world=world, admin=admin, device=device, other=other, default=default,
                          category=await schedules.category_owner(world.organisation, world.category),
                          article=await schedules.article_owner(world.organisation, world.article),
                          own=await schedules.device_owner(world.organisation, "S000001"))
    await delete_world(world)


async def fu_interval(device_id: int) -> int | None:
    return await db.fetchval(Sql("SELECT d.fu_interval_days FROM (:row) d", row=devices.device_row(Sql(":id", id=device_id))))


async def applying(device_id: int) -> list[tuple[str, str, int]]:
    return [(s["level"], s["checklist_code"], s["interval_days"]) for s in await schedules.effective_schedules(device_id)]


async def add(region, owner, name="Förebyggande underhåll", interval=365, code="fu", before_new_user=False) -> int:
    return await schedules.add_schedule(region.admin, owner, name=name, interval_days=interval, checklist_code=code,
                                        before_new_user=before_new_user, checklist_codes=CODES)


async def test_the_category_default_applies_and_is_device_rows_fu_interval(region):
    assert await applying(region.device) == [("category", "fu", 365)]
    assert await fu_interval(region.device) == 365


async def test_an_articles_schedule_replaces_the_categorys_for_the_same_checklist_and_a_devices_own_replaces_both(region):
    await add(region, region.article, name="Tillverkarens service", interval=182)
    assert await applying(region.device) == [("article", "fu", 182)]
    await add(region, region.own, name="Tät kontroll", interval=90)
    assert await applying(region.device) == [("device", "fu", 90)]
    assert await fu_interval(region.device) == 90
    assert await fu_interval(region.other) == 182  # the other device of the article keeps the article's


async def test_schedules_of_different_checklists_all_apply(region):
    await add(region, region.article, name="Selkontroll", interval=182, code="sling", before_new_user=True)
    found = await schedules.effective_schedules(region.device)
    assert [(s["checklist_code"], s["interval_days"], s["before_new_user"]) for s in found] == [
        ("fu", 365, False), ("sling", 182, True)]
    assert await fu_interval(region.device) == 365  # fu_interval_days is the "fu" checklist's


async def test_a_device_overrides_an_inherited_interval_and_gets_it_back_when_the_override_is_deactivated(region):
    override = await schedules.override_interval(region.admin, region.own, region.default, 200)
    found = await schedules.effective_schedules(region.device)
    assert [(s["schedule_id"], s["interval_days"], s["inherited_interval_days"], s["override_id"]) for s in found] == [
        (region.default, 200, 365, override)]
    assert await fu_interval(region.device) == 200
    assert await fu_interval(region.other) == 365
    # Saving again changes the same override.
    assert await schedules.override_interval(region.admin, region.own, region.default, 210) == override
    assert await fu_interval(region.device) == 210
    await schedules.set_schedule_active(region.admin, region.own, override, False)
    assert await fu_interval(region.device) == 365
    # Overriding again brings the same override back.
    assert await schedules.override_interval(region.admin, region.own, region.default, 220) == override
    assert await fu_interval(region.device) == 220
    assert [c.action for c in await changes.history(region.world.organisation, "fu_schedule", override)] == [
        "reactivated", "deactivated", "changed", "created"]


async def test_only_an_inherited_schedule_of_the_device_can_be_overridden(region):
    own = await add(region, region.own, name="Egen", interval=30, code="sling")
    for wrong in (own, None, 0):
        with pytest.raises(CatalogueError):
            await schedules.override_interval(region.admin, region.own, wrong, 100)
    with pytest.raises(CatalogueError) as refused:
        await schedules.override_interval(region.admin, region.own, region.default, 0)
    assert refused.value.field == "override_interval"
    assert await db.fetchval("SELECT count(*) FROM fu_schedule WHERE overrides IS NOT NULL AND device = $1",
                             region.device) == 0


async def test_a_deactivated_schedule_gives_no_fu(region):
    await schedules.set_schedule_active(region.admin, region.category, region.default, False)
    assert await applying(region.device) == []
    assert await fu_interval(region.device) is None
    await schedules.set_schedule_active(region.admin, region.category, region.default, True)
    assert await fu_interval(region.device) == 365


async def test_a_schedule_uses_one_of_the_categorys_published_checklists(region):
    with pytest.raises(CatalogueError) as refused:
        await add(region, region.category, code="battery")
    assert refused.value.field == "checklist_code"
    with pytest.raises(CatalogueError) as refused:
        await schedules.add_schedule(region.admin, region.category, name="FU", interval_days=365, checklist_code="fu",
                                     before_new_user=False, checklist_codes=[])
    assert "ingen publicerad checklista" in refused.value.message
    # maintenance names the published lists (a draft is no choice).
    await maintenance.publish_checklist(region.world.category, [{"key": "a", "text": "A", "safety_critical": False,
                                                                  "measurement": None}])
    await db.execute("INSERT INTO checklist_template (category, code, name, version, items) "
                     "VALUES ($1, 'sling', 'Selkontroll', 99, '[]')", region.world.category)
    assert await maintenance.checklist_choices(region.world.category) == [
        {"code": "fu", "name": "Förebyggande underhåll"}]
    assert await maintenance.checklist_choices(None) == []


async def test_every_field_is_checked_and_nothing_is_written_when_refused(region):
    before = await db.fetchval("SELECT count(*) FROM fu_schedule WHERE organisation = $1", region.world.organisation)
    with pytest.raises(CatalogueError) as refused:
        await schedules.add_schedule(region.admin, region.article, name="", interval_days=4000, checklist_code="x",
                                     before_new_user=False, checklist_codes=CODES)
    assert {field for field, _ in refused.value.errors} == {"schedule_name", "interval_days", "checklist_code"}
    spare = await db.fetchval("INSERT INTO article (organisation, article_number, name) VALUES ($1, 'R1', 'Batteri') "
                              "RETURNING id", region.world.organisation)
    with pytest.raises(CatalogueError, match="reservdel"):
        await add(region, await schedules.article_owner(region.world.organisation, spare))
    assert await db.fetchval("SELECT count(*) FROM fu_schedule WHERE organisation = $1",
                             region.world.organisation) == before


async def test_a_schedule_is_changed_only_through_its_owner_and_every_change_is_recorded(region):
    with pytest.raises(ScheduleNotFound):
        await schedules.update_schedule(region.admin, region.article, region.default, name="X", interval_days=10,
                                        checklist_code="fu", before_new_user=False, checklist_codes=CODES)
    assert await schedules.update_schedule(region.admin, region.category, region.default, name="Årlig FU",
                                           interval_days=300, checklist_code="fu", before_new_user=True,
                                           checklist_codes=CODES)
    assert not await schedules.update_schedule(region.admin, region.category, region.default, name="Årlig FU",
                                               interval_days=300, checklist_code="fu", before_new_user=True,
                                               checklist_codes=CODES)
    history = await changes.history(region.world.organisation, "fu_schedule", region.default)
    assert [c.action for c in history] == ["changed"]
    assert history[0].fields == {"name": ("Förebyggande underhåll", "Årlig FU"), "interval_days": (365, 300),
                                 "before_new_user": (False, True)}
    assert history[0].actor_name == "Åsa Admin"


async def test_a_checklist_no_longer_published_may_be_kept_when_editing(region):
    assert await schedules.update_schedule(region.admin, region.category, region.default, name="FU",
                                           interval_days=365, checklist_code="fu", before_new_user=False,
                                           checklist_codes=[])


async def test_the_device_page_shows_inherited_own_and_what_applies(region):
    await add(region, region.article, name="Artikelns FU", interval=180)
    own = await add(region, region.own, name="Selkontroll", interval=90, code="sling")
    page = await schedules.device_schedules(region.own)
    assert [(e["name"], e["level"]) for e in page["effective"]] == [("Artikelns FU", "article"), ("Selkontroll", "device")]
    assert {(s["name"], s["applies"]) for s in page["inherited"]} == {("Förebyggande underhåll", False),
                                                                      ("Artikelns FU", True)}
    assert [s["id"] for s in page["own"]] == [own]


async def test_the_device_card_lists_what_applies(region):
    await add(region, region.own, name="Selkontroll", interval=90, code="sling")
    card = await devices.device_card(region.admin, "S000001")
    assert card["device"]["fu_interval_days"] == 365
    assert [(s["name"], s["interval_days"]) for s in card["device"]["fu_schedules"]] == [
        ("Förebyggande underhåll", 365), ("Selkontroll", 90)]


async def test_the_fragment_places_in_another_domains_query(region):
    rows = await db.fetch(Sql("SELECT s.* FROM (SELECT :id::int AS device) x JOIN LATERAL (:s) s ON true",
                              id=region.device, s=schedules.effective_schedules_sql(Sql("x.device"))))
    assert [(r["level"], r["interval_days"]) for r in rows] == [("category", 365)]
    assert json.loads(await db.fetchval(schedules.effective_schedules_json(Sql(":id", id=region.other))))[0][
        "interval_days"] == 365
