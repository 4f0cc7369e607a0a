"""Fitting bookings' tables: product areas, resources, availability, bookings and feeds.

The migration (m0002_fittings) is the authority: it adds what Piccolo cannot say, the
exclusion constraints that make a double booking impossible.
"""

from enum import Enum

from piccolo.columns import (
    Array,
    BigSerial,
    Boolean,
    Bytea,
    Date,
    ForeignKey,
    Integer,
    SmallInt,
    Text,
    Time,
    Timestamptz,
    Varchar,
)
from piccolo.table import Table

from backend.accounts.tables import StaffUser
from backend.organisations.tables import CareUnit, Organisation
from backend.patients.tables import Patient


class Place(str, Enum):
    hmc = "hmc"  # the HMC's fitting room
    home = "home"  # hembesök: the patient's home (or the prescriber's unit)


class ResourceKind(str, Enum):
    room = "room"  # utprovningsrum
    demo_device = "demo_device"  # demonstrationshjälpmedel


class BookingStatus(str, Enum):
    booked = "booked"
    cancelled = "cancelled"  # avbokad, always with a reason and who cancelled


class BookingEventKind(str, Enum):
    booked = "booked"
    rescheduled = "rescheduled"
    cancelled = "cancelled"


class ProductArea(Table, tablename="product_area"):
    organisation = ForeignKey(Organisation)
    code = Varchar(length=40)  # stable key, e.g. "powered_wheelchairs"
    name = Varchar(length=100)  # Swedish, e.g. "Elrullstolar och drivaggregat"
    active = Boolean(default=True)


class FittingResource(Table, tablename="fitting_resource"):
    """A fitting room or a demo device that a fitting may need besides the consultant."""

    organisation = ForeignKey(Organisation)
    kind = Varchar(length=20, choices=ResourceKind)
    name = Varchar(length=200)
    active = Boolean(default=True)


class AvailabilityTemplate(Table, tablename="availability_template"):
    """A consultant's weekly availability: one weekday, one window, in Stockholm local time."""

    organisation = ForeignKey(Organisation)
    consultant = ForeignKey(StaffUser)
    weekday = SmallInt()  # 0 = Monday … 6 = Sunday
    start_time = Time()  # local time, Europe/Stockholm
    end_time = Time()
    product_areas = Array(base_column=Integer())  # product_area ids
    place = Varchar(length=10, choices=Place)
    slot_minutes = Integer()  # 60, 90 or 120
    buffer_before_minutes = Integer(default=0)
    buffer_after_minutes = Integer(default=0)
    valid_from = Date()
    valid_to = Date(null=True)
    resources = Array(base_column=Integer())  # fitting_resource ids, all required
    created_at = Timestamptz()


class AvailabilityException(Table, tablename="availability_exception"):
    """Time a consultant is away from their templates: leave, courses (frånvaro)."""

    organisation = ForeignKey(Organisation)
    consultant = ForeignKey(StaffUser)
    starts_at = Timestamptz()
    ends_at = Timestamptz()
    reason = Text()
    created_at = Timestamptz()


class FittingBooking(Table, tablename="fitting_booking"):
    """A referral booked to a time: the patient, the prescriber, the consultant, the time."""

    organisation = ForeignKey(Organisation)
    reference = Varchar(length=20)  # human-facing, e.g. UT-2026-00042
    uid = Varchar(length=100)  # the ICS UID: stable across reschedules
    patient = ForeignKey(Patient)
    prescriber = ForeignKey(StaffUser)
    care_unit = ForeignKey(CareUnit)
    product_area = ForeignKey(ProductArea)
    place = Varchar(length=10, choices=Place)
    consultant = ForeignKey(StaffUser)
    template = ForeignKey(AvailabilityTemplate, null=True)
    starts_at = Timestamptz()
    ends_at = Timestamptz()
    # The time the consultant is taken, buffers included: the exclusion constraint's range.
    blocked_from = Timestamptz()
    blocked_until = Timestamptz()
    referral_date = Date()
    urgent = Boolean(default=False)  # brådskande: a time within URGENT_WORKING_DAYS
    problem = Text()
    goal = Text()
    current_devices = Text()
    attendees = Text()
    interpreter_needed = Boolean(default=False)
    interpreter_language = Varchar(length=60)
    access_notes = Text()
    status = Varchar(length=10, choices=BookingStatus)
    cancel_reason = Text(null=True)
    cancelled_by = ForeignKey(StaffUser, null=True)
    cancelled_at = Timestamptz(null=True)
    sequence = Integer(default=0)  # ICS SEQUENCE: bumped on every change
    # Service level: the earliest time offered when the prescriber first saw the times.
    first_offered_at = Timestamptz()
    offered_working_days = Integer()
    booked_working_days = Integer()
    created_at = Timestamptz()
    updated_at = Timestamptz()


class ResourceHold(Table, tablename="fitting_resource_hold"):
    """A booking's hold on a room or demo device; never two active holds that overlap."""

    organisation = ForeignKey(Organisation)
    booking = ForeignKey(FittingBooking)
    resource = ForeignKey(FittingResource)
    starts_at = Timestamptz()
    ends_at = Timestamptz()
    active = Boolean(default=True)


class BookingEvent(Table, tablename="fitting_booking_event"):
    """What happened to a booking, by whom and why: both sides read it."""

    id = BigSerial(primary_key=True)
    organisation = ForeignKey(Organisation)
    booking = ForeignKey(FittingBooking)
    at = Timestamptz()
    actor = ForeignKey(StaffUser)
    kind = Varchar(length=20, choices=BookingEventKind)
    reason = Text()
    starts_at = Timestamptz()
    previous_starts_at = Timestamptz(null=True)


class CalendarFeedToken(Table, tablename="calendar_feed_token"):
    """A staff user's private ICS feed: only the token's SHA-256 is stored."""

    organisation = ForeignKey(Organisation)
    staff_user = ForeignKey(StaffUser)
    token_hash = Bytea()
    created_at = Timestamptz()
    revoked_at = Timestamptz(null=True)
