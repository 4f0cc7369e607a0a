"""Work orders (arbetsordrar): every repair, FU, installation and fitting the HMC does."""

from enum import Enum

from piccolo.columns import Date, ForeignKey, Integer, Text, Time, Timestamptz, Varchar
from piccolo.table import Table

from backend.accounts.tables import StaffUser
from backend.devices.tables import Device
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


class WorkOrderStatus(str, Enum):
    new = "new"  # received, not yet planned
    planned = "planned"  # assigned with a date
    in_progress = "in_progress"
    paused = "paused"
    not_completed = "not_completed"  # could not complete: back to the coordinator
    completed = "completed"
    cancelled = "cancelled"  # makulerad, always with a reason


class Channel(str, Enum):
    prescriber = "prescriber"
    phone = "phone"
    web = "web"  # fault report from a QR sticker or link
    generated = "generated"  # FU from the device's interval
    hmc = "hmc"  # registered at the HMC's counter


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
    outcome = Varchar(length=30, null=True)
    updated_at = Timestamptz()
