"""The access log's retention: audit_log is partitioned by month; the job makes the coming months'
partitions and drops those wholly older than the retention (rows of expired months in the default
partition go too), and a search across months finds the same rows wherever they are stored."""

from __future__ import annotations

from datetime import date, datetime, timezone

from backend import db
from backend.audit import partitions, review
from backend.audit.routes import review_sources
from backend.jobs import queue
from backend.workdays import add_months, month_start, today
from tests.integration.audit.conftest import actor, read
from tests.support.factories import add_patient
from tests.support.jobs import run_jobs

UTC = timezone.utc


async def exists(name: str) -> bool:
    return bool(await db.fetchval("SELECT to_regclass($1) IS NOT NULL", f"public.{name}"))


async def stored_in(audit_id: int) -> str:
    return await db.fetchval("SELECT tableoid::regclass::text FROM audit_log WHERE id = $1", audit_id)


async def test_the_log_is_partitioned_by_month_with_its_indexes_on_every_partition(database):
    assert await db.fetchval("SELECT relkind::text FROM pg_class WHERE oid = 'audit_log'::regclass") == "p"
    this_month = month_start(today())
    assert partitions.partition_name(this_month) in {partitions.partition_name(m) for m in await partitions.months()}
    indexes = {r["indexdef"].split(" USING ")[1] for r in await db.fetch(
        "SELECT indexdef FROM pg_indexes WHERE tablename = $1", partitions.partition_name(this_month))}
    assert {"btree (patient, at)", "btree (staff_user, at)", "btree (organisation, at)", "btree (id, at)"} <= indexes


async def test_the_job_creates_a_months_partition_ahead(database):
    ahead = add_months(month_start(today()), partitions.MONTHS_AHEAD)
    name = partitions.partition_name(ahead)
    if await exists(name) and not await db.fetchval(f'SELECT EXISTS (SELECT 1 FROM "{name}")'):
        await db.execute(f'ALTER TABLE audit_log DETACH PARTITION "{name}"')
        await db.execute(f'DROP TABLE "{name}"')
    assert not await exists(name)
    await queue.defer("audit.partitions", timestamp=0)
    await run_jobs()
    assert await exists(name)
    assert ahead in await partitions.months()


async def test_an_expired_month_is_dropped_and_the_retention_month_kept(world):
    patient = await add_patient(world)
    tech = world.staff["technician"]
    expired, kept_month = date(2001, 1, 1), partitions.oldest_kept_month(today(), 5)
    await partitions.ensure_month(expired)
    await partitions.ensure_month(kept_month)
    old = await read(world, tech, patient, datetime(2001, 1, 15, 12, tzinfo=UTC))
    older_in_default = await read(world, tech, patient, datetime(2000, 6, 1, 12, tzinfo=UTC))
    kept = await read(world, tech, patient, datetime(kept_month.year, kept_month.month, 1, 12, tzinfo=UTC))
    assert await stored_in(old) == "audit_log_2001_01" and await stored_in(older_in_default) == "audit_log_default"

    dropped = await partitions.drop_expired(today(), retention_years=5)
    assert "audit_log_2001_01" in dropped and not await exists("audit_log_2001_01")
    assert partitions.partition_name(kept_month) not in dropped
    remaining = {r["id"] for r in await db.fetch("SELECT id FROM audit_log WHERE patient = $1", patient)}
    assert remaining == {kept}


async def test_retention_is_never_shorter_than_five_years():
    assert partitions.oldest_kept_month(date(2031, 7, 20), 2) == date(2026, 7, 1)
    assert partitions.oldest_kept_month(date(2031, 7, 20), 7) == date(2024, 7, 1)
    assert partitions.oldest_kept_month(date(2032, 2, 29), 5) == date(2027, 2, 1)


async def test_a_search_across_months_finds_the_same_rows_before_and_after_they_get_their_partitions(world):
    patient = await add_patient(world)
    tech = world.staff["technician"]
    for month in (date(2040, 1, 1), date(2040, 2, 1)):
        name = partitions.partition_name(month)
        if await exists(name):  # a run before this one left it
            await db.execute(f'ALTER TABLE audit_log DETACH PARTITION "{name}"')
            await db.execute(f'DROP TABLE "{name}"')
    ids = [await read(world, tech, patient, datetime(2040, 1, 31, 23, 30, tzinfo=UTC)),  # 1 Feb 00:30 local
           await read(world, tech, patient, datetime(2040, 1, 10, 8, tzinfo=UTC)),
           await read(world, tech, patient, datetime(2040, 2, 20, 8, tzinfo=UTC))]
    search = review.Search(date(2040, 1, 1), date(2040, 2, 29), patient=patient)

    async def found() -> list[int]:
        result = await review.search_log(actor(world), search, review.Selection(), review_sources())
        return [a["id"] for a in result["accesses"]]

    before = await found()
    assert sorted(before) == sorted(ids) and {await stored_in(i) for i in ids} == {"audit_log_default"}
    assert await partitions.ensure_month(date(2040, 1, 1)) and await partitions.ensure_month(date(2040, 2, 1))
    assert not await partitions.ensure_month(date(2040, 2, 1))  # once
    assert [await stored_in(i) for i in ids] == ["audit_log_2040_01", "audit_log_2040_01", "audit_log_2040_02"]
    assert await found() == before
    # Swedish local dates: the read at 00:30 on 1 February is February's, though stored in January's partition.
    february = await review.search_log(actor(world), review.Search(date(2040, 2, 1), date(2040, 2, 29), patient=patient),
                                       review.Selection(), review_sources())
    assert {a["id"] for a in february["accesses"]} == {ids[0], ids[2]}
