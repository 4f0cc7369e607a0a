"""Checklists edited in Runda: a list (a category's checklist code) has at most one open draft
at a time, which becomes the next version when it is published. Versions count per list (m0011's
index): a category's "fu" and "sling" lists each have a version 1."""

from backend.db import sql_migration

ID = "2026-12-01T10:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "checklist versions"

SQL = """
ALTER TABLE checklist_template DROP CONSTRAINT checklist_template_category_version_key;
CREATE UNIQUE INDEX checklist_template_one_draft ON checklist_template (category, code) WHERE published_at IS NULL;
"""


forwards = sql_migration(ID, DESCRIPTION, SQL)
