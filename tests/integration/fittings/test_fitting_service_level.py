"""The fitting service level: share of referrals offered a time within 15 working days."""

from datetime import date, datetime, time

from backend import db
from backend.fittings import service
from backend.fittings.availability import STOCKHOLM


def local(*wall_clock: int) -> datetime:
    """A Stockholm wall-clock time (year, month, day, hour, minute) as an aware datetime."""
    return datetime(*wall_clock, tzinfo=STOCKHOLM)


async def test_share_within_fifteen_working_days_by_month_and_area(world):
    await world.weekly(range(5), time(9), time(12))
    await world.weekly(range(5), time(13), time(15), area="communication")
    now = local(2026, 9, 1, 8)
    august = date(2026, 8, 3)
    # Referral 3 Aug (Mon): the 15th working day after is 24 Aug, the 16th 25 Aug.
    await world.book(local(2026, 9, 2, 9), now=now, referral_date=august, first_offered_at=local(2026, 8, 24, 9))
    await world.book(local(2026, 9, 2, 10), now=now, referral_date=august, first_offered_at=local(2026, 8, 25, 9),
                     patient=await world.add_patient())
    await world.book(local(2026, 9, 3, 13), now=now, referral_date=date(2026, 8, 31), area="communication",
                     patient=await world.add_patient())
    september = await world.book(local(2026, 9, 4, 9), now=now, referral_date=date(2026, 9, 1),
                                 patient=await world.add_patient())
    cancelled = await world.book(local(2026, 9, 4, 10), now=now, referral_date=date(2026, 9, 1),
                                 patient=await world.add_patient())
    await service.cancel_fitting(booking_id=cancelled.id, actor_id=world.prescriber, reason="Dubblett", now=now)

    rows = await service.fitting_service_level(world.organisation, date(2026, 8, 1), date(2026, 9, 1))
    table = {(r.month, r.product_area_code): r for r in rows}
    assert set(table) == {(date(2026, 8, 1), "seating"), (date(2026, 8, 1), "communication"), (date(2026, 9, 1), "seating")}
    seating = table[date(2026, 8, 1), "seating"]
    assert (seating.referrals, seating.offered_within, seating.booked_within) == (2, 1, 0)
    assert seating.offered_share == 0.5 and seating.target_working_days == 15
    assert table[date(2026, 8, 1), "communication"].offered_share == 1.0
    assert table[date(2026, 9, 1), "seating"].referrals == 1 and september.booked_working_days == 3

    only_august = await service.fitting_service_level(world.organisation, date(2026, 8, 1), date(2026, 8, 31))
    assert {r.month for r in only_august} == {date(2026, 8, 1)}


async def test_the_target_follows_the_organisations_clock(world):
    await db.execute(
        """UPDATE organisation SET clocks = '{"fitting": {"start": 5}}' WHERE id = $1""", world.organisation
    )
    assert await service.fitting_target_days(world.organisation) == 5
