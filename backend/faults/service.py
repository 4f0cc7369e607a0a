"""Fault reports (felanmälningar): the one module the routes and other domains import.

The rules sit in topic modules behind it, each importing only those above it in this list:
errors.py (the refusals), categories.py (checks and faults per device category), tokens.py (the
QR stickers' tokens and the public device), reporting.py (the report's answers, the public
report, its private status, the work order's text), triage.py (coordinators), repairs.py
(prescribers' repair orders) and labels.py (QR label sheets).
"""

from __future__ import annotations

from backend.faults.categories import GUIDES, CategoryGuide, guide_for, problem_labels
from backend.faults.errors import AlreadyHandled, FaultError, LabelError, NotFound, ReportInvalid
from backend.faults.labels import (
    DEFAULT_FORMAT,
    FORMAT_CHOICES,
    LABEL_FORMATS,
    MAX_LABELS,
    LabelFormat,
    label_sheet,
    parse_individnummer_list,
    qr_svg,
)
from backend.faults.repairs import PRESCRIBER_TYPES, order_repair, repair_order_target, repair_orders
from backend.faults.reporting import (
    BRING_IN,
    CANCELLED_ANSWER,
    LOCATION,
    REPLACEMENT,
    REPORT_COLUMNS,
    STAGE_LABELS,
    USABLE,
    ReportInput,
    Stage,
    case_status,
    check_report,
    checked_answers,
    describe_for_work_order,
    phone_is_valid,
    report_dict,
    report_fault,
    report_values,
    site_contact_for,
    stage_of,
)
from backend.faults.tokens import (
    REPORTS_PER_TOKEN_PER_HOUR,
    TOKEN_BYTES,
    PublicDevice,
    case_link,
    device_link,
    ensure_tokens,
    example_report_link,
    looks_like_token,
    new_token,
    public_device,
    replace_device_token,
    tel_href,
)
from backend.faults.triage import (
    QUEUE_LIMIT,
    TRIAGE_TYPES,
    close_report,
    default_type,
    report_photo,
    triage_queue,
    triage_report,
    triage_to_work_order,
)

__all__ = [
    # errors
    "AlreadyHandled", "FaultError", "LabelError", "NotFound", "ReportInvalid",
    # categories
    "GUIDES", "CategoryGuide", "guide_for", "problem_labels",
    # tokens and the public device
    "REPORTS_PER_TOKEN_PER_HOUR", "TOKEN_BYTES", "PublicDevice", "case_link", "device_link", "ensure_tokens",
    "example_report_link", "looks_like_token", "new_token", "public_device", "replace_device_token", "tel_href",
    # the report, its status and its work order's text
    "BRING_IN", "CANCELLED_ANSWER", "LOCATION", "REPLACEMENT", "REPORT_COLUMNS", "STAGE_LABELS", "USABLE",
    "ReportInput", "Stage", "case_status", "check_report", "checked_answers", "describe_for_work_order",
    "phone_is_valid", "report_dict", "report_fault", "report_values", "site_contact_for", "stage_of",
    # triage
    "QUEUE_LIMIT", "TRIAGE_TYPES", "close_report", "default_type", "report_photo", "triage_queue",
    "triage_report", "triage_to_work_order",
    # prescribers' repair orders
    "PRESCRIBER_TYPES", "order_repair", "repair_order_target", "repair_orders",
    # label sheets
    "DEFAULT_FORMAT", "FORMAT_CHOICES", "LABEL_FORMATS", "MAX_LABELS", "LabelFormat", "label_sheet",
    "parse_individnummer_list", "qr_svg",
]


# --- the care relation the access-log review asks for ------------------------------------------

from backend.db import Sql  # noqa: E402
from backend.devices import service as _devices  # noqa: E402


def care_relation_at(staff_user: Sql, patient: Sql, at: Sql, days: int) -> Sql:
    """A care relation for the access-log review (audit/review.py), as a condition on the caller's
    ids: a fault report on a device lent to the patient that the person ordered (prescriber) or
    handled (triage), received at most `days` before `at` and handled no more than `days` before it."""
    return Sql(
        """
        EXISTS (SELECT 1 FROM fault_report f_r WHERE f_r.device IN (:lent)
            AND (f_r.handled_by = :staff OR f_r.ordered_by = :staff)
            AND :at >= f_r.received_at - make_interval(days => :days)
            AND :at <= coalesce(f_r.handled_at, now()) + make_interval(days => :days))
        """, staff=staff_user, at=at, days=days, lent=_devices.devices_lent_to_sql(patient))
