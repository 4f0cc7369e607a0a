"""Where a reported device is and whom to call: personal data kept apart from the order's
description, so it shows only in the visit and the coordinator's order, not in device histories."""

from backend.db import sql_migration

ID = "2026-11-22T19:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "site contact on work orders"

SQL = """
ALTER TABLE work_order ADD COLUMN site_contact text NOT NULL DEFAULT '';
"""


forwards = sql_migration(ID, DESCRIPTION, SQL)
