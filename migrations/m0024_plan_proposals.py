"""Plan proposals: a solved plan for a period and a set of technicians, kept until the coordinator
accepts all or part of it (nothing changes on the work orders before that), with what it left out
and why, and its figures beside today's plan."""

from backend.db import sql_migration

ID = "2026-12-03T10:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "plan proposals"

SQL = """
CREATE TABLE plan_proposal (
    id serial PRIMARY KEY,
    organisation integer NOT NULL REFERENCES organisation(id),
    created_by integer REFERENCES staff_user(id),
    created_at timestamptz NOT NULL DEFAULT now(),
    first_day date NOT NULL,
    last_day date NOT NULL,
    technicians integer[] NOT NULL,
    -- proposed: nothing accepted yet; partly: some technician-days accepted; accepted: all of it.
    status varchar(10) NOT NULL DEFAULT 'proposed' CHECK (status IN ('proposed', 'partly', 'accepted')),
    kind varchar(10) NOT NULL DEFAULT 'period' CHECK (kind IN ('period', 'urgent')),
    -- The figures of the proposal and of the plan it would replace (km, hours, late, unplanned, visits).
    figures jsonb NOT NULL DEFAULT '{}',
    distance_source varchar(20) NOT NULL DEFAULT 'straight_line',
    solve_ms integer NOT NULL DEFAULT 0,
    CHECK (first_day <= last_day)
);
CREATE INDEX plan_proposal_organisation ON plan_proposal (organisation, created_at DESC);

CREATE TABLE plan_proposal_visit (
    proposal integer NOT NULL REFERENCES plan_proposal(id) ON DELETE CASCADE,
    work_order integer NOT NULL REFERENCES work_order(id),
    technician integer NOT NULL REFERENCES staff_user(id),
    day date NOT NULL,
    position smallint NOT NULL,
    starts time NOT NULL,
    ends time NOT NULL,
    arrives time NOT NULL,
    km_from_previous real NOT NULL DEFAULT 0,
    window_start time NOT NULL,
    window_end time NOT NULL,
    order_version integer NOT NULL,  -- the order as the proposal saw it: changed since, it is skipped
    accepted_at timestamptz,
    PRIMARY KEY (proposal, technician, day, position)
);
CREATE INDEX plan_proposal_visit_order ON plan_proposal_visit (work_order);

CREATE TABLE plan_proposal_unplanned (
    proposal integer NOT NULL REFERENCES plan_proposal(id) ON DELETE CASCADE,
    work_order integer NOT NULL REFERENCES work_order(id),
    reason text NOT NULL,
    PRIMARY KEY (proposal, work_order)
);
"""


forwards = sql_migration(ID, DESCRIPTION, SQL)
