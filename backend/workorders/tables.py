"""Work orders (arbetsordrar): every repair, FU, installation and fitting the HMC does."""

from enum import Enum

from piccolo.columns import BigSerial, Boolean, Date, ForeignKey, Integer, SmallInt, Text, Time, Timestamptz, Varchar
from piccolo.table import Table

from backend.accounts.tables import StaffUser
from backend.devices.tables import Device, FuSchedule
from backend.organisations.tables import CareUnit, Organisation
from backend.patients.tables import Patient


class WorkOrderType(str, Enum):
    repair_hmc = "repair_hmc"  # AU på HMC
    repair_on_site = "repair_on_site"  # AU hos brukare
    quick_service = "quick_service"  # snabbservice
    urgent_repair = "urgent_repair"  # akut AU
    technical_review = "technical_review"  # teknisk översyn
    maintenance = "maintenance"  # FU, förebyggande underhåll
    installation = "installation"  # installation/anpassning
    fitting = "fitting"  # utprovning/konsultation

TYPE_LABELS = {
    WorkOrderType.repair_hmc: "AU på HMC",
    WorkOrderType.repair_on_site: "AU hos brukare",
    WorkOrderType.quick_service: "Snabbservice",
    WorkOrderType.urgent_repair: "Akut AU",
    WorkOrderType.technical_review: "Teknisk översyn",
    WorkOrderType.maintenance: "FU",
    WorkOrderType.installation: "Installation/anpassning",
    WorkOrderType.fitting: "Utprovning",
}


class WorkOrderStatus(str, Enum):
    new = "new"  # received, not yet planned
    planned = "planned"  # assigned with a date
    in_progress = "in_progress"
    paused = "paused"
    not_completed = "not_completed"  # could not complete: back to the coordinator
    completed = "completed"
    cancelled = "cancelled"  # makulerad, always with a reason

STATUS_LABELS = {
    WorkOrderStatus.new: "Ny",
    WorkOrderStatus.planned: "Planerad",
    WorkOrderStatus.in_progress: "Pågår",
    WorkOrderStatus.paused: "Pausad",
    WorkOrderStatus.not_completed: "Ej utförd",
    WorkOrderStatus.completed: "Klar",
    WorkOrderStatus.cancelled: "Makulerad",
}


class Channel(str, Enum):
    prescriber = "prescriber"
    phone = "phone"
    web = "web"  # fault report from a QR sticker or link
    generated = "generated"  # FU from the device's interval
    hmc = "hmc"  # registered at the HMC's counter


class Outcome(str, Enum):
    fixed = "fixed"
    needs_follow_up = "needs_follow_up"
    taken_to_workshop = "taken_to_workshop"
    replacement_left = "replacement_left"  # ersättningshjälpmedel lämnat
    condemned = "condemned"  # utdömd: the prescriber starts a new assessment

OUTCOME_LABELS = {
    Outcome.fixed: "Åtgärdat",
    Outcome.needs_follow_up: "Behöver uppföljning",
    Outcome.taken_to_workshop: "Taget till verkstaden",
    Outcome.replacement_left: "Ersättningshjälpmedel lämnat",
    Outcome.condemned: "Utdömt",
}


class NotCompletedReason(str, Enum):
    not_home = "not_home"
    unreachable = "unreachable"
    declined = "declined"
    other = "other"

NOT_COMPLETED_LABELS = {
    NotCompletedReason.not_home: "Brukaren var inte hemma",
    NotCompletedReason.unreachable: "Gick inte att nå brukaren",
    NotCompletedReason.declined: "Brukaren tackade nej till besöket",
    NotCompletedReason.other: "Annat skäl",
}


# What happened to an order (work_order_event.kind), as the history shows it.
EVENT_LABELS = {
    "created": "Registrerad",
    "planned": "Planerad",
    "reordered": "Ny plats i dagens ordning",
    "started": "Påbörjad",
    "paused": "Pausad",
    "completed": "Slutförd",
    "not_completed": "Kunde inte utföras",
    "cancelled": "Makulerad",
    "safety_decision": "Beslut om underkänd säkerhetspunkt",
    "device_status": "Hjälpmedlets status ändrad",
    "fu_done": "FU registrerad",
    "conflict_applied": "Teknikerns sparade ändring tillämpad",
}


class WorkOrder(Table, tablename="work_order"):
    organisation = ForeignKey(Organisation)
    number = Varchar(length=20)  # human-facing, e.g. AO-2026-004711
    type = Varchar(length=20, choices=WorkOrderType)
    status = Varchar(length=20, choices=WorkOrderStatus)
    channel = Varchar(length=20, choices=Channel)
    device = ForeignKey(Device)
    patient = ForeignKey(Patient, null=True)
    care_unit = ForeignKey(CareUnit, null=True)  # the ordering unit, when a prescriber ordered
    orderer = ForeignKey(StaffUser, null=True)
    description = Text()
    assignee = ForeignKey(StaffUser, null=True)
    planned_date = Date(null=True)
    window_start = Time(null=True)
    window_end = Time(null=True)
    route_position = Integer(null=True)  # order within the assignee's day
    version = Integer(default=1)  # optimistic concurrency: every change bumps it
    # The service-level clock: received_at starts it; the due dates are fixed at receipt
    # from the organisation's clocks, so a later change of rules does not move old orders.
    received_at = Timestamptz()
    start_due = Date(null=True)
    finish_due = Date(null=True)
    started_at = Timestamptz(null=True)
    completed_at = Timestamptz(null=True)
    cancelled_at = Timestamptz(null=True)
    cancel_reason = Text(null=True)
    outcome = Varchar(length=30, null=True, choices=Outcome)
    updated_at = Timestamptz()
    follow_up_of = ForeignKey("self", null=True)  # the FU whose failed safety item made this repair
    not_completed_reason = Varchar(length=20, null=True, choices=NotCompletedReason)
    message_to_orderer = Text(null=True)
    # From a fault report: where the device is now and whom to call (personal data, shown only
    # on the visit and the coordinator's order page, never in the device's history).
    site_contact = Text(default="")
    # A generated FU: the schedule it does and the day that schedule fell due (at most one order per
    # device, schedule and due date that is not cancelled: a unique index, m0020).
    fu_schedule = ForeignKey(FuSchedule, null=True)
    fu_due_date = Date(null=True)
    # Route planning (m0023): a visit confirmed with the patient keeps its technician, day and
    # time (bekräftad med brukaren); some work needs two technicians, or one named technician.
    plan_locked = Boolean(default=False)
    technicians_needed = SmallInt(default=1)
    required_technician = ForeignKey(StaffUser, null=True)
    second_assignee = ForeignKey(StaffUser, null=True)


class WorkOrderCounter(Table, tablename="work_order_counter"):
    """The last number handed out per organisation and year (composite primary key in SQL)."""

    organisation = ForeignKey(Organisation, primary_key=True)
    year = Integer()
    last_number = Integer()


class WorkOrderEvent(Table, tablename="work_order_event"):
    """One thing that happened to an order: planned, started, paused, completed, cancelled…"""

    id = BigSerial(primary_key=True)
    work_order = ForeignKey(WorkOrder)
    at = Timestamptz()
    staff_user = ForeignKey(StaffUser, null=True)
    kind = Varchar(length=30)
    detail = Text()
