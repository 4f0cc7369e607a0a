"""Recalls and field safety notices (säkerhetsmeddelanden): the notice as the manufacturer gave it
(its articles, serial range, manufacturing-date range and lot numbers, the action required and
the deadline), and the devices it reached: each with its work order, or marked as not found.

recall_device is unique per notice and device, so creating the orders twice, or by two
coordinators at once, never gives a device two orders for one notice.
"""

from backend.db import sql_migration

ID = "2026-12-03T16:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "recalls and safety notices"

SQL = """
CREATE TABLE recall (
    id serial PRIMARY KEY,
    organisation integer NOT NULL REFERENCES organisation(id),
    title varchar(200) NOT NULL,
    reference varchar(100) NOT NULL DEFAULT '',  -- the manufacturer's reference (FSN number)
    manufacturer varchar(100) NOT NULL,
    -- Which units: every criterion given must hold (a serial range, manufacturing dates, lots).
    serial_from varchar(60) NOT NULL DEFAULT '',
    serial_to varchar(60) NOT NULL DEFAULT '',
    made_from date,
    made_to date,
    lot_numbers text[] NOT NULL DEFAULT '{}',
    -- check: kontroll/åtgärd på plats; pickup: hämtning och karantän
    action varchar(20) NOT NULL CHECK (action IN ('check', 'pickup')),
    instructions text NOT NULL DEFAULT '',
    deadline date NOT NULL,
    created_by integer REFERENCES staff_user(id),
    created_at timestamptz NOT NULL DEFAULT now(),
    closed_at timestamptz,
    closed_by integer REFERENCES staff_user(id),
    closing_note text NOT NULL DEFAULT '',
    -- A notice naming many units makes their orders through the job queue: since when, and who asked.
    orders_queued_at timestamptz,
    orders_queued_by integer REFERENCES staff_user(id),
    orders_job bigint,  -- the queue's job (procrastinate_jobs.id): whether it still runs
    CHECK ((serial_from = '') = (serial_to = '')),
    CHECK (serial_from <> '' OR made_from IS NOT NULL OR made_to IS NOT NULL OR cardinality(lot_numbers) > 0),
    CHECK (made_from IS NULL OR made_to IS NULL OR made_from <= made_to),
    CHECK ((closed_at IS NULL) = (closed_by IS NULL))
);
CREATE INDEX recall_organisation ON recall (organisation, created_at);

CREATE TABLE recall_article (
    organisation integer NOT NULL REFERENCES organisation(id),
    recall integer NOT NULL REFERENCES recall(id),
    article integer NOT NULL REFERENCES article(id),
    PRIMARY KEY (recall, article)
);

CREATE TABLE recall_device (
    id serial PRIMARY KEY,
    organisation integer NOT NULL REFERENCES organisation(id),
    recall integer NOT NULL REFERENCES recall(id),
    device integer NOT NULL REFERENCES device(id),
    work_order integer REFERENCES work_order(id),
    -- Marked by a coordinator: the unit could not be found (ej hittad).
    not_found_at timestamptz,
    not_found_by integer REFERENCES staff_user(id),
    not_found_note text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (recall, device),
    CHECK ((not_found_at IS NULL) = (not_found_by IS NULL))
);
CREATE INDEX recall_device_device ON recall_device (device);
"""


forwards = sql_migration(ID, DESCRIPTION, SQL)
