"""The hand-written migrations and the Piccolo tables describe the same schema."""

from backend import db
from backend.piccolo_app import TABLES


async def test_every_piccolo_column_exists_in_the_migrated_database(database):
    rows = await db.fetch(
        "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public'"
    )
    columns: dict[str, set[str]] = {}
    for row in rows:
        columns.setdefault(row["table_name"], set()).add(row["column_name"])
    for table in TABLES:
        name = table._meta.tablename
        assert name in columns, f"table {name} is not created by any migration"
        expected = {c._meta.db_column_name for c in table._meta.columns}
        assert expected == columns[name], f"{name}: tables.py and migrations differ"


async def test_migrate_twice_applies_nothing_the_second_time(database):
    assert await db.migrate() == []
    assert await db.pending_migrations() == []


async def test_a_cancelled_work_order_needs_a_reason(database):
    # Checked by the database itself, so no code path can makulera without a reason.
    constraint = await db.fetchval(
        "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = 'work_order'::regclass AND pg_get_constraintdef(oid) LIKE '%cancel_reason%'"
    )
    assert constraint is not None
