"""Each selection of the access-log review on hand-built logs: a care relation (work order, booking,
fault report) or none, off-hours by Swedish local time on both sides of the change to summer time, a
protected patient, many patients in a short time, another care unit or area, the same family name,
and the random sample."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from backend import db
from backend.audit import review
from backend.audit.routes import review_sources
from tests.integration.audit.conftest import actor, read
from tests.support.factories import add_device, add_patient, add_staff, add_work_order

UTC = timezone.utc


async def found_ids(world, search: review.Search, selection: review.Selection) -> set[int]:
    result = await review.search_log(actor(world), search, selection, review_sources())
    assert result["total"] == len(result["accesses"])
    return {a["id"] for a in result["accesses"]}


def period(first: date, last: date | None = None) -> review.Search:
    return review.Search(first, last or first)


async def test_off_hours_count_in_swedish_local_time_on_both_sides_of_summer_time(world):
    # Summer time began on Sunday 2026-03-29: 05:30 UTC is 06:30 on the Friday before, 07:30 on the Monday after.
    tech, patient = world.staff["technician"], await add_patient(world)
    friday_early = await read(world, tech, patient, datetime(2026, 3, 27, 5, 30, tzinfo=UTC))   # 06:30 CET
    monday_at_work = await read(world, tech, patient, datetime(2026, 3, 30, 5, 30, tzinfo=UTC))  # 07:30 CEST
    monday_early = await read(world, tech, patient, datetime(2026, 3, 30, 4, 30, tzinfo=UTC))    # 06:30 CEST
    friday_late = await read(world, tech, patient, datetime(2026, 3, 27, 16, 30, tzinfo=UTC))    # 17:30 CET
    monday_late = await read(world, tech, patient, datetime(2026, 3, 30, 16, 30, tzinfo=UTC))    # 18:30 CEST
    sunday = await read(world, tech, patient, datetime(2026, 3, 29, 10, 0, tzinfo=UTC))          # a Sunday, 12:00
    every = await found_ids(world, period(date(2026, 3, 27), date(2026, 3, 30)), review.Selection())
    assert every == {friday_early, monday_at_work, monday_early, friday_late, monday_late, sunday}
    flagged = await found_ids(world, period(date(2026, 3, 27), date(2026, 3, 30)),
                              review.Selection(signals=("off_hours",)))
    assert flagged == {friday_early, monday_early, monday_late, sunday}


async def test_a_read_without_a_care_relation_is_flagged_and_one_with_an_order_a_booking_or_a_fault_report_is_not(world):
    tech, prescriber = world.staff["technician"], world.staff["prescriber"]
    coordinator = world.staff["coordinator"]
    now = datetime.now(UTC)
    with_order, stranger = await add_patient(world), await add_patient(world, given="Bo", family="Främling")
    device = await add_device(world, holder=with_order)
    await add_work_order(world, device, assignee=tech, patient=with_order)
    related = await read(world, tech, with_order, now)
    unrelated = await read(world, tech, stranger, now)
    # A fault report the coordinator handled, on a device lent to the patient.
    reported = await add_patient(world, given="Rut", family="Rapport")
    reported_device = await add_device(world, holder=reported)
    await db.execute(
        "INSERT INTO fault_report (organisation, number, device, channel, status_token, submission_key, usable, "
        "can_bring_in, needs_replacement, at_usual_place, contact_name, contact_phone, ordered_by, handled_by, "
        "handled_at, status, answer) VALUES ($1, $2, $3, 'prescriber', $4, $4, 'no', 'no', 'no', true, 'Rut', "
        "'070-1', $5, $6, now(), 'closed', 'Löst per telefon')",
        world.organisation, f"FA-T-{reported_device}", reported_device, f"tok{reported_device}", prescriber,
        coordinator)
    triaged = await read(world, coordinator, reported, now, role="coordinator")
    coordinator_stranger = await read(world, coordinator, stranger, now, role="coordinator")
    # An old relation does not count: an order finished long before the read.
    old = await add_patient(world, given="Gammal", family="Order")
    old_device = await add_device(world, holder=old)
    order = await add_work_order(world, old_device, assignee=tech, patient=old, status="completed")
    await db.execute("UPDATE work_order SET received_at = now() - interval '200 days', "
                     "completed_at = now() - interval '150 days' WHERE id = $1", order)
    long_after = await read(world, tech, old, now)

    flagged = await found_ids(world, period(now.date() - timedelta(days=1), now.date() + timedelta(days=1)),
                              review.Selection(signals=("no_relation",)))
    assert related not in flagged and triaged not in flagged
    assert {unrelated, coordinator_stranger, long_after} <= flagged


async def test_a_read_tied_to_a_fitting_booking_has_a_care_relation(world):
    from tests.support.factories import add_fitting_availability, add_fitting_booking

    areas = await add_fitting_availability(world)
    patient = await add_patient(world, given="Ella", family="Utprovning")
    await add_fitting_booking(world, patient, areas)
    consultant = world.staff["consultant"]
    now = datetime.now(UTC)
    booked = await read(world, consultant, patient, now, role="consultant")
    stranger = await read(world, consultant, await add_patient(world, given="Ny", family="Okänd"), now,
                          role="consultant")
    flagged = await found_ids(world, period(now.date() - timedelta(days=1), now.date() + timedelta(days=1)),
                              review.Selection(signals=("no_relation",)))
    assert booked not in flagged and stranger in flagged


async def test_reads_of_a_protected_patient_are_selected(world):
    tech, now = world.staff["technician"], datetime.now(UTC)
    open_patient = await add_patient(world)
    shielded = await add_patient(world, given="Sigrid", family="Skyddad", street="Hemligvägen 7", phone="070-999 88 77",
                                 door_code="9876", protected=True)
    await read(world, tech, open_patient, now)
    protected = await read(world, tech, shielded, now)
    flagged = await found_ids(world, period(now.date()), review.Selection(signals=("protected",)))
    assert flagged == {protected}


async def test_many_patients_in_a_short_time_flag_the_read_that_reaches_the_count(world):
    tech, start = world.staff["technician"], datetime(2026, 5, 5, 8, 0, tzinfo=UTC)
    patients = [await add_patient(world, given=f"P{i}") for i in range(4)]
    quick = [await read(world, tech, patients[i], start + timedelta(minutes=i)) for i in range(3)]
    later = await read(world, tech, patients[3], start + timedelta(hours=2))
    flagged = await found_ids(world, period(date(2026, 5, 5)),
                              review.Selection(signals=("many_patients",), many_count=3, many_minutes=10))
    assert flagged == {quick[2]}
    assert later not in flagged


async def test_reads_in_another_care_unit_or_outside_a_technicians_area_are_selected(world):
    now = datetime.now(UTC)
    own = await add_patient(world)  # the world's care unit and municipality
    other_unit_patient = await add_patient(world, given="Annan", family="Enhet", care_unit=world.other_care_unit)
    prescriber = world.staff["prescriber"]
    same = await read(world, prescriber, own, now, role="prescriber", care_unit=world.care_unit)
    other = await read(world, prescriber, other_unit_patient, now, role="prescriber", care_unit=world.care_unit)
    # A technician whose area is another municipality reads a patient of the world's municipality.
    far = await db.fetchval("INSERT INTO cost_bearer (organisation, name, kind, code) "
                            "VALUES ($1, 'Fjärran kommun', 'municipality', $2) RETURNING id",
                            world.organisation, f"F{world.organisation}")
    area_tech = await add_staff(world, "technician", name="Alva Område")
    await db.execute("INSERT INTO staff_area (staff_user, cost_bearer) VALUES ($1, $2)", area_tech, far)
    outside = await read(world, area_tech, own, now)
    no_area = await read(world, world.staff["technician"], own, now)  # no area: nothing to be outside of
    flagged = await found_ids(world, period(now.date()), review.Selection(signals=("other_unit",)))
    assert flagged == {other, outside}
    assert same not in flagged and no_area not in flagged


async def test_staff_reading_a_patient_with_their_own_family_name_is_a_weak_signal(world):
    now = datetime.now(UTC)
    namesake = await add_staff(world, "technician", name="Karin Lindqvist")
    lindqvist = await add_patient(world, family="Lindqvist")
    other = await add_patient(world, family="Berg")
    flagged_read = await read(world, namesake, lindqvist, now)
    await read(world, namesake, other, now)
    await read(world, world.staff["technician"], lindqvist, now)
    result = await review.search_log(actor(world), period(now.date()),
                                     review.Selection(signals=("same_family_name",)), review_sources())
    assert [a["id"] for a in result["accesses"]] == [flagged_read]
    assert result["accesses"][0]["flag_labels"] == ["Samma efternamn (svag signal)"]


async def test_the_random_sample_takes_a_share_of_the_staff_on_one_day_the_same_for_the_same_seed(world):
    patient = await add_patient(world)
    staff = [await add_staff(world, "technician", name=f"Tekniker {i}") for i in range(20)]
    day, next_day = datetime(2026, 6, 10, 9, 0, tzinfo=UTC), datetime(2026, 6, 11, 9, 0, tzinfo=UTC)
    for person in staff:
        await read(world, person, patient, day)
        await read(world, person, patient, next_day)
    search = period(date(2026, 6, 1), date(2026, 6, 30))
    sample = review.Selection(sample_percent=30, sample_day=date(2026, 6, 10), sample_seed=42)
    first = await review.search_log(actor(world), search, sample, review_sources())
    again = await review.search_log(actor(world), search, sample, review_sources())
    readers = {a["staff_user"] for a in first["accesses"]}
    assert [a["id"] for a in first["accesses"]] == [a["id"] for a in again["accesses"]]
    assert 0 < len(readers) < 20 and len(first["accesses"]) == len(readers)  # that day only
    assert all(a["at"] == day for a in first["accesses"])
    everyone = await review.search_log(actor(world), search, review.Selection(sample_percent=100), review_sources())
    assert everyone["total"] == 40


async def test_signals_combine_with_any_or_all(world):
    now = datetime(2026, 4, 7, 20, 0, tzinfo=UTC)  # 22:00 local, a Tuesday
    tech = world.staff["technician"]
    shielded = await add_patient(world, family="Skyddad", street="Dold 1", phone="070-000 00 01", door_code="5555",
                                 protected=True)
    plain = await add_patient(world)
    both = await read(world, tech, shielded, now)
    late_only = await read(world, tech, plain, now)
    protected_day = await read(world, tech, shielded, now - timedelta(hours=10))
    search = period(date(2026, 4, 7))
    assert await found_ids(world, search, review.Selection(signals=("protected", "off_hours"), match="all")) == {both}
    assert await found_ids(world, search, review.Selection(signals=("protected", "off_hours"))) == {
        both, late_only, protected_day}


async def test_searching_the_log_is_itself_logged(world):
    now = datetime.now(UTC)
    patient = await add_patient(world)
    await read(world, world.staff["technician"], patient, now)
    admin = world.staff["admin"]
    before = await db.fetchval("SELECT count(*) FROM audit_log_use WHERE staff_user = $1 AND kind = 'search'", admin)
    await review.search_log(actor(world), period(now.date()), review.Selection(), review_sources())
    assert await db.fetchval("SELECT count(*) FROM audit_log_use WHERE staff_user = $1 AND kind = 'search'",
                             admin) == before + 1
    # The patients the page showed were read by the reviewer: logged as any read.
    assert await db.fetchval("SELECT count(*) FROM audit_log WHERE staff_user = $1 AND patient = $2 "
                             "AND what = 'log_review'", admin, patient) == 1


async def test_a_bad_search_is_refused_with_its_field(world):
    import pytest

    with pytest.raises(review.ReviewError) as refused:
        await review.search_log(actor(world), review.Search(date(2026, 5, 2), date(2026, 5, 1)), review.Selection(),
                                review_sources())
    assert refused.value.field == "fran"
    with pytest.raises(review.ReviewError) as refused:
        await review.search_log(actor(world), period(date(2026, 5, 1)), review.Selection(sample_percent=0),
                                review_sources())
    assert refused.value.field == "andel"
