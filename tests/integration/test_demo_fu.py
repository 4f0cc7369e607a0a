"""The demo region's FU production: a schedule for every FU category as docs/PRODUCT.md has them,
technicians with areas covering every municipality, FU orders that count as generated (one per
device, schedule and due date), and a backlog of overdue FU without orders, as a real centre has."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from backend import db
from backend.accounts import areas
from backend.demo import staff as demo_staff
from backend.demo.service import delete_organisation, load_demo

TODAY = date(2026, 3, 2)  # a Monday
SCALE = 0.05


@pytest.fixture(scope="module")
async def demo(database):
    summary = await load_demo(scale=SCALE, seed=1, today=TODAY)
    try:
        yield summary
    finally:
        await delete_organisation(summary.organisation_id)


async def test_every_fu_category_has_its_schedule_as_the_product_brief_says(demo):
    rows = await db.fetch(
        "SELECT c.code, s.interval_days, s.before_new_user, s.checklist_code, s.name FROM fu_schedule s "
        "JOIN device_category c ON c.id = s.category WHERE s.organisation = $1 AND s.active", demo.organisation_id)
    schedules = {r["code"]: (r["interval_days"], r["before_new_user"]) for r in rows}
    assert schedules == {
        "powered_wheelchair": (365, True), "scooter": (365, False), "ceiling_lift": (365, True),
        "mobile_lift": (365, False), "lift_sling": (182, False), "care_bed": (365, True), "bed_lift": (365, False),
        "pressure_mattress": (730, False), "standing_aid": (730, False), "communication_device": (365, False),
    }
    assert {r["checklist_code"] for r in rows} == {"fu"}
    assert demo.counts["fu_schedule"] == 10


async def test_the_field_technicians_cover_every_municipality_and_the_workshop_none(demo):
    covering = await areas.technicians_by_cost_bearer(demo.organisation_id)
    municipalities = {r["id"]: r["name"] for r in await db.fetch(
        "SELECT id, name FROM cost_bearer WHERE organisation = $1 AND kind = 'municipality'", demo.organisation_id)}
    assert set(covering) == set(municipalities)
    district_names = {m for district in demo_staff.DISTRICT_MUNICIPALITIES for m in district}
    assert district_names == set(municipalities.values())
    technicians = await db.fetchval("SELECT count(*) FROM staff_user WHERE organisation = $1 AND role = 'technician'",
                                    demo.organisation_id)
    with_area = {t for techs in covering.values() for t in techs}
    assert 0 < len(with_area) < technicians  # the workshop's technicians drive no district


async def test_the_demos_fu_orders_count_as_generated_once_per_device_schedule_and_due_date(demo):
    org = demo.organisation_id
    assert await db.fetchval(
        "SELECT count(*) FROM work_order WHERE organisation = $1 AND type = 'maintenance' "
        "AND (fu_schedule IS NULL OR fu_due_date IS NULL)", org) == 0
    # Each order names the schedule of its device's category, and falls due on a working day.
    assert await db.fetchval(
        """
        SELECT count(*) FROM work_order w JOIN device d ON d.id = w.device JOIN article a ON a.id = d.article
        JOIN fu_schedule s ON s.id = w.fu_schedule
        WHERE w.organisation = $1 AND (s.category <> a.category OR extract(isodow FROM w.fu_due_date) > 5)
        """, org) == 0
    assert await db.fetchval(
        "SELECT count(*) FROM (SELECT 1 FROM work_order WHERE organisation = $1 AND fu_schedule IS NOT NULL "
        "AND status <> 'cancelled' GROUP BY device, fu_schedule, fu_due_date HAVING count(*) > 1) x", org) == 0
    # An open FU order's due date is the device's next FU on the last working day on or before it.
    assert await db.fetchval(
        """
        SELECT count(*) FROM work_order w JOIN device d ON d.id = w.device
        WHERE w.organisation = $1 AND w.type = 'maintenance' AND w.status IN ('new', 'planned')
          AND NOT (w.fu_due_date <= d.next_fu_date AND w.fu_due_date > d.next_fu_date - 5)
        """, org) == 0


async def test_the_backlog_is_overdue_fu_mostly_without_orders_hundreds_at_full_scale(demo):
    counts = await db.fetchrow(
        """
        SELECT count(*) AS overdue,
               count(*) FILTER (WHERE NOT EXISTS (
                   SELECT 1 FROM work_order w WHERE w.device = d.id AND w.type = 'maintenance'
                   AND w.status NOT IN ('completed', 'cancelled'))) AS without_order
        FROM device d WHERE d.organisation = $1 AND d.status = 'in_use' AND d.next_fu_date < $2
        """, demo.organisation_id, TODAY)
    without, overdue = counts["without_order"], counts["overdue"]
    assert 0 < without < overdue  # some overdue FU have their order, most wait on the due list
    assert 100 <= without / SCALE <= 900  # hundreds at scale 1, not thousands


async def test_next_months_fu_is_generated_and_its_notices_are_in_the_dev_outbox(demo):
    org = demo.organisation_id
    run = await db.fetchrow("SELECT period_start, period_end, state, created, unassigned FROM fu_generation "
                            "WHERE organisation = $1", org)
    assert (run["period_start"], run["period_end"], run["state"]) == (date(2026, 4, 1), date(2026, 4, 30), "done")
    assert run["created"] > 0 and run["unassigned"] == 0  # every municipality has its technicians
    generated = await db.fetchrow(
        """
        SELECT count(*) AS n, count(*) FILTER (WHERE w.status = 'planned' AND w.assignee IS NOT NULL) AS planned,
               count(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM staff_area a JOIN patient p ON p.id = w.patient
                                                  WHERE a.staff_user = w.assignee AND a.cost_bearer = p.cost_bearer))
                   AS outside_area
        FROM work_order w WHERE w.organisation = $1 AND w.fu_due_date BETWEEN $2 AND $3
          AND w.description LIKE '%förfaller%'
        """, org, run["period_start"], run["period_end"])
    assert generated["n"] == run["created"] == generated["planned"] and generated["outside_area"] == 0
    # Every visit planned from two weeks ahead to the month's end is told of, by the patient's channel.
    notices = {r["channel"]: r["n"] for r in await db.fetch(
        "SELECT channel, count(*) AS n FROM notice WHERE organisation = $1 GROUP BY channel", org)}
    assert set(notices) <= {"letter", "sms", "email", "phone"} and {"letter", "sms"} <= set(notices)
    assert sum(notices.values()) == demo.counts["notice"] > 0
    untold = await db.fetchval(
        """
        SELECT count(*) FROM work_order w WHERE w.organisation = $1 AND w.channel = 'generated'
          AND w.status = 'planned' AND w.planned_date BETWEEN $2 AND $3
          AND NOT EXISTS (SELECT 1 FROM notice n WHERE n.work_order = w.id)
        """, org, TODAY + timedelta(days=14), run["period_end"])
    assert untold == 0
    outbox = {r["state"]: r["n"] for r in await db.fetch(
        "SELECT state, count(*) AS n FROM outbound_message WHERE organisation = $1 GROUP BY state", org)}
    assert outbox == {"delivered": demo.counts["outbound_message"]}
    assert demo.counts["outbound_message"] == sum(n for channel, n in notices.items() if channel != "phone")
