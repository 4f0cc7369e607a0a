"""Access-log review (loggkontroll) and the log's retention.

audit_log becomes a table partitioned by month (declarative partitioning, on `at`), keeping its
rows, ids, constraints and indexes: pruning after the retention (at least five years) drops whole
partitions, and a search over a period reads only that period's months. A default partition
catches a row whose month has no partition yet (the job creates them months ahead, and moves such
rows into the month's partition when it creates it), so a read is never refused for want of one.

The reviews: who reviewed, which selection and period, each flagged access judged "utan anmärkning"
or "med anmärkning" with a comment, and when the review was closed. A review item keeps a copy of
the access it judges, so the documentation outlives the log's retention. audit_log_use records
every opening of the log (a search, a review, an export, a patient's extract), whoever's it was.
"""

from backend.db import sql_migration

ID = "2026-12-03T14:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "access-log review, audit_log partitioned by month"

SQL = """
ALTER TABLE audit_log RENAME TO audit_log_unpartitioned;
ALTER TABLE audit_log_unpartitioned RENAME CONSTRAINT audit_log_pkey TO audit_log_unpartitioned_pkey;
ALTER TABLE audit_log_unpartitioned RENAME CONSTRAINT audit_log_one_reader TO audit_log_unpartitioned_one_reader;
ALTER INDEX audit_log_patient RENAME TO audit_log_unpartitioned_patient;
ALTER INDEX audit_log_staff RENAME TO audit_log_unpartitioned_staff;
ALTER INDEX audit_log_api_token RENAME TO audit_log_unpartitioned_api_token;

CREATE TABLE audit_log (
    id bigint NOT NULL DEFAULT nextval('audit_log_id_seq'),
    organisation integer NOT NULL REFERENCES organisation(id),
    at timestamptz NOT NULL DEFAULT now(),
    staff_user integer REFERENCES staff_user(id),
    role varchar(20) NOT NULL,
    care_unit integer REFERENCES care_unit(id),
    patient integer NOT NULL REFERENCES patient(id),
    what varchar(100) NOT NULL,
    api_token integer REFERENCES api_token(id),
    CONSTRAINT audit_log_one_reader CHECK (num_nonnulls(staff_user, api_token) = 1),
    -- A partitioned table's key holds its partition key.
    PRIMARY KEY (id, at)
) PARTITION BY RANGE (at);
CREATE INDEX audit_log_patient ON audit_log (patient, at);
CREATE INDEX audit_log_staff ON audit_log (staff_user, at);
CREATE INDEX audit_log_api_token ON audit_log (api_token, at) WHERE api_token IS NOT NULL;
-- A search by period alone (the review's usual start).
CREATE INDEX audit_log_organisation_at ON audit_log (organisation, at);
CREATE TABLE audit_log_default PARTITION OF audit_log DEFAULT;

-- A partition for every month the log has rows in, and for this month and the next three.
DO $$
DECLARE
    first_month date := date_trunc('month', least(
        coalesce((SELECT min(at) FROM audit_log_unpartitioned), now()), now()) AT TIME ZONE 'UTC')::date;
    last_month date := (date_trunc('month', now() AT TIME ZONE 'UTC') + interval '3 months')::date;
    month date;
BEGIN
    month := first_month;
    WHILE month <= last_month LOOP
        EXECUTE format('CREATE TABLE %I PARTITION OF audit_log FOR VALUES FROM (%L) TO (%L)',
                       'audit_log_' || to_char(month, 'YYYY_MM'),
                       (month::timestamp AT TIME ZONE 'UTC'),
                       ((month + interval '1 month')::timestamp AT TIME ZONE 'UTC'));
        month := (month + interval '1 month')::date;
    END LOOP;
END $$;

INSERT INTO audit_log (id, organisation, at, staff_user, role, care_unit, patient, what, api_token)
SELECT id, organisation, at, staff_user, role, care_unit, patient, what, api_token FROM audit_log_unpartitioned;
ALTER SEQUENCE audit_log_id_seq OWNED BY audit_log.id;
DROP TABLE audit_log_unpartitioned;

CREATE TABLE audit_review (
    id serial PRIMARY KEY,
    organisation integer NOT NULL REFERENCES organisation(id),
    -- NULL: prepared by the monthly reminder job (audit/tasks.py) for a reviewer to take up.
    reviewer integer REFERENCES staff_user(id),
    created_at timestamptz NOT NULL DEFAULT now(),
    -- routine: the recurring random-sample review; suspicion: a review on suspicion (misstanke).
    reason varchar(20) NOT NULL CHECK (reason IN ('routine', 'suspicion')),
    period_from date NOT NULL,
    period_until date NOT NULL,
    selection jsonb NOT NULL,        -- the criteria as chosen (the search and the selections)
    selection_text text NOT NULL,    -- the same in words, as the documentation shows it
    status varchar(10) NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
    conclusion text NOT NULL DEFAULT '',
    closed_at timestamptz,
    closed_by integer REFERENCES staff_user(id),
    CHECK (period_from <= period_until),
    CHECK ((status = 'closed') = (closed_at IS NOT NULL AND closed_by IS NOT NULL))
);
CREATE INDEX audit_review_organisation ON audit_review (organisation, created_at);

CREATE TABLE audit_review_item (
    id bigserial PRIMARY KEY,
    review integer NOT NULL REFERENCES audit_review(id),
    audit_id bigint NOT NULL,  -- the access (audit_log.id); a copy follows, as the log is pruned
    at timestamptz NOT NULL,
    staff_user integer REFERENCES staff_user(id),
    api_token integer REFERENCES api_token(id),
    role varchar(20) NOT NULL,
    care_unit integer REFERENCES care_unit(id),
    patient integer NOT NULL REFERENCES patient(id),
    what varchar(100) NOT NULL,
    flags text[] NOT NULL DEFAULT '{}',  -- the selections that flagged it
    verdict varchar(10) CHECK (verdict IN ('ok', 'remark')),  -- utan / med anmärkning; NULL: not yet
    comment text NOT NULL DEFAULT '',
    judged_by integer REFERENCES staff_user(id),
    judged_at timestamptz,
    UNIQUE (review, audit_id),
    CHECK (verdict IS DISTINCT FROM 'remark' OR comment <> ''),
    CHECK ((verdict IS NULL) = (judged_at IS NULL))
);

CREATE TABLE audit_log_use (
    id bigserial PRIMARY KEY,
    organisation integer NOT NULL REFERENCES organisation(id),
    staff_user integer NOT NULL REFERENCES staff_user(id),
    at timestamptz NOT NULL DEFAULT now(),
    -- search, review, review_export, extract
    kind varchar(20) NOT NULL,
    patient integer REFERENCES patient(id),
    detail text NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_use_organisation ON audit_log_use (organisation, at);
"""


forwards = sql_migration(ID, DESCRIPTION, SQL)
