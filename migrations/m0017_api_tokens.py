"""API tokens: an admin gives each integration (webSesam, a BI tool…) a token of its own, scoped
to reading or to reading and writing. Only a hash of the secret is kept; the prefix lets people
recognise a token they hold. The access log's reader is a staff member or, for what an
integration read through the API, its token: exactly one of the two."""

from backend.db import sql_migration

ID = "2026-12-01T10:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "api tokens"

SQL = """
CREATE TABLE api_token (
    id serial PRIMARY KEY,
    organisation integer NOT NULL REFERENCES organisation(id),
    name varchar(100) NOT NULL CHECK (name <> ''),
    scope varchar(10) NOT NULL CHECK (scope IN ('read', 'write')),
    -- sha256 of the whole token; the token itself is shown once and never stored.
    token_hash bytea NOT NULL UNIQUE,
    prefix varchar(20) NOT NULL,
    created_by integer NOT NULL REFERENCES staff_user(id),
    created_at timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    revoked_at timestamptz,
    revoked_by integer REFERENCES staff_user(id),
    CHECK ((revoked_at IS NULL) = (revoked_by IS NULL))
);
CREATE INDEX api_token_organisation ON api_token (organisation, created_at);

ALTER TABLE audit_log
    ALTER COLUMN staff_user DROP NOT NULL,
    ADD COLUMN api_token integer REFERENCES api_token(id),
    ADD CONSTRAINT audit_log_one_reader CHECK (num_nonnulls(staff_user, api_token) = 1);
CREATE INDEX audit_log_api_token ON audit_log (api_token, at) WHERE api_token IS NOT NULL;
"""


forwards = sql_migration(ID, DESCRIPTION, SQL)
