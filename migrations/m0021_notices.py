"""Notices to patients: the patient told two weeks ahead of an FU visit, or the cost bearer instead.

A patient has a preferred channel (letter, SMS, e-mail, or none: the cost bearer is contacted)
and an e-mail address. A notice is one message proposed or sent about a work order, to the
patient or to the cost bearer, for the visit's time as it was when it was sent; one that needs a
person (no way to reach the patient, or the field could not reach them) is marked for manual
handling. outbound_message is what was sent (or, in development, kept in the dev outbox instead
of being sent): to whom, on which channel, the text, and whether it was delivered or failed.
"""

from backend.db import sql_migration

ID = "2026-12-02T09:20:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "notices"

SQL = """
ALTER TABLE patient
    ADD COLUMN notice_channel varchar(10) NOT NULL DEFAULT 'letter'
        CHECK (notice_channel IN ('letter', 'sms', 'email', 'none')),
    ADD COLUMN email varchar(200) NOT NULL DEFAULT '';

-- One send of notices, as the coordinator chose them: its letters are printed together.
CREATE SEQUENCE notice_batch;

CREATE TABLE notice (
    id serial PRIMARY KEY,
    organisation integer NOT NULL REFERENCES organisation(id),
    work_order integer NOT NULL REFERENCES work_order(id),
    patient integer REFERENCES patient(id),
    -- The municipality (or regional unit) told instead of the patient; NULL: the HMC owns the device.
    cost_bearer integer REFERENCES cost_bearer(id),
    recipient varchar(20) NOT NULL CHECK (recipient IN ('patient', 'cost_bearer')),
    channel varchar(10) NOT NULL CHECK (channel IN ('letter', 'sms', 'email', 'phone')),
    -- visit: the patient told of a planned visit; unreachable: the field could not reach them.
    reason varchar(20) NOT NULL DEFAULT 'visit' CHECK (reason IN ('visit', 'unreachable')),
    -- Why a person must handle it (Swedish, for the coordinator); no message text.
    note text NOT NULL DEFAULT '',
    -- The visit's time as told.
    planned_date date,
    window_start time,
    window_end time,
    state varchar(20) NOT NULL
        CHECK (state IN ('queued', 'sent', 'to_print', 'printed', 'manual', 'handled', 'failed', 'stale')),
    manual boolean NOT NULL DEFAULT false,
    batch integer,
    error text NOT NULL DEFAULT '',
    -- The patient's answer, as the coordinator recorded it: a new time, or they want to talk.
    answer varchar(20) CHECK (answer IN ('moved', 'call_back')),
    answer_note text NOT NULL DEFAULT '',
    answered_at timestamptz,
    answered_by integer REFERENCES staff_user(id),
    created_by integer REFERENCES staff_user(id),
    created_at timestamptz NOT NULL DEFAULT now(),
    sent_at timestamptz,
    handled_at timestamptz,
    handled_by integer REFERENCES staff_user(id),
    CHECK (recipient = 'cost_bearer' OR patient IS NOT NULL),
    CHECK (NOT manual OR channel = 'phone')
);
CREATE INDEX notice_work_order ON notice (work_order);
-- One notice per visit and time: two coordinators sending at once tell the patient once.
CREATE UNIQUE INDEX notice_one_per_visit_time ON notice (work_order, planned_date, (coalesce(window_start, '00:00'::time)))
    WHERE reason = 'visit';
CREATE INDEX notice_batch_idx ON notice (organisation, batch) WHERE batch IS NOT NULL;
CREATE INDEX notice_to_contact ON notice (organisation, created_at)
    WHERE handled_at IS NULL AND (state = 'manual' OR answer = 'call_back');
CREATE INDEX notice_patient ON notice (patient) WHERE patient IS NOT NULL;

CREATE TABLE outbound_message (
    id bigserial PRIMARY KEY,
    organisation integer NOT NULL REFERENCES organisation(id),
    notice integer REFERENCES notice(id),
    -- Whose personal data the message holds: reading it is written to the access log.
    patient integer REFERENCES patient(id),
    channel varchar(10) NOT NULL CHECK (channel IN ('letter', 'sms', 'email')),
    -- outbox: kept here and never sent (development, or no gateway configured); print: a letter.
    transport varchar(20) NOT NULL CHECK (transport IN ('outbox', 'smtp', 'sms_gateway', 'print')),
    recipient varchar(200) NOT NULL,
    subject varchar(200) NOT NULL DEFAULT '',
    body text NOT NULL,
    state varchar(20) NOT NULL CHECK (state IN ('delivered', 'failed')),
    -- Why the last attempt failed (no personal data), and how many attempts were made.
    error text NOT NULL DEFAULT '',
    attempts integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    delivered_at timestamptz,
    failed_at timestamptz
);
CREATE UNIQUE INDEX outbound_message_notice ON outbound_message (notice) WHERE notice IS NOT NULL;
CREATE INDEX outbound_message_organisation ON outbound_message (organisation, id DESC);
CREATE INDEX outbound_message_patient ON outbound_message (patient) WHERE patient IS NOT NULL;

-- The generated FU visits the notices page proposes, by the day they are planned.
CREATE INDEX work_order_fu_to_notify ON work_order (organisation, planned_date)
    WHERE type = 'maintenance' AND channel = 'generated' AND status IN ('new', 'planned') AND patient IS NOT NULL;
"""


forwards = sql_migration(ID, DESCRIPTION, SQL)
