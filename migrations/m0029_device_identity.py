"""A device's manufacturing date and lot (batch) number: recalls and safety notices name date
ranges and batches, and a deviation report gives the device's full identity."""

from backend.db import sql_migration

ID = "2026-12-03T15:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "device manufacturing date and lot number"

SQL = """
ALTER TABLE device ADD COLUMN manufacturing_date date NULL;
ALTER TABLE device ADD COLUMN lot_number varchar(60) NOT NULL DEFAULT '';
"""


forwards = sql_migration(ID, DESCRIPTION, SQL)
