"""FU orders generated from the devices' schedules (maintenance's generation), and what FU
production reads of a device's FU orders: the last done, the open one, the last cancelled, and how
many were overdue at a month's end.

`insert_generated` writes a whole batch in one statement: numbered from the organisation's counter
(taken under its row lock, as `service.next_number` takes it for one order), each with its "created"
event (naming the suggested technician, day and window). The unique index on (device, fu_schedule,
fu_due_date) of the orders not cancelled makes a second insert of the same FU do nothing (ON
CONFLICT DO NOTHING), so two runs at once, or a retried run, never make a double.
"""

from __future__ import annotations

from datetime import date

from backend import db
from backend.accounts.service import staff_name
from backend.db import Sql, raw
from backend.workorders import service
from backend.workorders.rules import OPEN_STATUSES
from backend.workorders.tables import TYPE_LABELS, WorkOrderType

GENERATED = "generated"  # work_order.channel of a generated FU


def fu_order_state(device: Sql, schedule: Sql, unscheduled: Sql) -> Sql:
    """The device's FU orders for the schedule `schedule`, as a row source that always has one row
    (`CROSS JOIN LATERAL (:orders) o`): last_completed (the day the latest was completed, Stockholm),
    open_order, open_number, open_status, open_planned (the open one, newest first; NULL for none),
    cancelled_at, cancel_reason, cancelled_due (the latest cancelled one). An FU order without a
    schedule (made by hand, or before generation) counts as the schedule's when `unscheduled` (a
    boolean expression: the schedule's checklist is the yearly "fu") holds."""
    return Sql(
        """
        SELECT max((fo.completed_at AT TIME ZONE 'Europe/Stockholm')::date) FILTER (WHERE fo.status = 'completed')
                   AS last_completed,
               (array_agg(fo.id ORDER BY fo.received_at DESC, fo.id DESC) FILTER (WHERE fo.status = ANY(:open)))[1]
                   AS open_order,
               (array_agg(fo.number ORDER BY fo.received_at DESC, fo.id DESC)
                   FILTER (WHERE fo.status = ANY(:open)))[1] AS open_number,
               (array_agg(fo.status ORDER BY fo.received_at DESC, fo.id DESC)
                   FILTER (WHERE fo.status = ANY(:open)))[1] AS open_status,
               (array_agg(fo.planned_date ORDER BY fo.received_at DESC, fo.id DESC)
                   FILTER (WHERE fo.status = ANY(:open)))[1] AS open_planned,
               max(fo.cancelled_at) FILTER (WHERE fo.status = 'cancelled') AS cancelled_at,
               (array_agg(fo.cancel_reason ORDER BY fo.cancelled_at DESC) FILTER (WHERE fo.status = 'cancelled'))[1]
                   AS cancel_reason,
               (array_agg(fo.fu_due_date ORDER BY fo.cancelled_at DESC) FILTER (WHERE fo.status = 'cancelled'))[1]
                   AS cancelled_due
        FROM work_order fo
        WHERE fo.device = :device AND fo.type = 'maintenance'
          AND (fo.fu_schedule = :schedule OR (fo.fu_schedule IS NULL AND :unscheduled))
        """,
        open=[s.value for s in OPEN_STATUSES], device=device, schedule=schedule, unscheduled=unscheduled)


async def fu_backlog(organisation_id: int, month_ends: list[date], today: date) -> dict:
    """Underhållsskuld from the FU orders: at the end of each day in `month_ends`, how many were due
    by then and neither completed nor cancelled by then (an order made later for an FU due by then
    counts too: the FU was overdue); and now, the open ones due before `today`."""
    row = await db.fetchrow(
        """
        SELECT (SELECT coalesce(array_agg(n ORDER BY e), '{}') FROM (
                    SELECT m.e, count(w.id) AS n
                    FROM unnest($2::date[]) m(e)
                    LEFT JOIN work_order w ON w.organisation = $1 AND w.type = 'maintenance'
                        AND coalesce(w.fu_due_date, w.finish_due) <= m.e
                        AND (w.completed_at IS NULL OR w.completed_at >= (m.e + 1)::timestamp AT TIME ZONE 'Europe/Stockholm')
                        AND (w.cancelled_at IS NULL OR w.cancelled_at >= (m.e + 1)::timestamp AT TIME ZONE 'Europe/Stockholm')
                    GROUP BY m.e) x) AS ends,
               (SELECT count(*) FROM work_order w WHERE w.organisation = $1 AND w.type = 'maintenance'
                   AND w.status = ANY($4::text[]) AND coalesce(w.fu_due_date, w.finish_due) < $3) AS now
        """,
        organisation_id, sorted(month_ends), today, [s.value for s in OPEN_STATUSES])
    return {"month_ends": dict(zip(sorted(month_ends), row["ends"])), "now": row["now"]}


async def _counter(organisation_id: int, year: int) -> int:
    """The organisation's last order number of `year`, its counter row locked until the caller's
    transaction ends (created as `service.next_number` creates it, if this is the year's first)."""
    last = await db.fetchval("SELECT last_number FROM work_order_counter WHERE organisation = $1 AND year = $2 "
                             "FOR UPDATE", organisation_id, year)
    if last is None:
        await service.start_counter(organisation_id, year)
        return await _counter(organisation_id, year)
    return last


async def insert_generated(organisation_id: int, candidates: Sql, *, year: int, actor_id: int | None) -> dict:
    """Create an FU order (type maintenance, channel generated) for each row of `candidates`, a row
    source with device_id, patient, fu_schedule, fu_due_date, planned_date, window_start,
    window_end, assignee (NULL: the order stays new, unplanned by anyone), description and
    already_ordered (true: the FU has an open order already; counted, not made); the due date is
    also its finish_due. Rows whose FU exists already (not cancelled) are left out by the unique
    index. Must run inside the caller's transaction: the counter stays locked until it ends, so
    concurrent batches are numbered one after the other, and a batch that waited sees the orders
    the other made. Returns due (the rows), candidates (not already ordered), created, unassigned,
    first_planned, last_planned."""
    if not db.in_transaction():
        raise RuntimeError("insert_generated needs the caller's transaction")
    last = await _counter(organisation_id, year)
    label = TYPE_LABELS[WorkOrderType.maintenance]
    row = await db.fetchrow(Sql(
        """
        WITH due AS MATERIALIZED (:candidates), cand AS (
            SELECT c.*, row_number() OVER (ORDER BY c.device_id, c.fu_schedule, c.fu_due_date) AS n
            FROM due c WHERE NOT c.already_ordered
        ), ins AS (
            INSERT INTO work_order (organisation, number, type, status, channel, device, patient, description,
                                    assignee, planned_date, window_start, window_end, received_at, finish_due,
                                    fu_schedule, fu_due_date, updated_at)
            SELECT :org, 'AO-' || :year::int || '-' || lpad((:last::int + cand.n)::text,
                                                             greatest(6, length((:last::int + cand.n)::text)), '0'),
                   'maintenance', CASE WHEN cand.assignee IS NULL THEN 'new' ELSE 'planned' END, :channel,
                   cand.device_id, cand.patient, cand.description, cand.assignee, cand.planned_date,
                   cand.window_start, cand.window_end, now(), cand.fu_due_date, cand.fu_schedule,
                   cand.fu_due_date, now()
            FROM cand ORDER BY cand.n
            ON CONFLICT (device, fu_schedule, fu_due_date) WHERE fu_schedule IS NOT NULL AND status <> 'cancelled'
            DO NOTHING
            RETURNING id, assignee, planned_date, window_start, window_end
        ), events AS (
            INSERT INTO work_order_event (work_order, staff_user, kind, detail)
            SELECT ins.id, :actor, 'created',
                   :created || CASE WHEN ins.assignee IS NULL THEN '' ELSE
                       '. Förslag: ' || :technician || ', ' || to_char(ins.planned_date, 'YYYY-MM-DD') || ' '
                       || to_char(ins.window_start, 'HH24:MI') || '–' || to_char(ins.window_end, 'HH24:MI') END
            FROM ins ORDER BY ins.id
        )
        SELECT (SELECT count(*) FROM due) AS due, (SELECT count(*) FROM cand) AS candidates, count(*) AS created,
               count(*) FILTER (WHERE assignee IS NULL) AS unassigned,
               min(planned_date) AS first_planned, max(planned_date) AS last_planned
        FROM ins
        """,
        candidates=candidates, org=organisation_id, year=year, last=last, channel=GENERATED, actor=actor_id,
        created=f"{label}, genererad från FU-schemat", technician=staff_name(raw("ins.assignee"))))
    if row["candidates"]:
        # Every number given out is used or skipped for good: a skipped one (its FU existed) is a gap.
        await db.execute("UPDATE work_order_counter SET last_number = $3 WHERE organisation = $1 AND year = $2",
                         organisation_id, year, last + row["candidates"])
    return dict(row)
