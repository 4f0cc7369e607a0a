"""The job queue: procrastinate's schema (its jobs, workers, periodic defers and events tables and
functions, as the pinned procrastinate release defines them) and Runda's record of each failed
attempt with its reason, which procrastinate does not keep.

Upgrading procrastinate to a release with a schema change needs that release's own migration
files applied in a new migration here; pyproject.toml pins the minor release for that reason."""

from procrastinate.schema import SchemaManager

from backend.db import sql_migration

ID = "2026-12-02T09:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "job queue"

SQL = SchemaManager.get_schema() + """
CREATE TABLE job_failure (
    id bigserial PRIMARY KEY,
    job_id bigint NOT NULL REFERENCES procrastinate_jobs(id) ON DELETE CASCADE,
    task_name varchar(128) NOT NULL,
    attempt integer NOT NULL,
    -- The exception's class, and its message only when it is one of Runda's own (Swedish, no
    -- personal data); anything else is named by its class alone.
    error_type varchar(200) NOT NULL,
    reason text NOT NULL DEFAULT '',
    failed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX job_failure_job_idx ON job_failure (job_id, failed_at DESC);
"""

forwards = sql_migration(ID, DESCRIPTION, SQL)
