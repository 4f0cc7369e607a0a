"""Service levels and equal access (issue 17): each organisation's targets per indicator, the hourly
rate and part prices that cost a technical order, the coordinator's comments for the board report,
the board reports made in the background, and the KPI summary the job queue refreshes (one row per
counted order, booking or loan, with the dimensions the splits need; one row per indicator and month
for the dashboard)."""

from backend.db import sql_migration

ID = "2026-12-03T13:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "kpi targets, prices, board report and summary"

SQL = """
CREATE TABLE kpi_target (
    organisation integer NOT NULL REFERENCES organisation(id),
    indicator varchar(30) NOT NULL,
    target numeric(12, 3) NOT NULL CHECK (target >= 0),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organisation, indicator)
);

CREATE TABLE kpi_cost_rate (
    organisation integer PRIMARY KEY REFERENCES organisation(id),
    hourly_rate numeric(8, 2) NOT NULL CHECK (hourly_rate >= 0 AND hourly_rate <= 100000),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE kpi_part_price (
    organisation integer NOT NULL REFERENCES organisation(id),
    article integer NOT NULL REFERENCES article(id),
    price numeric(10, 2) NOT NULL CHECK (price >= 0 AND price <= 10000000),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organisation, article)
);

CREATE TABLE board_comment (
    organisation integer NOT NULL REFERENCES organisation(id),
    month date NOT NULL,
    indicator varchar(30) NOT NULL,
    comment text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organisation, month, indicator)
);

CREATE TABLE board_report (
    id bigserial PRIMARY KEY,
    organisation integer NOT NULL REFERENCES organisation(id),
    first_month date NOT NULL,
    last_month date NOT NULL CHECK (last_month >= first_month),
    status varchar(10) NOT NULL CHECK (status IN ('queued', 'done', 'failed')),
    pdf bytea,
    job bigint,  -- the queue's job making a long one (procrastinate_jobs.id); NULL when made at once
    created_at timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz
);
CREATE INDEX board_report_organisation ON board_report (organisation, id DESC);

-- One counted thing per row: hit is whether it met the indicator's rule (NULL for a plain count),
-- amount its cost (SEK) where the indicator sums one. Patient ids are kept only to count patients
-- for the small-cell rule; pages never show them.
CREATE TABLE kpi_fact (
    id bigserial PRIMARY KEY,
    organisation integer NOT NULL REFERENCES organisation(id),
    indicator varchar(30) NOT NULL,
    month date NOT NULL,
    item bigint NOT NULL,
    hit boolean,
    amount numeric(12, 2),
    patient integer,
    cost_bearer integer,
    care_unit integer,
    area integer,
    order_type varchar(20),
    staff integer,
    age_band varchar(5),
    sex varchar(1)
);
CREATE INDEX kpi_fact_month ON kpi_fact (organisation, indicator, month);

CREATE TABLE kpi_month (
    organisation integer NOT NULL REFERENCES organisation(id),
    indicator varchar(30) NOT NULL,
    month date NOT NULL,
    hits integer,
    total integer NOT NULL,
    amount numeric(14, 2),
    PRIMARY KEY (organisation, indicator, month)
);

-- The default view of each indicator's page (the last 12 months, no filter), split by each of its
-- dimensions, with the names of the keys: the page and its filter choices read these rows.
CREATE TABLE kpi_split (
    organisation integer NOT NULL REFERENCES organisation(id),
    indicator varchar(30) NOT NULL,
    dimension varchar(20) NOT NULL,
    key text,
    label text,
    hits integer,
    total integer NOT NULL,
    amount numeric(14, 2),
    patients integer NOT NULL
);
CREATE INDEX kpi_split_indicator ON kpi_split (organisation, indicator);

-- When the summary was computed, the period its splits cover, and the devices by category then.
CREATE TABLE kpi_state (
    organisation integer PRIMARY KEY REFERENCES organisation(id),
    refreshed_at timestamptz NOT NULL,
    split_first date NOT NULL,
    split_last date NOT NULL,
    categories jsonb NOT NULL DEFAULT '[]'
);
"""


forwards = sql_migration(ID, DESCRIPTION, SQL)
