"""Fitting bookings: product areas, resources, availability, bookings, holds, feed tokens.

No double booking, ever: exclusion constraints on time ranges per consultant and per
resource make PostgreSQL itself refuse the second of two overlapping bookings.
"""

from backend.db import sql_migration

ID = "2026-11-22T13:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "fitting bookings"

SQL = """
CREATE EXTENSION IF NOT EXISTS btree_gist;

CREATE TABLE product_area (
    id serial PRIMARY KEY,
    organisation integer NOT NULL REFERENCES organisation(id),
    code varchar(40) NOT NULL,
    name varchar(100) NOT NULL,
    active boolean NOT NULL DEFAULT true,
    UNIQUE (organisation, code)
);

CREATE TABLE fitting_resource (
    id serial PRIMARY KEY,
    organisation integer NOT NULL REFERENCES organisation(id),
    kind varchar(20) NOT NULL CHECK (kind IN ('room', 'demo_device')),
    name varchar(200) NOT NULL,
    active boolean NOT NULL DEFAULT true,
    UNIQUE (organisation, name)
);

CREATE TABLE availability_template (
    id serial PRIMARY KEY,
    organisation integer NOT NULL REFERENCES organisation(id),
    consultant integer NOT NULL REFERENCES staff_user(id),
    weekday smallint NOT NULL CHECK (weekday BETWEEN 0 AND 6),
    start_time time NOT NULL,
    end_time time NOT NULL,
    product_areas integer[] NOT NULL CHECK (cardinality(product_areas) > 0),
    place varchar(10) NOT NULL CHECK (place IN ('hmc', 'home')),
    slot_minutes integer NOT NULL CHECK (slot_minutes IN (60, 90, 120)),
    buffer_before_minutes integer NOT NULL DEFAULT 0 CHECK (buffer_before_minutes BETWEEN 0 AND 240),
    buffer_after_minutes integer NOT NULL DEFAULT 0 CHECK (buffer_after_minutes BETWEEN 0 AND 240),
    valid_from date NOT NULL,
    valid_to date,
    resources integer[] NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now(),
    CHECK (start_time < end_time),
    CHECK (valid_to IS NULL OR valid_from <= valid_to)
);
CREATE INDEX availability_template_consultant ON availability_template (consultant);
CREATE INDEX availability_template_search ON availability_template (organisation, place);

CREATE TABLE availability_exception (
    id serial PRIMARY KEY,
    organisation integer NOT NULL REFERENCES organisation(id),
    consultant integer NOT NULL REFERENCES staff_user(id),
    starts_at timestamptz NOT NULL,
    ends_at timestamptz NOT NULL,
    reason text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(),
    CHECK (starts_at < ends_at)
);
CREATE INDEX availability_exception_consultant ON availability_exception
    USING gist (consultant, tstzrange(starts_at, ends_at));

-- Booking references (UT-2026-00042): a sequence never blocks concurrent bookings.
CREATE SEQUENCE fitting_booking_number;

CREATE TABLE fitting_booking (
    id serial PRIMARY KEY,
    organisation integer NOT NULL REFERENCES organisation(id),
    reference varchar(20) NOT NULL UNIQUE,
    uid varchar(100) NOT NULL UNIQUE,
    patient integer NOT NULL REFERENCES patient(id),
    prescriber integer NOT NULL REFERENCES staff_user(id),
    care_unit integer NOT NULL REFERENCES care_unit(id),
    product_area integer NOT NULL REFERENCES product_area(id),
    place varchar(10) NOT NULL CHECK (place IN ('hmc', 'home')),
    consultant integer NOT NULL REFERENCES staff_user(id),
    template integer REFERENCES availability_template(id) ON DELETE SET NULL,
    starts_at timestamptz NOT NULL,
    ends_at timestamptz NOT NULL,
    blocked_from timestamptz NOT NULL,
    blocked_until timestamptz NOT NULL,
    referral_date date NOT NULL,
    problem text NOT NULL,
    goal text NOT NULL,
    current_devices text NOT NULL DEFAULT '',
    attendees text NOT NULL DEFAULT '',
    interpreter_needed boolean NOT NULL DEFAULT false,
    interpreter_language varchar(60) NOT NULL DEFAULT '',
    access_notes text NOT NULL DEFAULT '',
    status varchar(10) NOT NULL DEFAULT 'booked' CHECK (status IN ('booked', 'cancelled')),
    cancel_reason text,
    cancelled_by integer REFERENCES staff_user(id),
    cancelled_at timestamptz,
    sequence integer NOT NULL DEFAULT 0 CHECK (sequence >= 0),
    first_offered_at timestamptz NOT NULL,
    offered_working_days integer NOT NULL CHECK (offered_working_days >= 0),
    booked_working_days integer NOT NULL CHECK (booked_working_days >= 0),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CHECK (starts_at < ends_at),
    CHECK (blocked_from <= starts_at AND ends_at <= blocked_until),
    CHECK (status <> 'cancelled' OR (cancel_reason IS NOT NULL AND cancel_reason <> ''
        AND cancelled_by IS NOT NULL AND cancelled_at IS NOT NULL)),
    -- One consultant, one fitting at a time, buffers included.
    CONSTRAINT fitting_booking_consultant_free EXCLUDE USING gist
        (consultant WITH =, tstzrange(blocked_from, blocked_until) WITH &&)
        WHERE (status = 'booked')
);
CREATE INDEX fitting_booking_consultant ON fitting_booking (consultant, starts_at);
CREATE INDEX fitting_booking_prescriber ON fitting_booking (prescriber, starts_at);
CREATE INDEX fitting_booking_care_unit ON fitting_booking (care_unit, starts_at);
CREATE INDEX fitting_booking_patient ON fitting_booking (patient);
CREATE INDEX fitting_booking_referral ON fitting_booking (organisation, referral_date);

CREATE TABLE fitting_resource_hold (
    id serial PRIMARY KEY,
    organisation integer NOT NULL REFERENCES organisation(id),
    booking integer NOT NULL REFERENCES fitting_booking(id) ON DELETE CASCADE,
    resource integer NOT NULL REFERENCES fitting_resource(id),
    starts_at timestamptz NOT NULL,
    ends_at timestamptz NOT NULL,
    active boolean NOT NULL DEFAULT true,
    CHECK (starts_at < ends_at),
    -- One room or demo device, one fitting at a time, whichever consultant holds it.
    CONSTRAINT fitting_resource_hold_free EXCLUDE USING gist
        (resource WITH =, tstzrange(starts_at, ends_at) WITH &&)
        WHERE (active)
);
CREATE INDEX fitting_resource_hold_booking ON fitting_resource_hold (booking);

CREATE TABLE fitting_booking_event (
    id bigserial PRIMARY KEY,
    organisation integer NOT NULL REFERENCES organisation(id),
    booking integer NOT NULL REFERENCES fitting_booking(id) ON DELETE CASCADE,
    at timestamptz NOT NULL DEFAULT now(),
    actor integer NOT NULL REFERENCES staff_user(id),
    kind varchar(20) NOT NULL CHECK (kind IN ('booked', 'rescheduled', 'cancelled')),
    reason text NOT NULL DEFAULT '',
    starts_at timestamptz NOT NULL,
    previous_starts_at timestamptz
);
CREATE INDEX fitting_booking_event_booking ON fitting_booking_event (booking, at);

CREATE TABLE calendar_feed_token (
    id serial PRIMARY KEY,
    organisation integer NOT NULL REFERENCES organisation(id),
    staff_user integer NOT NULL REFERENCES staff_user(id),
    token_hash bytea NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz
);
CREATE UNIQUE INDEX calendar_feed_token_active ON calendar_feed_token (staff_user)
    WHERE revoked_at IS NULL;
"""


forwards = sql_migration(ID, DESCRIPTION, SQL)
