"""Technicians as planning resources: where their day starts and ends, their hours per weekday,
lunch, the device categories that need a skill and who has it, the default time on site per
work-order type, and on each work order what route planning must respect (a visit confirmed
with the patient, two technicians, a specific one)."""

from backend.db import sql_migration

ID = "2026-12-03T09:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "technician resources"

SQL = """
CREATE TABLE technician_resource (
    staff_user integer PRIMARY KEY REFERENCES staff_user(id),
    start_label text NOT NULL DEFAULT '',
    start_latitude double precision NOT NULL CHECK (start_latitude BETWEEN -90 AND 90),
    start_longitude double precision NOT NULL CHECK (start_longitude BETWEEN -180 AND 180),
    -- NULL end: the day ends where it starts.
    end_label text,
    end_latitude double precision CHECK (end_latitude BETWEEN -90 AND 90),
    end_longitude double precision CHECK (end_longitude BETWEEN -180 AND 180),
    lunch_earliest time NOT NULL DEFAULT '11:30',
    lunch_latest time NOT NULL DEFAULT '13:00',
    lunch_minutes smallint NOT NULL DEFAULT 30 CHECK (lunch_minutes BETWEEN 0 AND 120),
    max_drive_km integer CHECK (max_drive_km > 0),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CHECK ((end_latitude IS NULL) = (end_longitude IS NULL)),
    CHECK (lunch_earliest <= lunch_latest)
);

-- A technician's week: one row per working weekday (0 Monday .. 6 Sunday); no row, not working.
-- Only read for technicians with a technician_resource row (the others work the defaults).
CREATE TABLE technician_hours (
    staff_user integer NOT NULL REFERENCES staff_user(id),
    weekday smallint NOT NULL CHECK (weekday BETWEEN 0 AND 6),
    starts time NOT NULL,
    ends time NOT NULL,
    PRIMARY KEY (staff_user, weekday),
    CHECK (starts < ends)
);

-- Device categories that only technicians with the skill may service (ceiling lifts, …).
CREATE TABLE skill_category (
    organisation integer NOT NULL REFERENCES organisation(id),
    device_category integer NOT NULL REFERENCES device_category(id),
    PRIMARY KEY (organisation, device_category)
);

CREATE TABLE technician_skill (
    staff_user integer NOT NULL REFERENCES staff_user(id),
    device_category integer NOT NULL REFERENCES device_category(id),
    PRIMARY KEY (staff_user, device_category)
);

-- The organisation's default time on site per work-order type (and category, when it differs).
CREATE TABLE visit_duration (
    id serial PRIMARY KEY,
    organisation integer NOT NULL REFERENCES organisation(id),
    type varchar(20) NOT NULL,
    device_category integer REFERENCES device_category(id),
    minutes smallint NOT NULL CHECK (minutes BETWEEN 5 AND 600)
);
CREATE UNIQUE INDEX visit_duration_key ON visit_duration (organisation, type, coalesce(device_category, 0));

ALTER TABLE work_order
    ADD COLUMN plan_locked boolean NOT NULL DEFAULT false,
    ADD COLUMN technicians_needed smallint NOT NULL DEFAULT 1 CHECK (technicians_needed BETWEEN 1 AND 2),
    ADD COLUMN required_technician integer REFERENCES staff_user(id),
    ADD COLUMN second_assignee integer REFERENCES staff_user(id);
CREATE INDEX work_order_second_assignee_day ON work_order (second_assignee, planned_date)
    WHERE second_assignee IS NOT NULL;
"""


forwards = sql_migration(ID, DESCRIPTION, SQL)
