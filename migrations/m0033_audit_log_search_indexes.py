"""The access-log review searches by care unit and by kind of access too (issue 18): without their
own indexes those searches read every access of the period and drop most (a care unit's month at
scale 1 took ~30 ms, and a rare kind the same). On the partitioned audit_log each index is made on
every month's partition and on those the retention job makes ahead."""

from backend.db import sql_migration

ID = "2026-12-04T13:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "audit log search indexes"

SQL = """
CREATE INDEX audit_log_care_unit ON audit_log (care_unit, at) WHERE care_unit IS NOT NULL;
CREATE INDEX audit_log_what ON audit_log (organisation, what, at);
"""


forwards = sql_migration(ID, DESCRIPTION, SQL)
