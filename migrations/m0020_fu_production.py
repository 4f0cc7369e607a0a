"""FU production: work orders generated from the devices' FU schedules, at most one per device,
schedule and due date (the database refuses a second one, so two runs at once, or one run twice,
cannot make doubles); the generation runs with their progress; the organisation's automatic
generation; and the due list as last computed (a snapshot the list pages page through, refreshed
by the job queue, after each generation and on demand)."""

from backend.db import sql_migration

ID = "2026-12-02T09:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "fu production"

SQL = """
ALTER TABLE work_order
    ADD COLUMN fu_schedule integer REFERENCES fu_schedule(id),
    ADD COLUMN fu_due_date date;
-- One FU order per device, schedule and due date; a cancelled (makulerad) one leaves room for a new one.
CREATE UNIQUE INDEX work_order_fu_once ON work_order (device, fu_schedule, fu_due_date)
    WHERE fu_schedule IS NOT NULL AND status <> 'cancelled';
-- A device's FU orders (last done, the open one, the last cancelled), and the backlog's history.
CREATE INDEX work_order_fu_device ON work_order (device, fu_schedule) WHERE type = 'maintenance';
CREATE INDEX work_order_fu_organisation ON work_order (organisation) WHERE type = 'maintenance';

-- One generation run: who started it (NULL with automatic = true: the daily job), for which period
-- and filters, and how far it has come. The job works through the devices in id order in batches,
-- each batch one transaction that also moves last_device on, so a retried job goes on from there.
CREATE TABLE fu_generation (
    id serial PRIMARY KEY,
    organisation integer NOT NULL REFERENCES organisation(id),
    staff_user integer REFERENCES staff_user(id),
    actor_name varchar(200) NOT NULL,
    automatic boolean NOT NULL DEFAULT false,
    period_start date NOT NULL,
    period_end date NOT NULL,
    include_overdue boolean NOT NULL DEFAULT false,
    cost_bearer integer REFERENCES cost_bearer(id),
    category integer REFERENCES device_category(id),
    state varchar(20) NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'running', 'done', 'failed')),
    total_devices integer NOT NULL DEFAULT 0,
    done_devices integer NOT NULL DEFAULT 0,
    last_device integer NOT NULL DEFAULT 0,
    created integer NOT NULL DEFAULT 0,
    existing integer NOT NULL DEFAULT 0,
    unassigned integer NOT NULL DEFAULT 0,
    first_planned date,
    last_planned date,
    error text NOT NULL DEFAULT '',
    job_id bigint,
    created_at timestamptz NOT NULL DEFAULT now(),
    started_at timestamptz,
    finished_at timestamptz,
    CHECK (period_start <= period_end)
);
CREATE INDEX fu_generation_organisation ON fu_generation (organisation, id DESC);

-- Automatic generation: each day, what falls due within days_ahead (one row per organisation).
CREATE TABLE fu_auto_generation (
    organisation integer PRIMARY KEY REFERENCES organisation(id),
    active boolean NOT NULL DEFAULT false,
    days_ahead integer NOT NULL DEFAULT 35 CHECK (days_ahead BETWEEN 15 AND 365),
    last_run_on date,
    changed_at timestamptz NOT NULL DEFAULT now()
);

-- The due list as last computed: one row per device and FU schedule that applies to it, either on
-- the calendar (a device on loan: due_date) or before its next user (a device in the depot).
CREATE TABLE fu_due (
    organisation integer NOT NULL REFERENCES organisation(id),
    device integer NOT NULL,
    fu_schedule integer NOT NULL,
    kind varchar(10) NOT NULL CHECK (kind IN ('calendar', 'new_user')),
    individnummer varchar(20) NOT NULL,
    category integer,
    cost_bearer integer,
    checklist_code varchar(40) NOT NULL,
    schedule_name varchar(100) NOT NULL,
    interval_days integer NOT NULL,
    last_done date,
    due_date date,
    open_order integer,
    cancelled_at timestamptz,
    cancel_reason text,
    PRIMARY KEY (device, fu_schedule)
);
CREATE INDEX fu_due_list ON fu_due (organisation, kind, due_date, individnummer);
CREATE INDEX fu_due_number ON fu_due (organisation, individnummer text_pattern_ops);
-- A filtered list, earliest due first, without walking past every other category's or municipality's.
CREATE INDEX fu_due_category ON fu_due (organisation, kind, category, due_date);
CREATE INDEX fu_due_cost_bearer ON fu_due (organisation, kind, cost_bearer, due_date);
CREATE INDEX fu_due_checklist ON fu_due (organisation, kind, checklist_code, due_date);
CREATE INDEX fu_due_without_order ON fu_due (organisation, kind, due_date) WHERE open_order IS NULL;

-- The due list's counts, computed with it: what was overdue then in one row per category,
-- municipality, checklist and whether it has an order (dated -infinity), what falls due later by
-- the day (a check before the next user: no date). The list's counts read these few rows instead of
-- every device, however large the backlog.
CREATE TABLE fu_due_count (
    id bigserial PRIMARY KEY,
    organisation integer NOT NULL REFERENCES organisation(id),
    kind varchar(10) NOT NULL CHECK (kind IN ('calendar', 'new_user')),
    category integer,
    cost_bearer integer,
    checklist_code varchar(40) NOT NULL,
    overdue boolean NOT NULL,
    due_date date,
    ordered boolean NOT NULL,
    devices integer NOT NULL
);
CREATE INDEX fu_due_count_list ON fu_due_count (organisation, kind, due_date);

-- When the due list was last computed, with what it leaves out, its schedules (the filter's
-- choices) and the backlog's trend at each month's end.
CREATE TABLE fu_due_state (
    organisation integer PRIMARY KEY REFERENCES organisation(id),
    refreshed_at timestamptz NOT NULL DEFAULT now(),
    excluded jsonb NOT NULL DEFAULT '{}',
    schedules jsonb NOT NULL DEFAULT '[]',
    backlog jsonb NOT NULL DEFAULT '[]'
);
"""


forwards = sql_migration(ID, DESCRIPTION, SQL)
