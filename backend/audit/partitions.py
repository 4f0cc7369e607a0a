"""The access log's months: audit_log is partitioned by month (migrations/m0028), so keeping it at
least five years and then pruning it drops whole partitions instead of deleting rows one by one.

`maintain` (a periodic job, audit/tasks.py) creates the months ahead and drops the months wholly
older than the retention. A row written for a month without a partition lands in the default
partition; creating that month's partition moves it there.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timezone

from backend import db
from backend.workdays import add_months, month_start

# Months kept ahead of today, so a read is never written to the default partition in normal running.
MONTHS_AHEAD = 3
# Patientdatalagen / HSLF-FS 2016:40: at least five years.
MIN_RETENTION_YEARS = 5

_NAME = re.compile(r"^audit_log_(\d{4})_(\d{2})$")


def partition_name(month: date) -> str:
    return f"audit_log_{month.year:04d}_{month.month:02d}"


def _utc(month: date) -> datetime:
    return datetime(month.year, month.month, 1, tzinfo=timezone.utc)


async def months() -> list[date]:
    """The months that have a partition, oldest first."""
    rows = await db.fetch(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = 'audit_log'::regclass")
    found = []
    for row in rows:
        match = _NAME.match(row["relname"])
        if match:
            found.append(date(int(match.group(1)), int(match.group(2)), 1))
    return sorted(found)


async def ensure_month(month: date) -> bool:
    """Create the month's partition unless it exists, moving any of its rows out of the default
    partition into it; True when it was created."""
    month = month_start(month)
    name = partition_name(month)
    async with db.transaction():
        # One creator at a time (two workers' ticks, a test and the job).
        await db.execute("SELECT pg_advisory_xact_lock(hashtext('audit_log_partitions'))")
        if await db.fetchval("SELECT to_regclass($1) IS NOT NULL", f"public.{name}"):
            return False
        low, high = _utc(month), _utc(add_months(month, 1))
        await db.execute(f'CREATE TABLE "{name}" (LIKE audit_log INCLUDING DEFAULTS INCLUDING CONSTRAINTS)')
        await db.execute(
            f"""
            WITH moved AS (DELETE FROM audit_log_default WHERE at >= $1 AND at < $2 RETURNING *)
            INSERT INTO "{name}" SELECT * FROM moved
            """, low, high)
        await db.execute(
            f"""ALTER TABLE audit_log ATTACH PARTITION "{name}" FOR VALUES FROM ('{low.isoformat()}') TO ('{high.isoformat()}')""")
    return True


def oldest_kept_month(today: date, retention_years: int) -> date:
    """The first month kept: every access within `retention_years` of today stays, so the month
    holding the day `retention_years` ago is kept whole."""
    years = max(retention_years, MIN_RETENTION_YEARS)
    try:
        cutoff = today.replace(year=today.year - years)
    except ValueError:  # 29 February
        cutoff = today.replace(year=today.year - years, day=28)
    return month_start(cutoff)


async def drop_expired(today: date, retention_years: int) -> list[str]:
    """Drop every month's partition wholly older than the retention, and delete such rows from the
    default partition; the names of the partitions dropped."""
    keep_from = oldest_kept_month(today, retention_years)
    dropped = []
    async with db.transaction():
        await db.execute("SELECT pg_advisory_xact_lock(hashtext('audit_log_partitions'))")
        for month in await months():
            if month < keep_from:
                name = partition_name(month)
                await db.execute(f'ALTER TABLE audit_log DETACH PARTITION "{name}"')
                await db.execute(f'DROP TABLE "{name}"')
                dropped.append(name)
        await db.execute("DELETE FROM audit_log_default WHERE at < $1", _utc(keep_from))
    return dropped


async def maintain(today: date, retention_years: int) -> dict:
    """This month's and the next MONTHS_AHEAD months' partitions made, the expired ones dropped."""
    created = []
    for ahead in range(MONTHS_AHEAD + 1):
        month = add_months(month_start(today), ahead)
        if await ensure_month(month):
            created.append(partition_name(month))
    dropped = await drop_expired(today, retention_years)
    # Autovacuum analyses each month's partition but never the partitioned table itself, whose
    # statistics plan the joins above the months (a search's staff and patient look-ups).
    await db.execute("ANALYZE audit_log")
    return {"created": created, "dropped": dropped}
