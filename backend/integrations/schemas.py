"""The API's payloads, in and out: the OpenAPI schema describes them (msgspec structs, which
Litestar validates and documents). Field names are English, Swedish register terms kept
(individnummer); labels are the Swedish words the pages show."""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum

from msgspec import Struct


class ApiError(Struct, kw_only=True):
    """Every refusal: a Swedish message, and the field it concerns (when it concerns one)."""

    message: str
    field: str | None = None


class Holder(Struct, kw_only=True):
    """The patient who has the device on loan (patient data: every answer naming one is logged)."""

    given_name: str
    family_name: str


class Placement(str, Enum):
    depot = "depot"  # in the HMC's depot
    on_loan = "on_loan"


class DeviceSummary(Struct, kw_only=True):
    individnummer: str
    status: str
    status_label: str
    serial_number: str
    udi: str
    article_number: str
    article_name: str
    category_name: str | None
    owner_name: str | None  # None: the HMC owns it
    next_fu_date: date | None
    holder: Holder | None


class DevicePage(Struct, kw_only=True):
    items: list[DeviceSummary]
    page: int
    page_size: int
    has_more: bool


class FuSchedule(Struct, kw_only=True):
    name: str
    checklist_code: str
    interval_days: int
    level: str  # "device", "article" or "category": where the schedule is set
    level_label: str
    before_new_user: bool


class Device(Struct, kw_only=True):
    individnummer: str
    status: str
    status_label: str
    serial_number: str
    udi: str
    article_number: str
    article_name: str
    manufacturer: str
    category_name: str | None
    iso_code: str | None
    owner_name: str | None
    in_service_date: date
    expected_end_of_life: date
    last_fu_date: date | None
    next_fu_date: date | None
    fu_interval_days: int | None
    fu_schedules: list[FuSchedule]
    holder: Holder | None


class FuStatus(Struct, kw_only=True):
    individnummer: str
    last_fu_date: date | None
    next_fu_date: date | None
    fu_interval_days: int | None
    overdue: bool
    days_overdue: int
    fu_schedules: list[FuSchedule]


class Article(Struct, kw_only=True):
    article_number: str
    name: str
    manufacturer: str
    category_name: str | None  # None: a spare part
    iso_code: str | None
    expected_life_years: int | None
    active: bool
    devices: int


class ArticlePage(Struct, kw_only=True):
    items: list[Article]
    page: int
    page_size: int
    total: int


class WorkOrderSummary(Struct, kw_only=True):
    number: str
    type: str
    type_label: str
    status: str
    status_label: str
    individnummer: str
    category_name: str | None
    received_at: datetime
    planned_date: date | None
    start_due: date | None
    finish_due: date | None
    sla: str
    sla_label: str
    assignee_name: str | None


class WorkOrderPage(Struct, kw_only=True):
    items: list[WorkOrderSummary]
    page: int
    page_size: int
    has_more: bool


class PartUsed(Struct, kw_only=True):
    article_number: str
    name: str
    quantity: int


class WorkNote(Struct, kw_only=True):
    kind: str
    label: str
    text: str


class WorkOrderEvent(Struct, kw_only=True):
    at: datetime
    kind: str
    label: str
    who: str | None


class ChecklistResult(Struct, kw_only=True):
    item_key: str
    text: str
    answer: str  # "pass", "fail" or "na"
    measurement: str | None
    comment: str | None


class WorkOrder(Struct, kw_only=True):
    number: str
    type: str
    type_label: str
    status: str
    status_label: str
    channel: str
    description: str
    individnummer: str
    article_name: str
    category_name: str | None
    received_at: datetime
    planned_date: date | None
    start_due: date | None
    finish_due: date | None
    started_at: datetime | None
    completed_at: datetime | None
    cancelled_at: datetime | None
    cancel_reason: str | None
    outcome: str | None
    outcome_label: str | None
    sla: str
    sla_label: str
    assignee_name: str | None
    minutes: int
    parts: list[PartUsed]
    notes: list[WorkNote]
    checklist: list[ChecklistResult]
    events: list[WorkOrderEvent]


class RepairType(str, Enum):
    repair_on_site = "repair_on_site"
    repair_hmc = "repair_hmc"
    quick_service = "quick_service"
    urgent_repair = "urgent_repair"


class RepairOrderIn(Struct, kw_only=True):
    """A repair order for one of the organisation's devices; its clocks start now."""

    individnummer: str
    description: str
    type: RepairType = RepairType.repair_on_site
    site_contact: str = ""  # where the device is and whom to call, for the technician


class CreatedWorkOrder(Struct, kw_only=True):
    number: str
    type: str
    status: str
    start_due: date | None
    finish_due: date | None


class FaultReport(Struct, kw_only=True):
    number: str
    received_at: datetime
    channel: str
    individnummer: str
    category_name: str
    problems: list[str]
    problem_labels: list[str]
    description: str
    usable: str
    usable_label: str
    needs_replacement: str
    holder: Holder | None
