"""The foundation: organisations, staff, patients, devices, work orders, audit log."""

from backend.db import sql_migration

ID = "2026-11-22T12:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "foundation domain model"

SQL = """
CREATE TABLE organisation (
    id serial PRIMARY KEY,
    name varchar(200) NOT NULL,
    slug varchar(60) NOT NULL UNIQUE,
    phone varchar(40) NOT NULL DEFAULT '',
    clocks jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE cost_bearer (
    id serial PRIMARY KEY,
    organisation integer NOT NULL REFERENCES organisation(id),
    name varchar(200) NOT NULL,
    kind varchar(20) NOT NULL CHECK (kind IN ('municipality', 'region')),
    code varchar(20) NOT NULL,
    UNIQUE (organisation, code)
);

CREATE TABLE care_unit (
    id serial PRIMARY KEY,
    organisation integer NOT NULL REFERENCES organisation(id),
    cost_bearer integer NOT NULL REFERENCES cost_bearer(id),
    name varchar(200) NOT NULL,
    phone varchar(40) NOT NULL DEFAULT ''
);
CREATE INDEX care_unit_organisation ON care_unit (organisation);

CREATE TABLE staff_user (
    id serial PRIMARY KEY,
    organisation integer NOT NULL REFERENCES organisation(id),
    name varchar(200) NOT NULL,
    role varchar(20) NOT NULL
        CHECK (role IN ('technician', 'consultant', 'prescriber', 'coordinator', 'admin')),
    care_unit integer REFERENCES care_unit(id),
    user_handle bytea NOT NULL UNIQUE,
    active boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    CHECK ((role = 'prescriber') = (care_unit IS NOT NULL))
);
CREATE INDEX staff_user_organisation_role ON staff_user (organisation, role);

CREATE TABLE patient (
    id serial PRIMARY KEY,
    organisation integer NOT NULL REFERENCES organisation(id),
    care_unit integer NOT NULL REFERENCES care_unit(id),
    cost_bearer integer NOT NULL REFERENCES cost_bearer(id),
    personal_number varchar(13) NOT NULL,
    given_name varchar(100) NOT NULL,
    family_name varchar(100) NOT NULL,
    birth_year integer NOT NULL,
    sex varchar(1) NOT NULL CHECK (sex IN ('F', 'M', 'X')),
    street varchar(200) NOT NULL,
    postal_code varchar(6) NOT NULL,
    city varchar(100) NOT NULL,
    latitude double precision,
    longitude double precision,
    phone varchar(40) NOT NULL DEFAULT '',
    door_code varchar(40) NOT NULL DEFAULT '',
    access_notes text NOT NULL DEFAULT '',
    protected_identity boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (organisation, personal_number)
);
CREATE INDEX patient_care_unit ON patient (care_unit);

CREATE TABLE device_category (
    id serial PRIMARY KEY,
    organisation integer NOT NULL REFERENCES organisation(id),
    code varchar(40) NOT NULL,
    name varchar(100) NOT NULL,
    iso_code varchar(12) NOT NULL,
    fu_interval_days integer CHECK (fu_interval_days > 0),
    expected_life_years integer NOT NULL CHECK (expected_life_years > 0),
    UNIQUE (organisation, code)
);

CREATE TABLE article (
    id serial PRIMARY KEY,
    organisation integer NOT NULL REFERENCES organisation(id),
    article_number varchar(30) NOT NULL,
    name varchar(200) NOT NULL,
    manufacturer varchar(100) NOT NULL DEFAULT '',
    category integer REFERENCES device_category(id),
    UNIQUE (organisation, article_number)
);

CREATE TABLE device (
    id serial PRIMARY KEY,
    organisation integer NOT NULL REFERENCES organisation(id),
    individnummer varchar(20) NOT NULL,
    serial_number varchar(60) NOT NULL DEFAULT '',
    article integer NOT NULL REFERENCES article(id),
    status varchar(20) NOT NULL CHECK (status IN
        ('in_use', 'in_depot', 'out_of_use', 'in_repair', 'reconditioning', 'condemned')),
    holder integer REFERENCES patient(id),
    owner integer REFERENCES cost_bearer(id),
    in_service_date date NOT NULL,
    expected_end_of_life date NOT NULL,
    last_fu_date date,
    next_fu_date date,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (organisation, individnummer)
);
CREATE INDEX device_holder ON device (holder);
CREATE INDEX device_next_fu ON device (organisation, next_fu_date) WHERE next_fu_date IS NOT NULL;

CREATE TABLE checklist_template (
    id serial PRIMARY KEY,
    category integer NOT NULL REFERENCES device_category(id),
    version integer NOT NULL,
    items jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (category, version)
);

CREATE TABLE work_order (
    id serial PRIMARY KEY,
    organisation integer NOT NULL REFERENCES organisation(id),
    number varchar(20) NOT NULL,
    type varchar(20) NOT NULL CHECK (type IN ('repair_hmc', 'repair_on_site', 'quick_service',
        'urgent_repair', 'technical_review', 'maintenance', 'installation', 'fitting')),
    status varchar(20) NOT NULL CHECK (status IN ('new', 'planned', 'in_progress', 'paused',
        'not_completed', 'completed', 'cancelled')),
    channel varchar(20) NOT NULL CHECK (channel IN ('prescriber', 'phone', 'web', 'generated', 'hmc')),
    device integer NOT NULL REFERENCES device(id),
    patient integer REFERENCES patient(id),
    care_unit integer REFERENCES care_unit(id),
    orderer integer REFERENCES staff_user(id),
    description text NOT NULL DEFAULT '',
    assignee integer REFERENCES staff_user(id),
    planned_date date,
    window_start time,
    window_end time,
    route_position integer,
    version integer NOT NULL DEFAULT 1,
    received_at timestamptz NOT NULL,
    start_due date,
    finish_due date,
    started_at timestamptz,
    completed_at timestamptz,
    cancelled_at timestamptz,
    cancel_reason text,
    outcome varchar(30),
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (organisation, number),
    CHECK (status <> 'cancelled' OR (cancel_reason IS NOT NULL AND cancel_reason <> '')),
    CHECK (window_start IS NULL OR window_end IS NULL OR window_start < window_end)
);
CREATE INDEX work_order_assignee_day ON work_order (assignee, planned_date);
CREATE INDEX work_order_device ON work_order (device);
CREATE INDEX work_order_org_status ON work_order (organisation, status);
CREATE INDEX work_order_care_unit ON work_order (care_unit);

CREATE TABLE audit_log (
    id bigserial PRIMARY KEY,
    organisation integer NOT NULL REFERENCES organisation(id),
    at timestamptz NOT NULL DEFAULT now(),
    staff_user integer NOT NULL REFERENCES staff_user(id),
    role varchar(20) NOT NULL,
    care_unit integer REFERENCES care_unit(id),
    patient integer NOT NULL REFERENCES patient(id),
    what varchar(100) NOT NULL
);
CREATE INDEX audit_log_patient ON audit_log (patient, at);
CREATE INDEX audit_log_staff ON audit_log (staff_user, at);
"""


forwards = sql_migration(ID, DESCRIPTION, SQL)
