"""Indexes for the scope checks and lists that run on every page view."""

from backend.db import sql_migration

ID = "2026-11-22T15:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "lookup indexes"

SQL = """
CREATE INDEX work_order_patient ON work_order (patient, assignee) WHERE patient IS NOT NULL;
CREATE INDEX work_order_open_due ON work_order (organisation, coalesce(start_due, finish_due, planned_date), id)
    WHERE status IN ('new', 'planned', 'in_progress', 'paused', 'not_completed');
"""


forwards = sql_migration(ID, DESCRIPTION, SQL)
