"""The staff register: when a person last signed in with a passkey, and their HSA-id (the
Swedish health-care identity, e.g. SE2321000016-1234), unique within the organisation, by which
the region's identity provider will name them."""

from backend.db import sql_migration

ID = "2026-12-01T09:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "staff register"

SQL = """
ALTER TABLE staff_user
    ADD COLUMN last_signed_in_at timestamptz,
    ADD COLUMN hsa_id varchar(40);
CREATE UNIQUE INDEX staff_user_hsa_id ON staff_user (organisation, hsa_id) WHERE hsa_id IS NOT NULL;
"""


forwards = sql_migration(ID, DESCRIPTION, SQL)
