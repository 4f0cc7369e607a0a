"""Small, explicit test data: an organisation with a unit, people, patients and devices.

Each test module builds what it needs and removes it again, so tests can share one
database (and run twice in a row) without seeing each other's rows.
"""

from __future__ import annotations

import itertools
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone

from backend import db
from backend.fittings import service as fittings
from backend.organisations import service as organisations

_counter = itertools.count(1)


@dataclass
class World:
    organisation: int
    cost_bearer: int
    care_unit: int
    other_care_unit: int
    category: int
    article: int
    staff: dict[str, int] = field(default_factory=dict)
    patients: list[int] = field(default_factory=list)
    devices: list[int] = field(default_factory=list)


async def make_world(name: str = "Testregionen") -> World:
    n = next(_counter)
    slug = f"test-{secrets.token_hex(4)}"
    org = await db.fetchval(
        "INSERT INTO organisation (name, slug, phone) VALUES ($1, $2, '021-10 00 00') RETURNING id", name, slug
    )
    bearer = await db.fetchval(
        "INSERT INTO cost_bearer (organisation, name, kind, code) VALUES ($1, 'Testkommun', 'municipality', $2) RETURNING id",
        org, f"T{n}",
    )
    unit = await db.fetchval(
        "INSERT INTO care_unit (organisation, cost_bearer, name) VALUES ($1, $2, 'Hemsjukvården Test') RETURNING id",
        org, bearer,
    )
    other_unit = await db.fetchval(
        "INSERT INTO care_unit (organisation, cost_bearer, name) VALUES ($1, $2, 'Vårdcentralen Annan') RETURNING id",
        org, bearer,
    )
    category = await db.fetchval(
        "INSERT INTO device_category (organisation, code, name, iso_code, expected_life_years) "
        "VALUES ($1, 'powered_wheelchair', 'Elrullstol', '12 23 06', 5) RETURNING id",
        org,
    )
    # The category's FU every 365 days: its default schedule with its "fu" checklist.
    await db.execute(
        "INSERT INTO fu_schedule (organisation, category, name, interval_days, checklist_code) "
        "VALUES ($1, $2, 'Förebyggande underhåll', 365, 'fu')",
        org, category,
    )
    article = await db.fetchval(
        "INSERT INTO article (organisation, article_number, name, manufacturer, category) "
        "VALUES ($1, '100200', 'Permobil M3 Corpus', 'Permobil', $2) RETURNING id",
        org, category,
    )
    world = World(org, bearer, unit, other_unit, category, article)
    for role in ("technician", "consultant", "prescriber", "coordinator", "admin"):
        world.staff[role] = await add_staff(world, role)
    world.staff["other_prescriber"] = await add_staff(world, "prescriber", care_unit=other_unit, name="Olle Annan")
    world.staff["other_technician"] = await add_staff(world, "technician", name="Tina Annan")
    return world


async def add_staff(world: World, role: str, *, care_unit: int | None = None, name: str | None = None) -> int:
    if role == "prescriber" and care_unit is None:
        care_unit = world.care_unit
    return await db.fetchval(
        "INSERT INTO staff_user (organisation, name, role, care_unit, user_handle) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        world.organisation, name or f"Test {role}", role, care_unit, secrets.token_bytes(32),
    )


async def add_patient(world: World, *, care_unit: int | None = None, given: str = "Astrid", family: str = "Lindqvist",
                      street: str = "Björkvägen 12", door_code: str = "1234", phone: str = "070-111 22 33",
                      protected: bool = False) -> int:
    n = next(_counter)
    patient = await db.fetchval(
        """
        INSERT INTO patient (organisation, care_unit, cost_bearer, personal_number, given_name, family_name,
                             birth_year, sex, street, postal_code, city, latitude, longitude, phone, door_code,
                             protected_identity)
        VALUES ($1, $2, $3, $4, $5, $6, 1940, 'F', $7, '722 10', 'Västerås', 59.61, 16.55, $8, $9, $10)
        RETURNING id
        """,
        world.organisation, care_unit or world.care_unit, world.cost_bearer, f"1940{n:04d}-{n % 10000:04d}"[:13],
        given, family, street, phone, door_code, protected,
    )
    world.patients.append(patient)
    return patient


async def add_device(world: World, holder: int | None, individnummer: str | None = None) -> int:
    n = next(_counter)
    device = await db.fetchval(
        """
        INSERT INTO device (organisation, individnummer, serial_number, article, status, holder, owner,
                            in_service_date, expected_end_of_life, last_fu_date, next_fu_date)
        VALUES ($1, $2, $3, $4, $5, $6, $7, '2023-03-01', '2028-03-01', '2025-12-01', '2026-12-01')
        RETURNING id
        """,
        world.organisation, individnummer or f"T{n:06d}", f"SN-{n}", world.article,
        "in_use" if holder else "in_depot", holder, world.cost_bearer,
    )
    if holder:
        await db.execute("INSERT INTO device_loan (organisation, device, patient, from_date) "
                         "VALUES ($1, $2, $3, '2023-03-01')", world.organisation, device, holder)
    world.devices.append(device)
    return device


async def add_work_order(world: World, device: int, *, assignee: int | None = None, planned: date | None = None,
                         type: str = "repair_on_site", status: str = "planned", patient: int | None = None,
                         position: int = 1, description: str = "Joysticken svarar inte") -> int:
    n = next(_counter)
    return await db.fetchval(
        """
        INSERT INTO work_order (organisation, number, type, status, channel, device, patient, description, assignee,
                                planned_date, window_start, window_end, route_position, received_at,
                                start_due, finish_due)
        VALUES ($1, $2, $3, $4, 'phone', $5, $6, $7, $8, $9, '08:00', '10:00', $10, $11, $12, $13)
        RETURNING id
        """,
        world.organisation, f"AO-T-{n:06d}", type, status, device, patient, description, assignee, planned,
        position, datetime.now(timezone.utc), planned, planned,
    )


def jpeg_bytes(width: int = 64, height: int = 48) -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), (30, 90, 160)).save(out, format="JPEG")
    return out.getvalue()


async def add_photo(world: World, work_order: int, staff: str = "technician") -> int:
    return await db.fetchval(
        "INSERT INTO work_photo (work_order, content, content_type, width, height, added_by) "
        "VALUES ($1, $2, 'image/jpeg', 64, 48, $3) RETURNING id",
        work_order, jpeg_bytes(), world.staff[staff],
    )


async def delete_world(world: World) -> None:
    """Everything of the world, in one transaction. The organisation row is locked first: a
    request a browser test left in flight (a page fetched ahead, say) then waits, instead of
    writing a row between two of the deletes. What belongs to it is found from the catalogue
    (organisations.delete_organisation), so tables added later go with it."""
    org = world.organisation
    async with db.transaction():
        await db.execute("SELECT id FROM organisation WHERE id = $1 FOR UPDATE", org)
        await organisations.delete_organisation(org)


async def add_fitting_availability(world: World, *, consultant: int | None = None, weekdays=range(7),
                                   start: str = "08:00", end: str = "18:00", slot_minutes: int = 60) -> dict[str, int]:
    """The default product areas and a consultant free every day of the week (seating at the HMC).

    Every day, so that tests run on any day of the week find times after the minimum notice.
    """
    areas = {a.code: a.id for a in await fittings.ensure_default_product_areas(world.organisation)}
    for weekday in weekdays:
        await fittings.publish_template(
            organisation_id=world.organisation, consultant_id=consultant or world.staff["consultant"],
            weekday=weekday, start_time=time.fromisoformat(start), end_time=time.fromisoformat(end),
            product_area_ids=[areas["seating"]], place="hmc", slot_minutes=slot_minutes,
            valid_from=date.today() - timedelta(days=1),
        )
    return areas


async def add_fitting_booking(world: World, patient: int, areas: dict[str, int], *, prescriber: int | None = None,
                              nth: int = 0):
    """Book the `nth` free seating slot for `patient` (the prescriber's own unit)."""
    slots = await fittings.find_slots(world.organisation, areas["seating"], "hmc", limit=nth + 1)
    slot = slots[nth]
    return await fittings.book_fitting(
        organisation_id=world.organisation, prescriber_id=prescriber or world.staff["prescriber"], patient_id=patient,
        product_area_id=areas["seating"], place="hmc", consultant_id=slot.consultant_id, starts_at=slot.starts_at,
        referral=fittings.Referral(referral_date=date.today() - timedelta(days=3), problem="Sitter snett",
                                   goal="Stabil sittställning", current_devices="Manuell rullstol"),
    )



async def device_token(world: World, device: int) -> str:
    """The device's active QR token (created when it has none)."""
    from backend.faults import service as faults

    return (await faults.ensure_tokens(world.organisation, [device]))[device]


FAULT_ANSWERS = dict(problems=("no_drive",), description="Stolen rör sig inte alls", usable="no", can_bring_in="no",
                     needs_replacement="yes", location="usual", contact_name="Kim Anhörigsson",
                     contact_phone="070-123 45 67", call_times="Förmiddagar")


async def add_fault_report(world: World, device: int, **answers) -> tuple[int, str]:
    """A public fault report through the device's sticker: (report id, status token)."""
    from backend.faults import service as faults

    public = await faults.public_device(await device_token(world, device))
    # A new call is a new report: the same answers again shortly after would be the first one.
    unique = {"call_times": f"{FAULT_ANSWERS['call_times']} ({next(_counter)})"}
    status_token = await faults.report_fault(public, faults.ReportInput(**{**FAULT_ANSWERS, **unique, **answers}),
                                             submission_key=faults.new_token())
    report = await db.fetchval("SELECT id FROM fault_report WHERE status_token = $1", status_token)
    return report, status_token


async def add_conflict(world: World, work_order: int, slug: str, fields: dict, *, staff: str = "technician",
                       photo: bytes | None = None,
                       message: str = "Arbetsordern har ändrats av Test coordinator.") -> int:
    """A technician's submission kept as a conflict, as the visit routes keep one that met a changed order."""
    import uuid

    from backend.accounts.service import Actor
    from backend.accounts.tables import Role
    from backend.sync import service as sync

    who = Actor(id=world.staff[staff], organisation=world.organisation, name=f"Test {staff}", role=Role.technician,
                care_unit=None)
    return await sync.record_conflict(actor=who, work_order_id=work_order, key=str(uuid.uuid4()),
                                      path=f"/besok/{work_order}/{slug}", fields=fields, message=message,
                                      base_version=int(fields["version"]) if "version" in fields else None,
                                      photo=photo)


# A small powered-wheelchair FU checklist: an ordinary item, a safety item and a measurement.
WHEELCHAIR_FU = [
    {"key": "frame", "text": "Ram och sits hela", "safety_critical": False, "measurement": None},
    {"key": "brakes", "text": "Motorbromsar håller", "safety_critical": True, "measurement": None},
    {"key": "battery", "text": "Batterispänning i vila", "safety_critical": False,
     "measurement": {"unit": "V", "min": 23.0, "max": 26.5, "lowest": 0.0, "highest": 60.0}},
]
