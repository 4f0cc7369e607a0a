"""Writes from the field: a receipt for every keyed write (applied at most once), and the
submissions that met a changed order, kept in full as conflicts for a person to resolve."""

from backend.db import sql_migration

ID = "2026-11-22T18:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "sync receipts and conflicts"

SQL = """
CREATE TABLE write_receipt (
    key uuid PRIMARY KEY,
    organisation integer NOT NULL REFERENCES organisation(id),
    staff_user integer NOT NULL REFERENCES staff_user(id),
    path varchar(300) NOT NULL,
    body_hash bytea NOT NULL,
    status integer NOT NULL,
    location varchar(300),
    work_order integer REFERENCES work_order(id),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX write_receipt_created ON write_receipt (created_at);
CREATE INDEX write_receipt_order ON write_receipt (work_order, staff_user) WHERE work_order IS NOT NULL;

CREATE TABLE sync_conflict (
    id bigserial PRIMARY KEY,
    organisation integer NOT NULL REFERENCES organisation(id),
    staff_user integer NOT NULL REFERENCES staff_user(id),
    work_order integer NOT NULL REFERENCES work_order(id),
    key uuid UNIQUE,
    path varchar(300) NOT NULL,
    fields jsonb NOT NULL,
    photo bytea,
    message text NOT NULL,
    base_version integer,
    created_at timestamptz NOT NULL DEFAULT now(),
    resolved_at timestamptz,
    resolved_by integer REFERENCES staff_user(id),
    resolution varchar(20) CHECK (resolution IN ('applied', 'dismissed')),
    resolution_note text NOT NULL DEFAULT '',
    CHECK ((resolved_at IS NULL) = (resolution IS NULL))
);
CREATE INDEX sync_conflict_open ON sync_conflict (organisation, created_at) WHERE resolved_at IS NULL;
CREATE INDEX sync_conflict_order ON sync_conflict (work_order);
"""


forwards = sql_migration(ID, DESCRIPTION, SQL)
