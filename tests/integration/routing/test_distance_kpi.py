"""The driving KPI: each past technician-day's planned route is walked and kept with its km split
by municipality, the km a technician enters for a day take the plan's place, and the page's
figures are km per device on loan per month and per municipality, "inte mätt" where nothing is
known."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from backend import db
from backend.routing import kpi
from backend.routing.distances import straight_line_matrix
from backend.settings import DEFAULT_ROUTING_DEPOT
from backend.workdays import today
from tests.support.factories import add_device, add_patient, add_work_order, delete_world, make_world

VASTERAS_HOME = (59.6162, 16.60)
KOPING_HOME = (59.5140, 15.9926)


@pytest.fixture
async def world(database):
    world = await make_world()
    world.koping = await db.fetchval(
        "INSERT INTO cost_bearer (organisation, name, kind, code) VALUES ($1, 'Köping', 'municipality', 'K1') RETURNING id",
        world.organisation)
    world.in_vasteras = await add_patient(world)
    world.in_koping = await add_patient(world, given="Karl")
    await db.execute("UPDATE patient SET latitude = $2, longitude = $3 WHERE id = $1", world.in_vasteras, *VASTERAS_HOME)
    await db.execute("UPDATE patient SET latitude = $2, longitude = $3, cost_bearer = $4, city = 'Köping' WHERE id = $1",
                     world.in_koping, *KOPING_HOME, world.koping)
    for patient, n in ((world.in_vasteras, 3), (world.in_koping, 2)):
        for _ in range(n):
            await add_device(world, holder=patient)  # on loan since 2023-03-01
    world.device = await add_device(world, holder=None)
    world.day = today() - timedelta(days=3)
    yield world
    await delete_world(world)


async def plan(world, day: date, *patients: int) -> list[int]:
    return [await add_work_order(world, world.device, assignee=world.staff["technician"], planned=day, patient=p,
                                 position=n) for n, p in enumerate(patients, start=1)]


async def cancel(orders: list[int]) -> None:
    await db.execute("UPDATE work_order SET status = 'cancelled', cancel_reason = 'Brukaren nåddes inte' "
                     "WHERE id = ANY($1::int[])", orders)


def legs(*places) -> list[float]:
    m = straight_line_matrix(list(places))
    return [m.km[i][i + 1] for i in range(len(places) - 1)]


async def test_a_past_day_is_walked_in_its_order_and_its_km_split_by_the_municipality_each_leg_drove_to(world):
    await plan(world, world.day, world.in_vasteras, world.in_koping)
    await cancel(await plan(world, world.day, world.in_vasteras))  # makulerad: not driven
    assert await kpi.record_route_days(world.organisation, world.day, world.day) == 1
    row = await db.fetchrow("SELECT * FROM route_day WHERE staff_user = $1 AND day = $2",
                            world.staff["technician"], world.day)
    to_a, a_to_b, home = legs(DEFAULT_ROUTING_DEPOT, VASTERAS_HOME, KOPING_HOME, DEFAULT_ROUTING_DEPOT)
    assert row["visits"] == 2 and row["visits_without_place"] == 0
    assert float(row["planned_km"]) == pytest.approx(to_a + a_to_b + home, abs=0.2)
    split = row["km_by_cost_bearer"]
    split = __import__("json").loads(split) if isinstance(split, str) else split
    assert split[str(world.cost_bearer)] == pytest.approx(to_a, abs=0.1)
    assert split[str(world.koping)] == pytest.approx(a_to_b + home, abs=0.1)


async def test_a_visit_without_coordinates_is_counted_but_not_walked(world):
    nowhere = await add_patient(world, given="Utan")
    await db.execute("UPDATE patient SET latitude = NULL, longitude = NULL WHERE id = $1", nowhere)
    await plan(world, world.day, world.in_vasteras, nowhere)
    await kpi.record_route_days(world.organisation, world.day, world.day)
    row = await db.fetchrow("SELECT * FROM route_day WHERE staff_user = $1", world.staff["technician"])
    there, back = legs(DEFAULT_ROUTING_DEPOT, VASTERAS_HOME, DEFAULT_ROUTING_DEPOT)
    assert row["visits"] == 2 and row["visits_without_place"] == 1
    assert float(row["planned_km"]) == pytest.approx(there + back, abs=0.2)


async def test_walking_again_replaces_the_kept_day_and_drops_a_day_whose_visits_are_gone(world):
    orders = await plan(world, world.day, world.in_koping)
    await kpi.record_route_days(world.organisation, world.day, world.day)
    await cancel(orders)
    assert await kpi.record_route_days(world.organisation, world.day, world.day) == 0
    assert await db.fetchval("SELECT count(*) FROM route_day WHERE organisation = $1", world.organisation) == 0


async def test_the_nightly_fill_backfills_once_then_walks_only_the_last_two_weeks_again(world):
    long_ago = today() - timedelta(days=200)
    await plan(world, long_ago, world.in_koping)
    await plan(world, world.day, world.in_koping)
    assert await kpi.record_past_days(world.organisation, today()) == 2
    await plan(world, long_ago, world.in_vasteras)  # a change to an old day is not walked again
    await kpi.record_past_days(world.organisation, today())
    visits = await db.fetchval("SELECT visits FROM route_day WHERE organisation = $1 AND day = $2",
                               world.organisation, long_ago)
    assert visits == 1
    await plan(world, today(), world.in_koping)  # today is not over: not kept
    await kpi.record_past_days(world.organisation, today())
    assert await db.fetchval("SELECT count(*) FROM route_day WHERE organisation = $1 AND day = $2",
                             world.organisation, today()) == 0


async def test_entered_km_take_the_plans_place_and_are_split_in_its_shares(world):
    await plan(world, world.day, world.in_vasteras, world.in_koping)
    await kpi.record_route_days(world.organisation, world.day, world.day)
    await kpi.enter_mileage(world.staff["technician"], world.organisation, world.day, Decimal("100"), today=today())
    await kpi.enter_mileage(world.staff["technician"], world.organisation, world.day, Decimal("120,0".replace(",", ".")),
                            today=today())  # a correction replaces the first entry
    figures = await kpi.distance_kpi(world.organisation, today(), month=world.day)
    month = next(m for m in figures["months"] if m["month"] == world.day.replace(day=1))
    planned = float(month["planned_km"])
    assert month["recorded_km"] == Decimal("120.0") and month["km"] == Decimal("120.0")
    assert month["devices"] == 5 and month["ratio"] == Decimal("24.000")
    assert month["recorded_days"] == 1 and month["planned_days"] == 1 and month["over_target"]
    rows = {r["name"]: r for r in figures["municipalities"]["rows"]}
    to_a, a_to_b, home = legs(DEFAULT_ROUTING_DEPOT, VASTERAS_HOME, KOPING_HOME, DEFAULT_ROUTING_DEPOT)
    assert float(rows["Köping"]["km"]) == pytest.approx(120 * (a_to_b + home) / planned, abs=0.2)
    assert float(rows["Testkommun"]["km"]) == pytest.approx(120 * to_a / planned, abs=0.2)
    assert rows["Köping"]["devices"] == 2 and rows["Testkommun"]["devices"] == 3
    assert rows["Köping"]["ratio"] == (rows["Köping"]["km"] / 2).quantize(Decimal("0.001"))


async def test_km_entered_for_a_day_without_a_plan_count_for_the_month_but_are_not_split(world):
    await kpi.enter_mileage(world.staff["technician"], world.organisation, world.day, Decimal("42.5"), today=today())
    figures = await kpi.distance_kpi(world.organisation, today(), month=world.day)
    month = next(m for m in figures["months"] if m["month"] == world.day.replace(day=1))
    assert month["km"] == Decimal("42.5") and month["planned_km"] is None
    assert figures["municipalities"]["unsplit_km"] == Decimal("42.5")
    assert all(r["km"] is None for r in figures["municipalities"]["rows"])


async def test_a_month_with_nothing_driven_or_planned_is_not_measured(world):
    figures = await kpi.distance_kpi(world.organisation, today())
    assert len(figures["months"]) in (11, 12)  # the current month once a day of it has passed
    assert all(m["km"] is None and m["ratio"] is None for m in figures["months"])
    assert figures["target"] == Decimal("0.40")
    await kpi.set_target(world.organisation, Decimal("0.35"))
    assert (await kpi.distance_kpi(world.organisation, today()))["target"] == Decimal("0.35")


@pytest.mark.parametrize("day_offset, km, field", [(1, "10", "dag"), (-15, "10", "dag"), (0, "-1", "km"),
                                                    (0, "2000.1", "km")])
async def test_entered_km_must_be_a_sensible_figure_for_a_recent_day(world, day_offset, km, field):
    with pytest.raises(kpi.MileageRefused) as refused:
        await kpi.enter_mileage(world.staff["technician"], world.organisation, today() + timedelta(days=day_offset),
                                Decimal(km), today=today())
    assert refused.value.field == field
    assert await db.fetchval("SELECT count(*) FROM mileage_entry WHERE organisation = $1", world.organisation) == 0


async def test_devices_on_loan_are_those_lent_by_the_day_and_not_yet_returned_by_the_holders_municipality(world):
    from backend.devices import loans

    returned = await add_device(world, holder=None)
    await db.execute("INSERT INTO device_loan (organisation, device, patient, from_date, to_date) "
                     "VALUES ($1, $2, $3, '2024-01-10', '2024-02-20')", world.organisation, returned, world.in_koping)
    counts = await loans.on_loan_counts(world.organisation, [date(2023, 2, 28), date(2024, 1, 9), date(2024, 1, 10),
                                                             date(2024, 2, 19), date(2024, 2, 20)])
    assert counts[date(2023, 2, 28)] == {}  # the factory's loans begin 2023-03-01
    assert counts[date(2024, 1, 9)] == {world.cost_bearer: 3, world.koping: 2}
    assert counts[date(2024, 1, 10)] == counts[date(2024, 2, 19)] == {world.cost_bearer: 3, world.koping: 3}
    assert counts[date(2024, 2, 20)] == {world.cost_bearer: 3, world.koping: 2}  # returned that day


async def test_the_nightly_job_keeps_the_past_days_of_every_organisation(world):
    from backend.jobs import queue
    from backend.routing import tasks

    await plan(world, world.day, world.in_koping)
    assert "routing.record_route_days" in queue.LABELS and "backend.routing.tasks" in queue.TASK_MODULES
    assert await tasks.record_route_days(0) >= 1
    assert await db.fetchval("SELECT visits FROM route_day WHERE organisation = $1 AND day = $2",
                             world.organisation, world.day) == 1
