"""Indexes for daily queries that their plans showed reading far more than they keep (issue 20).

work_order_completed: the orders completed since a day, per organisation. How long a visit takes
(routing/durations.learned, seen on Min dag; kept ten minutes per process) and the service-level
clocks (workorders/lists.completed_between) read the last year's completed orders; by
(organisation, status) they read every completed order the organisation ever had and dropped
those before the year (at 4 regions of scale 1: 29,581 rows read, 13 of the day page's 16 ms),
a number that grows with every year kept, where this reads the year alone.

work_order_planned_day: the orders planned for a day, per organisation (workorders/planning.
route_orders: the days walked on Min dag and on the coordinator's day view). The technician
comes from unnesting assignee and second_assignee, which no index serves, so the plan took
(assignee, planned_date) for every technician of every region and ANDed it with every order the
organisation ever had by (organisation, status): 32,660 index entries at scale 1 for a day of
72 orders, growing with history. This reads the organisation's day.
"""

from backend.db import sql_migration

ID = "2026-12-05T09:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "daily query indexes"

SQL = """
CREATE INDEX IF NOT EXISTS work_order_completed ON work_order (organisation, completed_at)
    WHERE status = 'completed';
CREATE INDEX IF NOT EXISTS work_order_planned_day ON work_order (organisation, planned_date);
"""


forwards = sql_migration(ID, DESCRIPTION, SQL)
