"""Sign-in through the region's identity provider (OpenID Connect): which sign-in each role of an
organisation may use, the link from a staff member to their identity at the provider, and the
optional commission -> role mapping that may create an account on first sign-in."""

from backend.db import sql_migration

ID = "2026-12-03T12:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "openid connect sign-in"

SQL = """
-- passkey: passkeys only; idp: the region's identity provider only; both. No row: both.
CREATE TABLE sign_in_policy (
    organisation integer NOT NULL REFERENCES organisation(id),
    role varchar(20) NOT NULL,
    methods varchar(10) NOT NULL CHECK (methods IN ('passkey', 'idp', 'both')),
    PRIMARY KEY (organisation, role)
);

-- A staff member's identity at the provider: (issuer, subject) is what the provider vouches for.
CREATE TABLE idp_link (
    id serial PRIMARY KEY,
    staff_user integer NOT NULL REFERENCES staff_user(id),
    issuer varchar(300) NOT NULL,
    subject varchar(255) NOT NULL,
    created_at timestamptz NOT NULL,
    last_signed_in_at timestamptz,
    UNIQUE (issuer, subject)
);
CREATE INDEX idp_link_staff_user ON idp_link (staff_user);

-- Optional, used only with OIDC_AUTO_CREATE=1: a commission (or group) claim value -> the role and
-- care unit a person with it gets on first sign-in.
CREATE TABLE idp_role_mapping (
    id serial PRIMARY KEY,
    organisation integer NOT NULL REFERENCES organisation(id),
    claim_value varchar(200) NOT NULL,
    role varchar(20) NOT NULL,
    care_unit integer REFERENCES care_unit(id),
    created_at timestamptz NOT NULL,
    UNIQUE (organisation, claim_value)
);
"""


forwards = sql_migration(ID, DESCRIPTION, SQL)
