"""The fitting service level: the share of referrals offered a time within the target
(15 working days unless the organisation's clocks say otherwise), aimed at 80 %."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from backend import db
from backend.organisations import service as organisations
from backend.workdays import add_months, month_start
from backend.workorders.service import clocks_for

TARGET_SHARE = 0.8  # of referrals offered a time within the target
URGENT_WORKING_DAYS = 5  # an urgent referral: a time within 5 working days (or the clock, if shorter)


def within_clock(working_days: int, urgent: bool, target_days: int) -> bool:
    """A fitting time `working_days` after the referral meets the clock: the organisation's
    `target_days`, or for an urgent referral 5 working days (the shorter of the two)."""
    return working_days <= (min(target_days, URGENT_WORKING_DAYS) if urgent else target_days)


@dataclass(frozen=True)
class ServiceLevelRow:
    """One month and product area: how many referrals were offered/booked a time in target."""

    month: date  # the first of the month of the referral date
    product_area_code: str
    product_area_name: str
    referrals: int
    offered_within: int  # first offered time within the target
    booked_within: int  # booked time within the target
    target_working_days: int

    @property
    def offered_share(self) -> float:
        return self.offered_within / self.referrals if self.referrals else 0.0

    @property
    def booked_share(self) -> float:
        return self.booked_within / self.referrals if self.referrals else 0.0


@dataclass(frozen=True)
class ServiceLevelReport:
    """The service level of the twelve months up to today, with the totals and the target."""

    rows: list[ServiceLevelRow]
    first_month: date
    target_days: int
    target_share: float = TARGET_SHARE

    @property
    def referrals(self) -> int:
        return sum(r.referrals for r in self.rows)

    @property
    def offered_within(self) -> int:
        return sum(r.offered_within for r in self.rows)

    @property
    def booked_within(self) -> int:
        return sum(r.booked_within for r in self.rows)

    @property
    def offered_share(self) -> float | None:
        """None when there were no referrals (nothing to share)."""
        return self.offered_within / self.referrals if self.referrals else None

    @property
    def booked_share(self) -> float | None:
        return self.booked_within / self.referrals if self.referrals else None


async def fitting_target_days(organisation_id: int) -> int:
    """Working days within which a fitting time should be offered (default 15)."""
    organisation = await organisations.organisation(organisation_id)
    return int(clocks_for((organisation or {}).get("clocks") or {})["fitting"]["start"])


async def fitting_service_level(
    organisation_id: int, from_month: date, to_month: date, *, target_working_days: int | None = None
) -> list[ServiceLevelRow]:
    """Share of referrals offered (and booked) a time within the target, by month and area.

    Months are those of the referral date, `from_month` to `to_month` inclusive; an urgent referral
    is held to 5 working days (`within_clock`). Cancelled
    bookings are left out: a referral cancelled and booked again counts once, by its booking.
    """
    target = target_working_days if target_working_days is not None else await fitting_target_days(organisation_id)
    rows = await db.fetch(
        """
        SELECT date_trunc('month', b.referral_date)::date AS month, pa.code, pa.name,
               count(*) AS referrals,
               count(*) FILTER (WHERE b.offered_working_days <= CASE WHEN b.urgent THEN least($4::int, $5::int) ELSE $4::int END)
                   AS offered_within,
               count(*) FILTER (WHERE b.booked_working_days <= CASE WHEN b.urgent THEN least($4::int, $5::int) ELSE $4::int END)
                   AS booked_within
          FROM fitting_booking b
          JOIN product_area pa ON pa.id = b.product_area
         WHERE b.organisation = $1 AND b.status = 'booked'
           AND b.referral_date >= $2 AND b.referral_date < $3
         GROUP BY 1, pa.code, pa.name
         ORDER BY 1, pa.name
        """,
        organisation_id, month_start(from_month), add_months(to_month, 1), target, URGENT_WORKING_DAYS,
    )
    return [
        ServiceLevelRow(
            month=r["month"], product_area_code=r["code"], product_area_name=r["name"],
            referrals=r["referrals"], offered_within=r["offered_within"],
            booked_within=r["booked_within"], target_working_days=target,
        )
        for r in rows
    ]


async def service_level_report(organisation_id: int, today: date) -> ServiceLevelReport:
    """The coordinators' page: the twelve months up to today's, by month and product area."""
    first = add_months(month_start(today), -11)  # twelve months with today's
    target = await fitting_target_days(organisation_id)
    rows = await fitting_service_level(organisation_id, first, today, target_working_days=target)
    return ServiceLevelReport(rows=rows, first_month=first, target_days=target)


def kpi_bookings(organisation_id: int, since: date) -> db.Sql:
    """The organisation's booked referrals (cancelled bookings left out, as above) with a referral
    date on or after `since`, as a row source for the reports' KPI summary (`FROM (:bookings) b`):
    id, referral_date, urgent, offered_working_days, booked_working_days, patient, care_unit,
    product_area, consultant."""
    return db.Sql(
        """
        SELECT b.id, b.referral_date, b.urgent, b.offered_working_days, b.booked_working_days, b.patient, b.care_unit,
               b.product_area, b.consultant
        FROM fitting_booking b
        WHERE b.organisation = :org AND b.status = 'booked' AND b.referral_date >= :since
        """,
        org=organisation_id, since=since)


def product_area_name(area: db.Sql) -> db.Sql:
    """The product area's name (a scalar subquery; NULL when `area` is)."""
    return db.Sql("(SELECT name FROM product_area WHERE id = :area)", area=area)
