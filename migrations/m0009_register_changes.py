"""The registers' change history: one row per change of a register row (who, when, before -> after)."""

from backend.db import sql_migration

ID = "2026-12-01T09:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "register change history"

SQL = """
CREATE TABLE register_change (
    id bigserial PRIMARY KEY,
    organisation integer NOT NULL REFERENCES organisation(id),
    register varchar(40) NOT NULL,
    entity bigint NOT NULL,
    action varchar(20) NOT NULL,
    actor integer,
    actor_name varchar(200) NOT NULL,
    changes jsonb NOT NULL,
    at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX register_change_entity ON register_change (organisation, register, entity, at DESC);
"""


forwards = sql_migration(ID, DESCRIPTION, SQL)
