"""The catalogue register: a category's own public self-checks, an article's expected lifetime and
whether it is still offered, and fu_schedule as the one source of FU intervals (the category's
fu_interval_days goes; any interval not yet a schedule becomes one first)."""

from backend.db import sql_migration

ID = "2026-12-01T09:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "catalogue register"

SQL = """
-- The checks the public fault-report page shows for the category; [] = the built-in ones.
ALTER TABLE device_category
    ADD COLUMN self_checks jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(self_checks) = 'array');

-- NULL: the category's lifetime. An inactive article is not offered for new devices.
ALTER TABLE article
    ADD COLUMN expected_life_years integer CHECK (expected_life_years BETWEEN 1 AND 50),
    ADD COLUMN active boolean NOT NULL DEFAULT true;

INSERT INTO fu_schedule (organisation, category, name, interval_days, checklist_code)
SELECT k.organisation, k.id, 'Förebyggande underhåll', k.fu_interval_days, 'fu' FROM device_category k
WHERE k.fu_interval_days IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM fu_schedule s WHERE s.category = k.id AND s.checklist_code = 'fu');
ALTER TABLE device_category DROP COLUMN fu_interval_days;

-- The register's lists: a category's articles, an article's devices (refusing to delete it).
CREATE INDEX article_category ON article (category) WHERE category IS NOT NULL;
CREATE INDEX IF NOT EXISTS device_article ON device (article);
"""


forwards = sql_migration(ID, DESCRIPTION, SQL)
