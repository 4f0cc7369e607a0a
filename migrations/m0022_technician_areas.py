"""Technician areas: the municipalities (cost bearers) a technician usually covers. FU production
assigns a generated order to a technician whose area holds the patient's cost bearer (or, for a
device in the depot, its owner), and the due list filters by them."""

from backend.db import sql_migration

ID = "2026-12-02T09:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "technician areas"

SQL = """
CREATE TABLE staff_area (
    staff_user integer NOT NULL REFERENCES staff_user(id),
    cost_bearer integer NOT NULL REFERENCES cost_bearer(id),
    PRIMARY KEY (staff_user, cost_bearer)
);
CREATE INDEX staff_area_cost_bearer ON staff_area (cost_bearer);
"""


forwards = sql_migration(ID, DESCRIPTION, SQL)
