"""The one Piccolo app: every table of every domain, and the migrations folder."""

from piccolo.conf.apps import AppConfig

from backend.accounts.tables import Invitation, KeyValue, Passkey, SecurityEvent, StaffUser
from backend.accounts.tables import StaffArea
from backend.accounts.tables import IdpLink, IdpRoleMapping, SignInPolicy
from backend.audit.tables import AuditLog
from backend.audit.tables import AuditLogUse, AuditReview, AuditReviewItem
from backend.integrations.tables import ApiToken
from backend.jobs.tables import JobFailure
from backend.changes.tables import RegisterChange
from backend.settings import PROJECT_ROOT
from backend.sync.tables import SyncConflict, WriteReceipt
from backend.devices.tables import Article, Device, DeviceCategory, DeviceLoan, FuSchedule
from backend.devices.tables import DeviceLabel
from backend.recalls.tables import Recall, RecallArticle, RecallDevice
from backend.deviations.tables import Deviation, DeviationPhoto
from backend.faults.tables import DeviceToken, FaultReport
from backend.imports.tables import ImportRun
from backend.fittings.tables import (
    AvailabilityException,
    AvailabilityTemplate,
    BookingEvent,
    CalendarFeedToken,
    FittingBooking,
    FittingResource,
    ProductArea,
    ResourceHold,
)
from backend.maintenance.tables import ChecklistAnswer, ChecklistTemplate, SafetyDecision
from backend.maintenance.tables import FuAutoGeneration, FuDue, FuDueCount, FuDueState, FuGeneration
from backend.notices.tables import Notice, OutboundMessage
from backend.organisations.tables import CareUnit, CostBearer, Organisation
from backend.organisations.tables import CalendarDay, OpeningHours
from backend.patients.tables import Patient
from backend.routing.tables import SkillCategory, TechnicianHours, TechnicianResource, TechnicianSkill, VisitDuration
from backend.routing.tables import DistanceTarget, MileageEntry, RouteDay
from backend.routing.tables import PlanProposal, PlanProposalUnplanned, PlanProposalVisit
from backend.reports.tables import BoardComment, BoardReport, KpiCostRate, KpiFact, KpiMonth, KpiPartPrice, KpiSplit, KpiState, KpiTarget
from backend.visits.tables import PartUsed, TimeEntry, WorkNote, WorkPhoto
from backend.workorders.tables import WorkOrder, WorkOrderCounter, WorkOrderEvent

TABLES = [
    JobFailure,
    RegisterChange,
    Organisation,
    CostBearer,
    CareUnit,
    OpeningHours,
    CalendarDay,
    StaffUser,
    Passkey,
    Invitation,
    SecurityEvent,
    KeyValue,
    StaffArea,
    SignInPolicy,
    IdpLink,
    IdpRoleMapping,
    Patient,
    DeviceCategory,
    Article,
    Device,
    DeviceLoan,
    DeviceLabel,
    FuSchedule,
    ChecklistTemplate,
    WorkOrder,
    WorkOrderCounter,
    WorkOrderEvent,
    ChecklistAnswer,
    SafetyDecision,
    FuGeneration,
    FuAutoGeneration,
    FuDue,
    FuDueCount,
    FuDueState,
    PartUsed,
    TimeEntry,
    WorkNote,
    WorkPhoto,
    AuditLog,
    AuditReview,
    AuditReviewItem,
    AuditLogUse,
    ApiToken,
    WriteReceipt,
    SyncConflict,
    ProductArea,
    FittingResource,
    AvailabilityTemplate,
    AvailabilityException,
    FittingBooking,
    ResourceHold,
    BookingEvent,
    CalendarFeedToken,
    DeviceToken,
    FaultReport,
    ImportRun,
    Notice,
    OutboundMessage,
    TechnicianResource,
    TechnicianHours,
    SkillCategory,
    TechnicianSkill,
    VisitDuration,
    MileageEntry,
    RouteDay,
    DistanceTarget,
    PlanProposal,
    PlanProposalVisit,
    PlanProposalUnplanned,
    KpiTarget,
    KpiCostRate,
    KpiPartPrice,
    BoardComment,
    BoardReport,
    KpiFact,
    KpiMonth,
    KpiSplit,
    KpiState,
    Recall,
    RecallArticle,
    RecallDevice,
    Deviation,
    DeviationPhoto,
]

APP_CONFIG = AppConfig(
    app_name="runda",
    migrations_folder_path=str(PROJECT_ROOT / "migrations"),
    table_classes=TABLES,
)
