"""The demo region's fittings: consultants' weekly availability, rooms and demo devices, and a
year of referrals booked so that about 70 % were offered a time within 15 working days (2025).

`build_fittings` is pure (indices into the region's lists, its own seeded rng, so the rest of
the region does not change); `load_fittings` copies the rows in inside load_demo's transaction.
Bookings lie on the templates' own slots and never overlap, so the exclusion constraints and
the slot search agree with the demo data.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from datetime import time as clock
from typing import Awaitable, Callable
from zoneinfo import ZoneInfo

from backend.fittings.availability import DEFAULT_PRODUCT_AREAS, Template, template_slots
from backend.workdays import working_days_between

UTC = timezone.utc
STOCKHOLM = ZoneInfo("Europe/Stockholm")
REFERRALS_PER_YEAR = 1_119  # consultant referrals for fitting, HMC Västmanland 2025
WITHIN_TARGET = 0.72  # share aimed at 15 working days; a full calendar pushes a few past it
CANCELLED_SHARE = 0.06

RESOURCES = [("room", "Utprovningsrum 1"), ("room", "Utprovningsrum 2"),
             ("demo_device", "Demo-elrullstol Permobil M3"), ("demo_device", "Demo-talapparat Tobii I-13")]
# Per consultant (in order): product areas (codes), and HMC mornings as (weekday, resources).
# Rooms never clash: each (weekday, room) pair belongs to one consultant.
CONSULTANT_PLANS = [
    ([c for c, _ in DEFAULT_PRODUCT_AREAS], [(0, (0,)), (2, (0, 2))]),
    (["powered_wheelchairs", "seating"], [(0, (1,)), (2, (1,))]),
    (["communication", "cognition"], [(1, (0,)), (3, (0, 3))]),
    (["seating", "stationary_lifts"], [(1, (1,)), (3, (1,))]),
    (["powered_wheelchairs", "communication"], [(4, (0,))]),
]
REFERRAL_TEXTS = {
    "powered_wheelchairs": ("Orkar inte längre köra manuell rullstol utomhus", "Kunna ta sig till affären själv"),
    "seating": ("Glider fram i stolen och får ont i ryggen", "Sitta stabilt och bekvämt en hel dag"),
    "communication": ("Talet har försämrats efter stroke", "Kunna kommunicera med familj och personal"),
    "cognition": ("Glömmer tider och mediciner", "Klara dagens aktiviteter med stöd av påminnelser"),
    "stationary_lifts": ("Förflyttning säng–rullstol kräver två personal", "Säker förflyttning med en personal"),
}
CURRENT_DEVICES = ["Manuell rullstol", "Rollator", "Inga", "Elrullstol, äldre modell", "Duschstol"]
ATTENDEES = ["Förskrivare", "Förskrivare och anhörig", "Kontaktperson från hemtjänsten", "Förskrivare, god man"]
LANGUAGES = ["Arabiska", "Somaliska", "Finska", "Persiska", "Tigrinja"]
CANCEL_REASONS = [("prescriber", "Patienten inlagd på sjukhus"), ("prescriber", "Patienten har avlidit"),
                  ("consultant", "Konsulenten sjuk"), ("prescriber", "Behovet löst på annat sätt")]


@dataclass
class FittingRows:
    """Rows with foreign keys as indices: staff/patients/care units into the region's lists,
    product areas, resources, templates and bookings into these lists."""

    product_areas: list[dict]
    resources: list[dict]
    templates: list[dict]
    bookings: list[dict]
    events: list[dict]
    holds: list[dict]


def _stockholm(day: date, at: clock) -> datetime:
    return datetime.combine(day, at, STOCKHOLM).astimezone(UTC)


def _local(instant: datetime) -> date:
    return instant.astimezone(STOCKHOLM).date()


def build_fittings(region, seed: int, today: date, scale: float, cal) -> FittingRows:
    """Every fitting row of the demo region, in memory. Pure: no database.

    `cal` is the demo's WorkCalendar (Swedish working days) covering a year back and weeks ahead.
    """
    rng = random.Random(f"fittings-{seed}")
    areas = [{"code": code, "name": name} for code, name in DEFAULT_PRODUCT_AREAS]
    area_index = {a["code"]: i for i, a in enumerate(areas)}
    resources = [{"kind": kind, "name": name} for kind, name in RESOURCES]
    consultants = [i for i, s in enumerate(region.staff) if s["role"] == "consultant"]
    prescribers = [i for i, s in enumerate(region.staff) if s["role"] == "prescriber"]
    patients_by_unit: dict[int, list[int]] = {}
    for i, p in enumerate(region.patients):
        patients_by_unit.setdefault(p["care_unit"], []).append(i)
    prescribers = [i for i in prescribers if patients_by_unit.get(region.staff[i]["care_unit"])]

    valid_from = today - timedelta(days=400)
    templates: list[dict] = []
    for k, consultant in enumerate(consultants):
        codes, mornings = CONSULTANT_PLANS[k % len(CONSULTANT_PLANS)]
        if k >= len(CONSULTANT_PLANS):
            mornings = []  # rooms are all taken; more consultants make home visits only
        product_areas = [area_index[c] for c in codes]
        hmc_days = {weekday for weekday, _ in mornings}
        for weekday, rooms in mornings:
            templates.append(dict(consultant=consultant, weekday=weekday, start_time=clock(8, 30),
                                  end_time=clock(12), product_areas=product_areas, place="hmc", slot_minutes=90,
                                  buffer_before_minutes=0, buffer_after_minutes=15, valid_from=valid_from,
                                  resources=list(rooms)))
        for weekday in range(4):
            if weekday in hmc_days and k % 2:
                continue  # some consultants keep the afternoon after an HMC morning for paperwork
            templates.append(dict(consultant=consultant, weekday=weekday, start_time=clock(12, 30),
                                  end_time=clock(16, 30), product_areas=product_areas, place="home",
                                  slot_minutes=90, buffer_before_minutes=30, buffer_after_minutes=30,
                                  valid_from=valid_from, resources=[]))
    shapes = [
        Template(id=i, organisation_id=0, consultant_id=t["consultant"], weekday=t["weekday"],
                 start_time=t["start_time"], end_time=t["end_time"], product_area_ids=tuple(t["product_areas"]),
                 place=t["place"], slot_minutes=t["slot_minutes"], buffer_before_minutes=t["buffer_before_minutes"],
                 buffer_after_minutes=t["buffer_after_minutes"], valid_from=t["valid_from"], valid_to=None,
                 resource_ids=tuple(t["resources"]))
        for i, t in enumerate(templates)
    ]
    used: set[tuple[int, datetime]] = set()
    bookings: list[dict] = []

    def free_slot(area: int, place: str, first_day: date, last_day: date, consultant: int | None = None):
        day = first_day
        while day <= last_day:
            found = []
            for shape in shapes:
                if area not in shape.product_area_ids or shape.place != place:
                    continue
                if consultant is not None and shape.consultant_id != consultant:
                    continue
                for start, end, blocked_from, blocked_until in template_slots(shape, day, area):
                    if (shape.consultant_id, start) not in used:
                        found.append((start, shape.consultant_id, end, blocked_from, blocked_until, shape))
            if found:
                found.sort(key=lambda f: (f[0], f[1]))
                return found[rng.randrange(min(2, len(found)))]
            day += timedelta(days=1)
        return None

    def book(prescriber: int, referral_date: date, delay: int, *, consultant: int | None = None,
             latest: date, place: str | None = None, area: int | None = None) -> dict | None:
        unit = region.staff[prescriber]["care_unit"]
        area = area if area is not None else rng.choice(
            [a for a in range(len(areas)) if any(a in s.product_area_ids for s in shapes
                                                 if consultant is None or s.consultant_id == consultant)])
        place = place or ("hmc" if rng.random() < 0.6 else "home")
        target = cal.add(referral_date, delay)
        slot = free_slot(area, place, target, latest, consultant)
        if slot is None:
            place = "home" if place == "hmc" else "hmc"
            slot = free_slot(area, place, target, latest, consultant)
        if slot is None:
            return None
        start, who, end, blocked_from, blocked_until, shape = slot
        used.add((who, start))
        first_offered = start
        if rng.random() < 0.15:  # offered an earlier time that did not suit the patient
            earlier = cal.subtract(_local(start), rng.randint(1, 3))
            if earlier > referral_date:
                first_offered = start - timedelta(days=(_local(start) - earlier).days)
        problem, goal = REFERRAL_TEXTS[areas[area]["code"]]
        interpreter = rng.random() < 0.07
        created = min(_stockholm(cal.add(referral_date, rng.randint(0, 2)), clock(rng.randint(8, 15), 10)),
                      first_offered - timedelta(days=1), _stockholm(today, clock(7)))
        row = dict(
            uid=f"{uuid.UUID(int=rng.getrandbits(128), version=4)}@runda",
            patient=rng.choice(patients_by_unit[unit]), prescriber=prescriber, care_unit=unit,
            product_area=area, place=place, consultant=who, template=shape.id, starts_at=start, ends_at=end,
            blocked_from=blocked_from, blocked_until=blocked_until, referral_date=referral_date,
            problem=problem, goal=goal, current_devices=rng.choice(CURRENT_DEVICES),
            attendees=rng.choice(ATTENDEES), interpreter_needed=interpreter,
            # About one referral in fifteen is urgent (chosen without drawing from rng, so the rest of
            # the demo stays as it was).
            urgent=len(bookings) % 15 == 7,
            interpreter_language=rng.choice(LANGUAGES) if interpreter else "", access_notes="",
            status="booked", cancel_reason=None, cancelled_by=None, cancelled_at=None, sequence=0,
            first_offered_at=first_offered,
            offered_working_days=working_days_between(referral_date, _local(first_offered)),
            booked_working_days=working_days_between(referral_date, _local(start)),
            created_at=created, updated_at=created, _resources=shape.resource_ids,
        )
        bookings.append(row)
        return row

    if consultants and prescribers:
        # A year of referrals, by referral date; the time offered mostly within 15 working days.
        first, last = cal.on_or_after(today - timedelta(days=365)), cal.subtract(today, 40)
        days = cal.between(first, last + timedelta(days=1))
        n = max(12, round(REFERRALS_PER_YEAR * scale * len(days) / 250))
        for referral_date in sorted(rng.choice(days) for _ in range(n)):
            delay = rng.randint(2, 15) if rng.random() < WITHIN_TARGET else rng.randint(16, 30)
            row = book(rng.choice(prescribers), referral_date, delay, latest=cal.subtract(today, 1))
            if row is not None and rng.random() < CANCELLED_SHARE:
                who, reason = rng.choice(CANCEL_REASONS)
                at = row["created_at"] + (row["starts_at"] - row["created_at"]) / 2
                row.update(status="cancelled", cancel_reason=reason, sequence=1, cancelled_at=at, updated_at=at,
                           cancelled_by=row["prescriber"] if who == "prescriber" else row["consultant"])
        # Coming weeks: the demo prescriber's patients with the demo consultant, and others' bookings.
        demo_prescriber = next((i for i, s in enumerate(region.staff) if s["role"] == "prescriber"), None)
        horizon = cal.add(today, 25)
        if demo_prescriber in prescribers:
            for delay in (2, 5, 9):
                referral_date = cal.subtract(today, rng.randint(3, 8))
                book(demo_prescriber, referral_date, working_days_between(referral_date, today) + delay,
                     consultant=consultants[0], latest=horizon)
        for _ in range(max(2, round(REFERRALS_PER_YEAR * scale * 15 / 250))):
            referral_date = cal.subtract(today, rng.randint(2, 12))
            book(rng.choice(prescribers), referral_date, working_days_between(referral_date, today) + rng.randint(1, 15),
                 latest=horizon)

    bookings.sort(key=lambda b: b["starts_at"])
    events, holds = [], []
    for i, b in enumerate(bookings):
        events.append(dict(booking=i, at=b["created_at"], actor=b["prescriber"], kind="booked", reason="",
                           starts_at=b["starts_at"], previous_starts_at=None))
        if b["status"] == "cancelled":
            events.append(dict(booking=i, at=b["cancelled_at"], actor=b["cancelled_by"], kind="cancelled",
                               reason=b["cancel_reason"], starts_at=b["starts_at"], previous_starts_at=None))
        for resource in b.pop("_resources"):
            holds.append(dict(booking=i, resource=resource, starts_at=b["blocked_from"], ends_at=b["blocked_until"],
                              active=b["status"] == "booked"))
    return FittingRows(areas, resources, templates, bookings, events, holds)


ReserveIds = Callable[..., Awaitable[int]]


async def load_fittings(conn, org_id: int, rows: FittingRows, bases: dict[str, int],
                        reserve_ids: ReserveIds) -> dict[str, int]:
    """Copy the fitting rows in (inside the caller's transaction); returns rows per table."""
    ids: dict[str, int] = {}
    for table, items in (("product_area", rows.product_areas), ("fitting_resource", rows.resources),
                         ("availability_template", rows.templates), ("fitting_booking", rows.bookings)):
        ids[table] = await reserve_ids(conn, table, len(items)) if items else 0
    staff = bases["staff_user"]
    area, resource, template = ids["product_area"], ids["fitting_resource"], ids["availability_template"]
    number = 0
    if rows.bookings:
        number = await conn.fetchval("SELECT nextval('fitting_booking_number')")
        if len(rows.bookings) > 1:
            await conn.execute("SELECT setval('fitting_booking_number', $1)", number + len(rows.bookings) - 1)

    await conn.copy_records_to_table("product_area", columns=["id", "organisation", "code", "name"], records=[
        (area + i, org_id, a["code"], a["name"]) for i, a in enumerate(rows.product_areas)])
    await conn.copy_records_to_table("fitting_resource", columns=["id", "organisation", "kind", "name"], records=[
        (resource + i, org_id, r["kind"], r["name"]) for i, r in enumerate(rows.resources)])
    await conn.copy_records_to_table(
        "availability_template",
        columns=["id", "organisation", "consultant", "weekday", "start_time", "end_time", "product_areas", "place",
                 "slot_minutes", "buffer_before_minutes", "buffer_after_minutes", "valid_from", "resources"],
        records=[(template + i, org_id, staff + t["consultant"], t["weekday"], t["start_time"], t["end_time"],
                  [area + a for a in t["product_areas"]], t["place"], t["slot_minutes"], t["buffer_before_minutes"],
                  t["buffer_after_minutes"], t["valid_from"], [resource + r for r in t["resources"]])
                 for i, t in enumerate(rows.templates)])
    booking = ids["fitting_booking"]
    columns = ["uid", "place", "starts_at", "ends_at", "blocked_from", "blocked_until", "referral_date", "problem",
               "goal", "current_devices", "attendees", "interpreter_needed", "interpreter_language", "access_notes",
               "urgent", "status", "cancel_reason", "cancelled_at", "sequence", "first_offered_at", "offered_working_days",
               "booked_working_days", "created_at", "updated_at"]
    await conn.copy_records_to_table(
        "fitting_booking",
        columns=["id", "organisation", "reference", "patient", "prescriber", "care_unit", "product_area",
                 "consultant", "template", "cancelled_by", *columns],
        records=[(booking + i, org_id, f"UT-{_local(b['created_at']).year}-{number + i:05d}",
                  bases["patient"] + b["patient"], staff + b["prescriber"], bases["care_unit"] + b["care_unit"],
                  area + b["product_area"], staff + b["consultant"], template + b["template"],
                  staff + b["cancelled_by"] if b["cancelled_by"] is not None else None,
                  *(b[c] for c in columns))
                 for i, b in enumerate(rows.bookings)])
    await conn.copy_records_to_table(
        "fitting_booking_event",
        columns=["organisation", "booking", "at", "actor", "kind", "reason", "starts_at", "previous_starts_at"],
        records=[(org_id, booking + e["booking"], e["at"], staff + e["actor"], e["kind"], e["reason"],
                  e["starts_at"], e["previous_starts_at"]) for e in rows.events])
    await conn.copy_records_to_table(
        "fitting_resource_hold", columns=["organisation", "booking", "resource", "starts_at", "ends_at", "active"],
        records=[(org_id, booking + h["booking"], resource + h["resource"], h["starts_at"], h["ends_at"], h["active"])
                 for h in rows.holds])
    return {"product_area": len(rows.product_areas), "fitting_resource": len(rows.resources),
            "availability_template": len(rows.templates), "fitting_booking": len(rows.bookings),
            "fitting_booking_event": len(rows.events), "fitting_resource_hold": len(rows.holds)}
