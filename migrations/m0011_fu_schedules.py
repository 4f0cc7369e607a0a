"""FU schedules and named, published checklist versions.

A schedule says how often a device gets preventive maintenance (FU) and with which checklist:
set on a category or an article as the default for its devices, or on one device (its own
schedule, or an override of an inherited one's interval). A checklist is a category's named
list (code "fu" is the yearly service; a lift may also have "sling", the sling check), in
versions: a draft has no published_at, and orders answer the version published when they were made.
"""

from backend.db import sql_migration

ID = "2026-12-01T09:20:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "fu schedules and checklist versions"

SQL = """
ALTER TABLE checklist_template
    ADD COLUMN code varchar(40) NOT NULL DEFAULT 'fu',
    ADD COLUMN name varchar(100) NOT NULL DEFAULT 'Förebyggande underhåll',
    ADD COLUMN published_at timestamptz;
UPDATE checklist_template SET published_at = created_at;
CREATE UNIQUE INDEX checklist_template_version ON checklist_template (category, code, version);

CREATE TABLE fu_schedule (
    id serial PRIMARY KEY,
    organisation integer NOT NULL REFERENCES organisation(id),
    category integer REFERENCES device_category(id),
    article integer REFERENCES article(id),
    device integer REFERENCES device(id),
    -- On a device: the inherited schedule whose interval this row overrides (NULL: its own).
    overrides integer REFERENCES fu_schedule(id),
    name varchar(100) NOT NULL,
    interval_days integer NOT NULL CHECK (interval_days BETWEEN 1 AND 3650),
    checklist_code varchar(40) NOT NULL DEFAULT 'fu',
    before_new_user boolean NOT NULL DEFAULT false,
    active boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    CHECK (num_nonnulls(category, article, device) = 1),
    CHECK (overrides IS NULL OR device IS NOT NULL)
);
CREATE INDEX fu_schedule_category ON fu_schedule (category) WHERE category IS NOT NULL;
CREATE INDEX fu_schedule_article ON fu_schedule (article) WHERE article IS NOT NULL;
CREATE INDEX fu_schedule_device ON fu_schedule (device) WHERE device IS NOT NULL;
CREATE UNIQUE INDEX fu_schedule_one_override ON fu_schedule (device, overrides) WHERE overrides IS NOT NULL;

-- Today's interval per category becomes the category's default schedule.
INSERT INTO fu_schedule (organisation, category, name, interval_days, checklist_code)
SELECT organisation, id, 'Förebyggande underhåll', fu_interval_days, 'fu'
FROM device_category WHERE fu_interval_days IS NOT NULL;
"""


forwards = sql_migration(ID, DESCRIPTION, SQL)
