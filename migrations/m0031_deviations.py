"""Deviations (avvikelser): a negative event or near-miss with a medical device, raised from a
work order or a device, completed by a coordinator and reported to Läkemedelsverket and the
manufacturer (HSLF-FS 2021:52 ch. 5; MDR art. 87).

The device's identity is a snapshot taken from the register when the deviation is raised and
corrected in the case, so the report says what the device was, whatever the register says later.
The patient (the device's holder then) is kept for the case only: never in the report.
"""

from backend.db import sql_migration

ID = "2026-12-04T10:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "deviations and their reports"

SQL = """
CREATE TABLE deviation (
    id serial PRIMARY KEY,
    organisation integer NOT NULL REFERENCES organisation(id),
    number varchar(20) NOT NULL,  -- AV-<year>-<id>, what the centre and the report call it
    version integer NOT NULL DEFAULT 1,  -- the case form names the version it was based on
    work_order integer REFERENCES work_order(id),
    device integer NOT NULL REFERENCES device(id),
    patient integer REFERENCES patient(id),  -- the holder when it happened; never in the report
    raised_by integer NOT NULL REFERENCES staff_user(id),
    raised_at timestamptz NOT NULL DEFAULT now(),
    occurred_on date NOT NULL,
    aware_on date NOT NULL,  -- when the centre became aware: the reporting deadline counts from it
    description text NOT NULL CHECK (description <> ''),
    -- none: ingen; near_miss: kunde ha lett till skada (tillbud); harm: skada (serious_harm: allvarlig)
    consequence varchar(20) NOT NULL CHECK (consequence IN ('none', 'near_miss', 'harm')),
    serious_harm boolean,
    device_kept boolean NOT NULL DEFAULT false,  -- kept for investigation: out of use, picked up
    pickup_order integer REFERENCES work_order(id),
    -- The device's identity as raised (from the register), corrected in the case.
    manufacturer varchar(200) NOT NULL DEFAULT '',
    trade_name varchar(200) NOT NULL DEFAULT '',
    article_number varchar(100) NOT NULL DEFAULT '',
    serial_number varchar(100) NOT NULL DEFAULT '',
    lot_number varchar(100) NOT NULL DEFAULT '',
    udi varchar(200) NOT NULL DEFAULT '',
    manufacturing_date date,
    individnummer varchar(20) NOT NULL DEFAULT '',
    category_name varchar(200) NOT NULL DEFAULT '',
    -- The coordinator's classification (MDR art. 87); NULL: not yet classified.
    classification varchar(40) CHECK (classification IN
        ('not_serious', 'other_serious', 'death_or_serious_deterioration', 'public_health_threat')),
    investigation text NOT NULL DEFAULT '',
    status varchar(20) NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'investigating', 'reported', 'closed')),
    authority_reference varchar(60) NOT NULL DEFAULT '',  -- Läkemedelsverket's number
    manufacturer_reference varchar(60) NOT NULL DEFAULT '',
    reported_at timestamptz,
    closed_at timestamptz,
    updated_at timestamptz NOT NULL DEFAULT now(),
    updated_by integer REFERENCES staff_user(id),
    UNIQUE (organisation, number),
    CHECK ((consequence = 'harm') = (serious_harm IS NOT NULL)),
    CHECK (status NOT IN ('reported', 'closed') OR classification IS NOT NULL),
    CHECK ((status = 'closed') = (closed_at IS NOT NULL))
);
CREATE INDEX deviation_organisation ON deviation (organisation, status, raised_at);
CREATE INDEX deviation_work_order ON deviation (work_order) WHERE work_order IS NOT NULL;
CREATE INDEX deviation_device ON deviation (device);

CREATE TABLE deviation_photo (
    id serial PRIMARY KEY,
    deviation integer NOT NULL REFERENCES deviation(id),
    content bytea NOT NULL,
    content_type varchar(40) NOT NULL,
    width integer NOT NULL,
    height integer NOT NULL,
    caption varchar(300) NOT NULL DEFAULT '',
    added_by integer NOT NULL REFERENCES staff_user(id),
    added_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX deviation_photo_deviation ON deviation_photo (deviation);
"""


forwards = sql_migration(ID, DESCRIPTION, SQL)
