"""What the import tests (and the benchmark's import scenario) share: an empty organisation with
another's registers that an import names but does not bring (cost bearers, care units, device
categories and their FU schedules), and an import run from file to applied, as the page does it."""

from __future__ import annotations

import secrets

from backend import db
from backend.imports import service as imports


async def _columns(table: str) -> list[str]:
    rows = await db.fetch("SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' "
                          "AND table_name = $1 AND column_name NOT IN ('id', 'organisation') ORDER BY ordinal_position",
                          table)
    return [r["column_name"] for r in rows]


async def _copy(table: str, source: int, target: int, mapped: dict[str, str] | None = None,
                where: str = "TRUE") -> None:
    """Copy the table's rows of `source` into `target`; a column in `mapped` is a foreign key whose
    row is found again in the target by the column named (e.g. {"cost_bearer": "code"})."""
    mapped = mapped or {}
    columns = await _columns(table)
    values = []
    for column in columns:
        if column in mapped:
            parent, key = mapped[column]
            values.append(f"(SELECT n.id FROM {parent} o JOIN {parent} n ON n.{key} = o.{key} "
                          f"AND n.organisation = $2 WHERE o.id = t.{column})")
        else:
            values.append(f"t.{column}")
    await db.execute(f"INSERT INTO {table} (organisation, {', '.join(columns)}) "
                     f"SELECT $2, {', '.join(values)} FROM {table} t WHERE t.organisation = $1 AND {where} "
                     f"ORDER BY t.id", source, target)


async def empty_copy(source: int, name: str = "Tom region") -> int:
    """A new organisation with the source's cost bearers, care units, categories and the categories'
    FU schedules, and nothing else: what a centre sets up before it imports."""
    target = await db.fetchval("INSERT INTO organisation (name, slug, phone) VALUES ($1, $2, '021-10 00 00') "
                               "RETURNING id", name, f"import-{secrets.token_hex(4)}")
    async with db.transaction():
        await _copy("cost_bearer", source, target)
        await _copy("care_unit", source, target, {"cost_bearer": ("cost_bearer", "code")})
        await _copy("device_category", source, target)
        await _copy("fu_schedule", source, target, {"category": ("device_category", "code")},
                    where="t.category IS NOT NULL")
    return target


async def imported(organisation_id: int, kind: str, content: bytes, name: str = "fil.csv") -> dict:
    """Dry-run, confirm and apply a file (as the page does, without the background task); the run."""
    run_id = await imports.dry_run(organisation_id, kind, name, content, actor_id=None, actor_name="Testimport")
    run = await imports.run(organisation_id, run_id)
    if run["confirmable"]:
        await imports.confirm(organisation_id, run_id)
        assert await imports.apply(run_id) == "applied", (await imports.run(organisation_id, run_id))["error"]
        run = await imports.run(organisation_id, run_id)
    return run
