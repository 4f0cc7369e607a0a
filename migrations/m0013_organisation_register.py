"""The organisation register: care units and cost bearers can be deactivated (kept for the
history that names them), and the HMC's opening hours and calendar overrides (a local holiday
or closed day, an extra open day), which its working-day clocks count."""

from backend.db import sql_migration

ID = "2026-12-01T09:35:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "organisation register"

SQL = """
ALTER TABLE care_unit ADD COLUMN active boolean NOT NULL DEFAULT true;
ALTER TABLE cost_bearer ADD COLUMN active boolean NOT NULL DEFAULT true;

CREATE TABLE opening_hours (
    id serial PRIMARY KEY,
    organisation integer NOT NULL REFERENCES organisation(id),
    weekday smallint NOT NULL CHECK (weekday BETWEEN 1 AND 7),
    opens time,
    closes time,
    CHECK ((opens IS NULL) = (closes IS NULL)),
    CHECK (opens < closes),
    UNIQUE (organisation, weekday)
);

CREATE TABLE calendar_day (
    id serial PRIMARY KEY,
    organisation integer NOT NULL REFERENCES organisation(id),
    day date NOT NULL,
    kind varchar(10) NOT NULL CHECK (kind IN ('closed', 'open')),
    note varchar(200) NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (organisation, day)
);
"""


forwards = sql_migration(ID, DESCRIPTION, SQL)
