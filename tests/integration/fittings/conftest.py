"""A small region of its own for the fitting tests, removed again afterwards.

Other tests share the database, so every row made here hangs off one organisation
that is deleted, with everything under it, when the test ends.
"""

from __future__ import annotations

import itertools
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import AsyncIterator

import pytest

from backend import db
from backend.fittings import service


@dataclass
class World:
    organisation: int
    care_unit: int
    other_care_unit: int
    consultant: int
    other_consultant: int
    prescriber: int
    colleague: int  # another prescriber at the same unit
    other_prescriber: int  # a prescriber at another unit
    coordinator: int
    patient: int
    other_patient: int  # belongs to the other unit
    areas: dict[str, int] = field(default_factory=dict)
    room: int = 0
    demo_device: int = 0

    async def add_patient(self, care_unit: int | None = None) -> int:
        return await _patient(self.organisation, care_unit or self.care_unit)

    async def add_prescriber(self) -> int:
        return await _staff(self.organisation, "prescriber", self.care_unit)

    async def weekly(
        self,
        weekdays: range | list[int] = range(5),
        start: time = time(9),
        end: time = time(12),
        *,
        consultant: int | None = None,
        area: str = "seating",
        place: str = "hmc",
        slot_minutes: int = 60,
        buffer_before: int = 0,
        buffer_after: int = 0,
        resources: tuple[int, ...] = (),
        valid_from: date = date(2026, 1, 1),
    ) -> None:
        for weekday in weekdays:
            await service.publish_template(
                organisation_id=self.organisation,
                consultant_id=consultant or self.consultant,
                weekday=weekday,
                start_time=start,
                end_time=end,
                product_area_ids=[self.areas[area]],
                place=place,
                slot_minutes=slot_minutes,
                valid_from=valid_from,
                buffer_before_minutes=buffer_before,
                buffer_after_minutes=buffer_after,
                resource_ids=resources,
            )

    def referral(self, referral_date: date = date(2026, 1, 2)) -> service.Referral:
        return service.Referral(
            referral_date=referral_date,
            problem="Svårt att sitta stabilt i nuvarande rullstol",
            goal="Sittande som orkar en hel dag",
            current_devices="Manuell rullstol",
            attendees="Förskrivare, anhörig",
        )

    async def book(self, starts_at: datetime, *, now: datetime, area: str = "seating", place: str = "hmc",
                   consultant: int | None = None, prescriber: int | None = None, patient: int | None = None,
                   referral_date: date = date(2026, 1, 2), first_offered_at: datetime | None = None,
                   **kwargs) -> service.Booking:
        return await service.book_fitting(
            organisation_id=self.organisation,
            prescriber_id=prescriber or self.prescriber,
            patient_id=patient or self.patient,
            product_area_id=self.areas[area],
            place=place,
            consultant_id=consultant or self.consultant,
            starts_at=starts_at,
            referral=self.referral(referral_date),
            first_offered_at=first_offered_at,
            now=now,
            **kwargs,
        )

    async def slots(self, now: datetime, *, area: str = "seating", place: str = "hmc", **kwargs):
        return await service.find_slots(self.organisation, self.areas[area], place, now=now, **kwargs)


async def _staff(organisation: int, role: str, care_unit: int | None = None) -> int:
    return await db.fetchval(
        "INSERT INTO staff_user (organisation, name, role, care_unit, user_handle) "
        "VALUES ($1, $2, $3, $4, $5) RETURNING id",
        organisation, f"Test {role} {secrets.token_hex(3)}", role, care_unit, secrets.token_bytes(16),
    )


_patient_numbers = itertools.count(secrets.randbelow(10_000))


async def _patient(organisation: int, care_unit: int) -> int:
    cost_bearer = await db.fetchval("SELECT cost_bearer FROM care_unit WHERE id = $1", care_unit)
    number = f"19400101-{next(_patient_numbers) % 10_000:04d}"
    return await db.fetchval(
        """
        INSERT INTO patient (organisation, care_unit, cost_bearer, personal_number, given_name,
            family_name, birth_year, sex, street, postal_code, city)
        VALUES ($1, $2, $3, $4, 'Astrid', 'Testsson', 1940, 'F', 'Storgatan 1', '72211', 'Västerås')
        RETURNING id
        """,
        organisation, care_unit, cost_bearer, number,
    )


ORGANISATION_TABLES = (
    # Children first; bookings' holds and events go with their bookings.
    "calendar_feed_token", "fitting_booking", "availability_exception", "availability_template",
    "fitting_resource", "product_area", "audit_log", "patient", "staff_user", "care_unit", "cost_bearer",
)


@pytest.fixture
async def world(database: str) -> AsyncIterator[World]:
    slug = f"fittings-{secrets.token_hex(4)}"
    organisation = await db.fetchval(
        "INSERT INTO organisation (name, slug) VALUES ('Testregionens HMC', $1) RETURNING id", slug
    )
    try:
        cost_bearer = await db.fetchval(
            "INSERT INTO cost_bearer (organisation, name, kind, code) VALUES ($1, 'Västerås', 'municipality', '1980') "
            "RETURNING id",
            organisation,
        )
        units = [
            await db.fetchval(
                "INSERT INTO care_unit (organisation, cost_bearer, name) VALUES ($1, $2, $3) RETURNING id",
                organisation, cost_bearer, name,
            )
            for name in ("Hemrehab Västerås", "Vårdcentralen Sala")
        ]
        world = World(
            organisation=organisation,
            care_unit=units[0],
            other_care_unit=units[1],
            consultant=await _staff(organisation, "consultant"),
            other_consultant=await _staff(organisation, "consultant"),
            prescriber=await _staff(organisation, "prescriber", units[0]),
            colleague=await _staff(organisation, "prescriber", units[0]),
            other_prescriber=await _staff(organisation, "prescriber", units[1]),
            coordinator=await _staff(organisation, "coordinator"),
            patient=await _patient(organisation, units[0]),
            other_patient=await _patient(organisation, units[1]),
        )
        world.areas = {a.code: a.id for a in await service.ensure_default_product_areas(organisation)}
        world.room = await service.add_resource(organisation, "room", "Utprovningsrum 1")
        world.demo_device = await service.add_resource(organisation, "demo_device", "Demo-elrullstol")
        yield world
    finally:
        for table in ORGANISATION_TABLES:
            await db.execute(f"DELETE FROM {table} WHERE organisation = $1", organisation)
        await db.execute("DELETE FROM organisation WHERE id = $1", organisation)
