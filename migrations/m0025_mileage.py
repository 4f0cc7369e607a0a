"""The driving KPI (driven distance per device on loan): the km technicians enter for a day
(mileage_entry), each past technician-day's planned km as walked from its route (route_day, split
by the municipality each leg drove to), and an organisation's own target (distance_target)."""

from backend.db import sql_migration

ID = "2026-12-03T11:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "mileage and route days"

SQL = """
CREATE TABLE mileage_entry (
    staff_user integer NOT NULL REFERENCES staff_user(id),
    day date NOT NULL,
    organisation integer NOT NULL REFERENCES organisation(id),
    km numeric(6, 1) NOT NULL CHECK (km >= 0 AND km <= 2000),
    entered_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (staff_user, day)
);
CREATE INDEX mileage_entry_organisation_day ON mileage_entry (organisation, day);

CREATE TABLE route_day (
    staff_user integer NOT NULL REFERENCES staff_user(id),
    day date NOT NULL,
    organisation integer NOT NULL REFERENCES organisation(id),
    planned_km numeric(7, 1) NOT NULL CHECK (planned_km >= 0),
    visits integer NOT NULL CHECK (visits >= 0),
    -- visits whose home has no coordinates: not walked, so not in planned_km (the page says so)
    visits_without_place integer NOT NULL DEFAULT 0 CHECK (visits_without_place >= 0),
    -- {cost bearer id or "": km}: each leg's km counted to the municipality it drove to (the way
    -- home to the last visit's); "" for visits whose patient has no cost bearer.
    km_by_cost_bearer jsonb NOT NULL DEFAULT '{}',
    walked_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (staff_user, day)
);
CREATE INDEX route_day_organisation_day ON route_day (organisation, day);

CREATE TABLE distance_target (
    organisation integer PRIMARY KEY REFERENCES organisation(id),
    km_per_device numeric(5, 2) NOT NULL CHECK (km_per_device > 0 AND km_per_device < 100),
    changed_at timestamptz NOT NULL DEFAULT now()
);
"""


forwards = sql_migration(ID, DESCRIPTION, SQL)
