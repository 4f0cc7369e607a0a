"""Imports from the centre's business system (webSesam/SESAM CSV files): one row per uploaded
file, from its dry run to the import applied (or failed), with the file's bytes kept until then
so that confirming applies exactly what was dry-run, the counts, every refused line with its
reason, and the progress a running import reports."""

from backend.db import sql_migration

ID = "2026-12-01T10:20:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "imports"

SQL = """
CREATE TABLE import_run (
    id serial PRIMARY KEY,
    organisation integer NOT NULL REFERENCES organisation(id),
    kind varchar(20) NOT NULL CHECK (kind IN ('articles', 'devices', 'patients', 'loans')),
    file_name varchar(200) NOT NULL,
    file_size integer NOT NULL CHECK (file_size >= 0),
    -- The uploaded bytes; NULL once applied or failed, or when an unconfirmed dry run expired.
    content bytea,
    encoding varchar(20) NOT NULL DEFAULT '',
    -- Who uploaded it (NULL: the `runda import` command), named as they were.
    staff_user integer REFERENCES staff_user(id),
    actor_name varchar(200) NOT NULL,
    state varchar(20) NOT NULL DEFAULT 'dry_run'
        CHECK (state IN ('dry_run', 'confirmed', 'applying', 'applied', 'failed')),
    rows_read integer NOT NULL DEFAULT 0,
    new_rows integer NOT NULL DEFAULT 0,
    changed_rows integer NOT NULL DEFAULT 0,
    unchanged_rows integer NOT NULL DEFAULT 0,
    refused_rows integer NOT NULL DEFAULT 0,
    -- [[line, reason], ...]: every refused line of the file, the reason in Swedish.
    refusals jsonb NOT NULL DEFAULT '[]',
    -- Remarks on the whole file (columns not read, the encoding found), in Swedish.
    notes jsonb NOT NULL DEFAULT '[]',
    progress smallint NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),
    progress_text varchar(200) NOT NULL DEFAULT '',
    error text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(),
    confirmed_at timestamptz,
    finished_at timestamptz,
    -- Written every second while an import runs: a run that stopped writing it has died.
    heartbeat_at timestamptz
);
CREATE INDEX import_run_organisation ON import_run (organisation, id DESC);

-- A device's loans and stickers by device, whatever their state: the ended loans an import of
-- loans reads, a device's loan history, and the foreign-key checks when devices are removed (with
-- their organisation), which the partial indexes on the open loan and the active sticker cannot
-- serve: without these, removing 80,000 devices scans both tables once per device.
CREATE INDEX IF NOT EXISTS device_loan_device ON device_loan (device);
CREATE INDEX IF NOT EXISTS device_token_device ON device_token (device);
"""


forwards = sql_migration(ID, DESCRIPTION, SQL)
