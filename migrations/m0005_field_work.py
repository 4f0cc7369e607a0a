"""The technician's day: visit events, checklist answers, safety decisions, parts, time,
notes and photos, each its own append-only row; work-order numbering."""

from backend.db import sql_migration

ID = "2026-11-22T16:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "field work"

SQL = """
ALTER TABLE work_order
    ADD COLUMN follow_up_of integer REFERENCES work_order(id),
    ADD COLUMN not_completed_reason varchar(20)
        CHECK (not_completed_reason IN ('not_home', 'unreachable', 'declined', 'other')),
    ADD COLUMN message_to_orderer text,
    ADD CONSTRAINT work_order_outcome CHECK (outcome IS NULL OR outcome IN
        ('fixed', 'needs_follow_up', 'taken_to_workshop', 'replacement_left', 'condemned')),
    ADD CONSTRAINT work_order_version_positive CHECK (version > 0);
CREATE INDEX work_order_follow_up_of ON work_order (follow_up_of) WHERE follow_up_of IS NOT NULL;

-- Numbers (AO-2026-000123) per organisation and year, handed out atomically.
CREATE TABLE work_order_counter (
    organisation integer NOT NULL REFERENCES organisation(id),
    year integer NOT NULL,
    last_number integer NOT NULL,
    PRIMARY KEY (organisation, year)
);

-- What happened to an order, who did it and when: the history the device card shows.
CREATE TABLE work_order_event (
    id bigserial PRIMARY KEY,
    work_order integer NOT NULL REFERENCES work_order(id),
    at timestamptz NOT NULL DEFAULT now(),
    staff_user integer REFERENCES staff_user(id),
    kind varchar(30) NOT NULL,
    detail text NOT NULL DEFAULT ''
);
CREATE INDEX work_order_event_order ON work_order_event (work_order, id);

CREATE TABLE checklist_answer (
    id bigserial PRIMARY KEY,
    work_order integer NOT NULL REFERENCES work_order(id),
    template integer NOT NULL REFERENCES checklist_template(id),
    item_key varchar(60) NOT NULL,
    answer varchar(4) NOT NULL CHECK (answer IN ('pass', 'fail', 'na')),
    measurement numeric(12, 3),
    comment text NOT NULL DEFAULT '',
    answered_by integer NOT NULL REFERENCES staff_user(id),
    answered_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX checklist_answer_order ON checklist_answer (work_order, item_key, id);

CREATE TABLE safety_decision (
    id bigserial PRIMARY KEY,
    work_order integer NOT NULL REFERENCES work_order(id),
    item_key varchar(60) NOT NULL,
    decision varchar(20) NOT NULL CHECK (decision IN ('taken_out_of_use', 'repaired_on_site', 'follow_up_order')),
    comment text NOT NULL DEFAULT '',
    follow_up_order integer REFERENCES work_order(id),
    decided_by integer NOT NULL REFERENCES staff_user(id),
    decided_at timestamptz NOT NULL DEFAULT now(),
    CHECK ((decision = 'follow_up_order') = (follow_up_order IS NOT NULL))
);
CREATE INDEX safety_decision_order ON safety_decision (work_order, item_key, id);

CREATE TABLE part_used (
    id bigserial PRIMARY KEY,
    work_order integer NOT NULL REFERENCES work_order(id),
    article integer NOT NULL REFERENCES article(id),
    quantity integer NOT NULL CHECK (quantity BETWEEN 1 AND 999),
    added_by integer NOT NULL REFERENCES staff_user(id),
    added_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX part_used_order ON part_used (work_order);

CREATE TABLE time_entry (
    id bigserial PRIMARY KEY,
    work_order integer NOT NULL REFERENCES work_order(id),
    minutes integer NOT NULL CHECK (minutes BETWEEN 1 AND 1440),
    added_by integer NOT NULL REFERENCES staff_user(id),
    added_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX time_entry_order ON time_entry (work_order);

CREATE TABLE work_note (
    id bigserial PRIMARY KEY,
    work_order integer NOT NULL REFERENCES work_order(id),
    kind varchar(20) NOT NULL CHECK (kind IN ('fault_found', 'action_taken', 'note')),
    text text NOT NULL CHECK (text <> ''),
    added_by integer NOT NULL REFERENCES staff_user(id),
    added_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX work_note_order ON work_note (work_order);

CREATE TABLE work_photo (
    id bigserial PRIMARY KEY,
    work_order integer NOT NULL REFERENCES work_order(id),
    content bytea NOT NULL,
    content_type varchar(20) NOT NULL CHECK (content_type IN ('image/jpeg', 'image/png')),
    width integer NOT NULL,
    height integer NOT NULL,
    caption text NOT NULL DEFAULT '',
    added_by integer NOT NULL REFERENCES staff_user(id),
    added_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX work_photo_order ON work_photo (work_order);
"""


forwards = sql_migration(ID, DESCRIPTION, SQL)
