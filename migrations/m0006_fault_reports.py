"""Fault reports (felanmälningar): device tokens behind the QR stickers, and the reports
made through them or by prescribers from the device card."""

from backend.db import sql_migration

ID = "2026-11-22T17:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "fault reports"

SQL = """
-- The random token behind a device's QR sticker (/f/<token>). A lost or damaged sticker gets
-- a new token; the old one is kept, marked replaced, and resolves to nothing any more.
CREATE TABLE device_token (
    id serial PRIMARY KEY,
    organisation integer NOT NULL REFERENCES organisation(id),
    device integer NOT NULL REFERENCES device(id),
    token varchar(32) NOT NULL UNIQUE CHECK (token ~ '^[A-Za-z0-9_-]{22,32}$'),
    created_at timestamptz NOT NULL DEFAULT now(),
    replaced_at timestamptz
);
CREATE UNIQUE INDEX device_token_active ON device_token (device) WHERE replaced_at IS NULL;

-- Devices that exist already get their first token: 128 random bits, base64url.
INSERT INTO device_token (organisation, device, token)
SELECT organisation, id,
       rtrim(translate(encode(substring(sha256((gen_random_uuid()::text || gen_random_uuid()::text)::bytea)
                                        FROM 1 FOR 16), 'base64'), '+/', '-_'), '=')
FROM device;

CREATE TABLE fault_report (
    id serial PRIMARY KEY,
    organisation integer NOT NULL REFERENCES organisation(id),
    number varchar(20) NOT NULL UNIQUE,  -- the case number the reporter sees, FA-2026-000123
    device integer NOT NULL REFERENCES device(id),
    device_token integer REFERENCES device_token(id),  -- the sticker it came through (public reports)
    channel varchar(20) NOT NULL CHECK (channel IN ('web', 'prescriber')),
    status varchar(20) NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'ordered', 'closed')),
    status_token varchar(32) NOT NULL UNIQUE,  -- the reporter's private status link
    submission_key varchar(64) NOT NULL UNIQUE,  -- the form's nonce: a resend is the same report
    problems text[] NOT NULL DEFAULT '{}',
    description text NOT NULL DEFAULT '',
    where_on_device varchar(200) NOT NULL DEFAULT '',
    usable varchar(10) NOT NULL CHECK (usable IN ('yes', 'partly', 'no')),
    can_bring_in varchar(10) NOT NULL CHECK (can_bring_in IN ('yes', 'no')),
    needs_replacement varchar(10) NOT NULL CHECK (needs_replacement IN ('yes', 'no', 'unsure')),
    at_usual_place boolean NOT NULL,
    address varchar(200) NOT NULL DEFAULT '',
    door_code varchar(40) NOT NULL DEFAULT '',
    contact_name varchar(100) NOT NULL,
    contact_phone varchar(40) NOT NULL,
    call_times varchar(200) NOT NULL DEFAULT '',
    photo bytea,
    photo_content_type varchar(20) CHECK (photo_content_type IN ('image/jpeg', 'image/png')),
    photo_width integer,
    photo_height integer,
    received_at timestamptz NOT NULL DEFAULT now(),
    ordered_by integer REFERENCES staff_user(id),  -- the prescriber, when one ordered from the device card
    care_unit integer REFERENCES care_unit(id),
    work_order integer UNIQUE REFERENCES work_order(id),
    handled_by integer REFERENCES staff_user(id),
    handled_at timestamptz,
    answer text,  -- the coordinator's reply when closed without an order; shown on the status page
    CHECK (at_usual_place OR address <> ''),
    CHECK ((photo IS NULL) = (photo_content_type IS NULL)),
    CHECK ((status = 'ordered') = (work_order IS NOT NULL)),
    CHECK ((status = 'closed') = (answer IS NOT NULL AND answer <> '')),
    CHECK ((channel = 'prescriber') = (ordered_by IS NOT NULL)),
    CHECK (channel = 'prescriber' OR device_token IS NOT NULL)
);
CREATE INDEX fault_report_new ON fault_report (organisation, received_at) WHERE status = 'new';
CREATE INDEX fault_report_device ON fault_report (device);
CREATE INDEX fault_report_device_token ON fault_report (device_token, received_at) WHERE device_token IS NOT NULL;
CREATE INDEX fault_report_care_unit ON fault_report (care_unit, received_at) WHERE care_unit IS NOT NULL;
"""


forwards = sql_migration(ID, DESCRIPTION, SQL)
