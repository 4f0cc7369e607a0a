"""Technicians as resources: their days from hours, holidays, closed days and absences; the register's
checks; how long visits take; and a technician's planned day with its warnings."""

from __future__ import annotations

import asyncio

from datetime import date, time, timedelta

import pytest

from backend import db, settings
from backend.routing import days as routing_days
from backend.routing import durations, resources
from backend.routing.resources import ResourceError, ResourceInput
from tests.support.factories import add_device, add_patient, add_work_order, delete_world, make_world

MONDAY = date(2027, 3, 1)
SALA = (59.9211, 16.6056)


@pytest.fixture
async def world(database):
    world = await make_world()
    yield world
    await delete_world(world)


def described(**changes) -> ResourceInput:
    data = dict(start_label="Hemma i Sala", start=SALA, end_label=None, end=None, lunch_earliest=time(11),
                lunch_latest=time(12, 30), lunch_minutes=45, max_drive_km=150,
                hours={0: (time(7), time(15)), 2: (time(9), time(17, 30))}, skills=[])
    data.update(changes)
    return ResourceInput(**data)


async def test_a_technician_nobody_described_works_the_defaults_from_the_depot(world):
    tech = world.staff["technician"]
    week = [MONDAY + timedelta(days=i) for i in range(7)]
    [t] = await resources.technicians(world.organisation, [tech], week)
    assert t.start_place == t.end_place == settings.routing_depot()
    assert [s.day for s in t.shifts] == week[:5]
    monday = t.shifts[0]
    assert (monday.start, monday.end) == (7 * 60 + 30, 16 * 60)
    assert (monday.lunch_earliest, monday.lunch_latest, monday.lunch_minutes) == (690, 780, 30)
    assert t.max_drive_km is None and t.skills == frozenset()


async def test_holidays_closed_days_and_absences_take_days_out(world):
    tech = world.staff["technician"]
    await db.execute("INSERT INTO calendar_day (organisation, day, kind) VALUES ($1, $2, 'closed')",
                     world.organisation, MONDAY + timedelta(days=1))
    await resources.add_absence(world.organisation, tech, MONDAY + timedelta(days=2), MONDAY + timedelta(days=2),
                                "Kurs")
    christmas = [date(2026, 12, 24), date(2026, 12, 25), date(2026, 12, 28)]
    [t] = await resources.technicians(world.organisation, [tech], [MONDAY + timedelta(days=i) for i in range(4)]
                                      + christmas)
    assert [s.day for s in t.shifts] == [date(2026, 12, 28), MONDAY, MONDAY + timedelta(days=3)]
    [absence] = await resources.absences(tech, MONDAY)
    assert (absence["first_day"], absence["last_day"], absence["reason"]) == (MONDAY + timedelta(days=2),) * 2 + ("Kurs",)
    # A part-day absence (a morning at the dentist) shortens the day instead.
    from backend.fittings import availability
    await db.execute("INSERT INTO availability_exception (organisation, consultant, starts_at, ends_at, reason) "
                     "VALUES ($1, $2, $3, $4, 'Tandläkare')", world.organisation, tech,
                     availability.local_to_utc(MONDAY, time(7)), availability.local_to_utc(MONDAY, time(10)))
    [t] = await resources.technicians(world.organisation, [tech], [MONDAY])
    assert (t.shifts[0].start, t.shifts[0].end) == (10 * 60, 16 * 60)


async def test_a_described_technician_has_their_place_week_lunch_limit_and_skills(world):
    tech = world.staff["technician"]
    await resources.save_resource(world.organisation, tech, described(skills=[world.category]))
    everyone = {x.id: x for x in await resources.technicians(world.organisation, None, [MONDAY, MONDAY + timedelta(days=1),
                                                                                      MONDAY + timedelta(days=2)])}
    t = everyone[tech]
    assert t.start_place == t.end_place == SALA
    assert [(s.day.weekday(), s.start, s.end) for s in t.shifts] == [(0, 420, 900), (2, 540, 1050)]
    assert (t.shifts[0].lunch_earliest, t.shifts[0].lunch_latest, t.shifts[0].lunch_minutes) == (660, 750, 45)
    assert t.max_drive_km == 150 and t.skills == {world.category}
    # The other technician is untouched: the defaults.
    assert len(everyone[world.staff["other_technician"]].shifts) == 3
    # Saving again replaces the week and the skills.
    await resources.save_resource(world.organisation, tech, described(hours={4: (time(8), time(12))}, skills=[],
                                                                      end_label="HMC", end=(59.6162, 16.4981)))
    [t] = await resources.technicians(world.organisation, [tech], [MONDAY + timedelta(days=i) for i in range(5)])
    assert [s.day.weekday() for s in t.shifts] == [4] and t.skills == frozenset() and t.end_place == (59.6162, 16.4981)


async def test_a_description_that_cannot_be_planned_with_is_refused_whole(world):
    tech = world.staff["technician"]
    bad = described(start_label=" ", start=(16.5, 59.6), lunch_earliest=time(13), lunch_latest=time(12),
                    max_drive_km=0, hours={1: (time(16), time(8))})
    with pytest.raises(ResourceError) as refused:
        await resources.save_resource(world.organisation, tech, bad)
    fields = {f for f, _ in refused.value.errors}
    assert fields == {"start_label", "start_latitude", "lunch_latest", "max_drive_km", "ends_1"}
    assert await db.fetchval("SELECT count(*) FROM technician_resource WHERE staff_user = $1", tech) == 0
    with pytest.raises(ResourceError):  # not a technician
        await resources.save_resource(world.organisation, world.staff["coordinator"], described())
    with pytest.raises(ResourceError) as unknown:
        await resources.save_resource(world.organisation, tech, described(skills=[world.category + 10_000]))
    assert unknown.value.field == "skills"


async def test_durations_are_learned_from_recorded_time_else_the_default_else_built_in(world):
    estimate = await durations.estimator(world.organisation)
    assert estimate("maintenance", world.category) == durations.BUILT_IN["maintenance"]
    await durations.set_duration(world.organisation, "maintenance", None, 50, {world.category})
    await durations.set_duration(world.organisation, "repair_on_site", world.category, 75, {world.category})
    estimate = await durations.estimator(world.organisation)
    assert estimate("maintenance", world.category) == 50
    assert estimate("repair_on_site", world.category) == 75
    assert estimate("repair_on_site", world.category + 1) == durations.BUILT_IN["repair_on_site"]
    patient = await add_patient(world)
    device = await add_device(world, holder=patient)
    for minutes in (20, 30, 40, 90, 35):
        order = await add_work_order(world, device, type="maintenance", status="completed", patient=patient)
        await db.execute("UPDATE work_order SET completed_at = now() WHERE id = $1", order)
        await db.execute("INSERT INTO time_entry (work_order, minutes, added_by) VALUES ($1, $2, $3)",
                         order, minutes, world.staff["technician"])
    estimate = await durations.estimator(world.organisation, fresh=True)
    assert estimate("maintenance", world.category) == 35  # the median of five
    with pytest.raises(durations.DurationError):
        await durations.set_duration(world.organisation, "fitting", None, 50, {world.category})
    with pytest.raises(durations.DurationError):
        await durations.set_duration(world.organisation, "maintenance", None, 4, {world.category})
    await durations.set_duration(world.organisation, "maintenance", None, None, {world.category})
    assert [r["type"] for r in await durations.duration_rows(world.organisation)] == ["repair_on_site"]


async def _visit(world, tech, *, at, position, window=("08:00", "10:00"), protected=False, place=None, **columns):
    patient = await add_patient(world, protected=protected)
    if place is not None:
        await db.execute("UPDATE patient SET latitude = $2, longitude = $3 WHERE id = $1", patient, *place)
    device = await add_device(world, holder=patient)
    order = await add_work_order(world, device, assignee=tech, planned=at, patient=patient, position=position)
    await db.execute("UPDATE work_order SET window_start = $2, window_end = $3 WHERE id = $1", order,
                     time.fromisoformat(window[0]), time.fromisoformat(window[1]))
    for column, value in columns.items():
        await db.execute(f"UPDATE work_order SET {column} = $2 WHERE id = $1", order, value)
    return order


async def test_a_planned_day_walks_the_boards_order_and_says_what_is_wrong(world):
    tech = world.staff["technician"]
    await resources.save_resource(world.organisation, tech, described(hours={0: (time(8), time(16))}))
    first = await _visit(world, tech, at=MONDAY, position=1, window=("08:00", "09:00"), place=(59.93, 16.62))
    hidden = await _visit(world, tech, at=MONDAY, position=2, window=("09:00", "12:00"), protected=True,
                          place=(59.95, 16.70))
    nowhere = await _visit(world, tech, at=MONDAY, position=3, place=(None, None))
    pair = await _visit(world, tech, at=MONDAY, position=4, window=("13:00", "15:00"), technicians_needed=2)
    day = await routing_days.planned_day(world.organisation, tech, MONDAY)
    assert [v.order_id for v in day.visits] == [first, hidden, nowhere, pair]
    assert [v.order_id for v in day.routed] == [first, hidden, pair]
    assert day.shift is not None and day.route.stops[0].start >= 8 * 60
    assert day.route.stops[0].arrival > 8 * 60  # drives from Sala first
    assert len(day.places) == 5 and day.places[0] == SALA and day.places[-1] == SALA
    hidden_visit = day.visits[1]
    assert hidden_visit.protected and hidden_visit.city is None and day.visits[0].city == "Västerås"
    kinds = {(w.kind, w.order_id) for w in day.warnings}
    assert (routing_days.PROTECTED, hidden) in kinds
    assert (routing_days.NO_PLACE, nowhere) in kinds
    assert (routing_days.SECOND_MISSING, pair) in kinds
    assert any(w.startswith("Besök 2 (") and "skyddad identitet" in w for w in day.warnings)
    # Västerås is ~40 km from Sala: the last visit then home is a long drive, all counted.
    assert day.route.km > 60
    # Tuesday is not among the technician's days: the visits are still walked, with a warning.
    await _visit(world, tech, at=MONDAY + timedelta(days=1), position=1)
    tuesday = await routing_days.planned_day(world.organisation, tech, MONDAY + timedelta(days=1))
    assert tuesday.shift is None and [w.kind for w in tuesday.warnings][0] == routing_days.NOT_WORKING
    assert tuesday.route.stops[0].arrival > 0


async def test_a_second_technician_has_the_visit_in_their_day_too(world):
    tech, other = world.staff["technician"], world.staff["other_technician"]
    order = await _visit(world, tech, at=MONDAY, position=1, technicians_needed=2, second_assignee=other,
                         plan_locked=True, required_technician=tech)
    days = await routing_days.planned_days(world.organisation, [tech, other], [MONDAY])
    assert [v.order_id for v in days[(other, MONDAY)].visits] == [order]
    assert days[(other, MONDAY)].visits[0].second and not days[(tech, MONDAY)].visits[0].second
    assert not any(w.kind == routing_days.SECOND_MISSING for w in days[(tech, MONDAY)].warnings)
    # Locked and required of the first technician: neither is held against the second's day.
    assert [w.kind for d in days.values() for w in d.warnings] == []
    assert not any(w.kind == routing_days.APART for d in days.values() for w in d.warnings)
    # The second technician has an earlier visit of two hours first: they arrive far apart.
    await _visit(world, other, at=MONDAY, position=0, window=("08:00", "08:30"))
    await db.execute("UPDATE work_order SET route_position = 0 WHERE assignee = $1 AND id <> $2", other, order)
    estimate_minutes = 120
    await db.execute("INSERT INTO visit_duration (organisation, type, minutes) VALUES ($1, 'repair_on_site', $2)",
                     world.organisation, estimate_minutes)
    days = await routing_days.planned_days(world.organisation, [tech, other], [MONDAY])
    apart = [w for d in days.values() for w in d.warnings if w.kind == routing_days.APART]
    assert len(apart) == 2 and all(w.order_id == order for w in apart)
    assert "inte där samtidigt" in apart[0]


async def test_a_planned_day_takes_a_fixed_number_of_queries(world):
    tech = world.staff["technician"]
    for position in range(1, 4):
        await _visit(world, tech, at=MONDAY, position=position)
    await routing_days.planned_day(world.organisation, tech, MONDAY)  # the learned durations, kept after
    with db.counting_queries() as counted:
        await routing_days.planned_day(world.organisation, tech, MONDAY)
        await asyncio.sleep(0)
    few = counted[0]
    for position in range(4, 10):
        await _visit(world, tech, at=MONDAY, position=position)
    with db.counting_queries() as counted:
        await routing_days.planned_day(world.organisation, tech, MONDAY)
        await asyncio.sleep(0)
    assert counted[0] == few <= 8
    with pytest.raises(ResourceError):
        await routing_days.planned_day(world.organisation, world.staff["coordinator"], MONDAY)
