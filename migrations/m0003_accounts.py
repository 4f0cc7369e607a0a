"""Passkeys, invitations, security events and the shared key-value store."""

from backend.db import sql_migration

ID = "2026-11-22T14:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "passkey sign-in"

SQL = """
ALTER TABLE staff_user ADD COLUMN sessions_valid_after timestamptz;

CREATE TABLE passkey (
    id serial PRIMARY KEY,
    staff_user integer NOT NULL REFERENCES staff_user(id) ON DELETE CASCADE,
    credential_id bytea NOT NULL UNIQUE,
    public_key bytea NOT NULL,
    sign_count bigint NOT NULL DEFAULT 0,
    transports varchar(20)[] NOT NULL DEFAULT '{}',
    aaguid varchar(36) NOT NULL DEFAULT '',
    backed_up boolean NOT NULL DEFAULT false,
    nickname varchar(100) NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz
);
CREATE INDEX passkey_staff_user ON passkey (staff_user);

CREATE TABLE invitation (
    id serial PRIMARY KEY,
    organisation integer NOT NULL REFERENCES organisation(id),
    token_hash bytea NOT NULL UNIQUE,
    name varchar(200) NOT NULL,
    role varchar(20) NOT NULL
        CHECK (role IN ('technician', 'consultant', 'prescriber', 'coordinator', 'admin')),
    care_unit integer REFERENCES care_unit(id),
    staff_user integer REFERENCES staff_user(id),
    created_by integer REFERENCES staff_user(id),
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at timestamptz,
    revoked_at timestamptz,
    CHECK ((role = 'prescriber') = (care_unit IS NOT NULL))
);
CREATE INDEX invitation_organisation ON invitation (organisation, created_at DESC);

CREATE TABLE security_event (
    id serial PRIMARY KEY,
    organisation integer REFERENCES organisation(id),
    staff_user integer REFERENCES staff_user(id),
    kind varchar(40) NOT NULL,
    detail text NOT NULL DEFAULT '',
    at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE kv_store (
    id serial PRIMARY KEY,
    namespace varchar(40) NOT NULL,
    key varchar(200) NOT NULL,
    value bytea NOT NULL,
    expires_at timestamptz,
    UNIQUE (namespace, key)
);
CREATE INDEX kv_store_expires ON kv_store (expires_at) WHERE expires_at IS NOT NULL;
"""


forwards = sql_migration(ID, DESCRIPTION, SQL)
