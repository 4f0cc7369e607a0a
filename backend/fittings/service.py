"""Fittings (utprovningar), the domain's face: the routes and other domains import from here only.

The rules live in topic modules behind it, each importing only those before it:

- errors.py: the refusals, each a DomainError naming its form field;
- availability.py: what consultants publish (product areas, resources, weekly templates,
  absences) and the pure rules of a template's slots;
- slots.py: the search for free slots within the booking window;
- bookings.py: the bookings as people read them, and who may see or change one;
- booking.py: booking, moving and cancelling, and the times offered for each;
- ics.py: private calendar feeds;
- service_level.py: the share of referrals offered a time within the target.
"""

from __future__ import annotations

from backend.fittings.availability import (
    DEFAULT_PRODUCT_AREAS,
    PLACE_LABELS,
    RESOURCE_KIND_LABELS,
    SLOT_MINUTES,
    ExceptionInfo,
    ProductAreaInfo,
    Template,
    add_exception,
    add_exception_days,
    add_resource,
    end_template,
    ensure_default_product_areas,
    get_template,
    is_public_holiday,
    list_consultants,
    list_exceptions,
    list_product_areas,
    list_resources,
    list_templates,
    local_date,
    local_to_utc,
    place_labels,
    publish_template,
    remove_exception,
)
from backend.fittings.booking import (
    book_fitting,
    cancel_fitting,
    reschedule_fitting,
    times_for_referral,
    times_to_move_to,
)
from backend.fittings.bookings import (
    EVENT_LABELS,
    Booking,
    BookingEvent,
    PatientBrief,
    Referral,
    actor_may_change,
    booking_history,
    booking_patients,
    bookings_for_care_unit,
    bookings_for_staff,
    can_change_now,
    get_booking,
    may_change,
    may_view,
    upcoming_bookings,
)
from backend.fittings.errors import (
    FittingError,
    InvalidInput,
    NotAllowed,
    NotFound,
    OutsideBookingWindow,
    SlotNotOffered,
    SlotTaken,
    TryAgain,
)
from backend.fittings.ics import calendar_feed, create_feed_token, revoke_feed_token, staff_user_for_feed_token
from backend.fittings.service_level import (
    TARGET_SHARE,
    ServiceLevelReport,
    ServiceLevelRow,
    fitting_service_level,
    fitting_target_days,
    service_level_report,
)
from backend.fittings.slots import DEFAULT_HORIZON_DAYS, DEFAULT_MIN_NOTICE_HOURS, FittingSlot, find_slots

__all__ = [
    # errors
    "FittingError", "InvalidInput", "NotAllowed", "NotFound", "OutsideBookingWindow", "SlotNotOffered",
    "SlotTaken", "TryAgain",
    # availability
    "DEFAULT_PRODUCT_AREAS", "PLACE_LABELS", "RESOURCE_KIND_LABELS", "SLOT_MINUTES", "ExceptionInfo",
    "ProductAreaInfo", "Template", "add_exception", "add_exception_days", "add_resource", "end_template",
    "ensure_default_product_areas", "get_template", "is_public_holiday", "list_consultants", "list_exceptions",
    "list_product_areas", "list_resources", "list_templates", "local_date", "local_to_utc", "place_labels",
    "publish_template", "remove_exception",
    # slots
    "DEFAULT_HORIZON_DAYS", "DEFAULT_MIN_NOTICE_HOURS", "FittingSlot", "find_slots",
    # bookings
    "EVENT_LABELS", "Booking", "BookingEvent", "PatientBrief", "Referral", "actor_may_change", "booking_history",
    "booking_patients", "bookings_for_care_unit", "bookings_for_staff", "can_change_now", "get_booking",
    "may_change", "may_view", "upcoming_bookings",
    # booking
    "book_fitting", "cancel_fitting", "reschedule_fitting", "times_for_referral",
    "times_to_move_to",
    # calendar feeds
    "calendar_feed", "create_feed_token", "revoke_feed_token", "staff_user_for_feed_token",
    # service level
    "TARGET_SHARE", "ServiceLevelReport", "ServiceLevelRow", "fitting_service_level", "fitting_target_days",
    "service_level_report",
]


# --- the care relation the access-log review asks for ------------------------------------------

from backend.db import Sql  # noqa: E402


def care_relation_at(staff_user: Sql, patient: Sql, at: Sql, days: int) -> Sql:
    """A care relation for the access-log review (audit/review.py), as a condition on the caller's
    ids: a fitting booking of the patient's that the person booked (prescriber), runs (consultant)
    or cancelled, made at most `days` before `at` and not over more than `days` before it."""
    return Sql(
        """
        EXISTS (SELECT 1 FROM fitting_booking b_r WHERE b_r.patient = :patient
            AND (b_r.prescriber = :staff OR b_r.consultant = :staff OR b_r.cancelled_by = :staff)
            AND :at >= b_r.created_at - make_interval(days => :days)
            AND :at <= greatest(b_r.ends_at, coalesce(b_r.cancelled_at, b_r.ends_at)) + make_interval(days => :days))
        """, staff=staff_user, patient=patient, at=at, days=days)
