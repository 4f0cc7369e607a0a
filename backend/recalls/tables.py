"""Recalls and field safety notices (säkerhetsmeddelanden), and the devices each one reached."""

from enum import Enum

from piccolo.columns import Array, BigInt, Date, ForeignKey, Text, Timestamptz, Varchar
from piccolo.table import Table

from backend.accounts.tables import StaffUser
from backend.devices.tables import Article, Device
from backend.organisations.tables import Organisation
from backend.workorders.tables import WorkOrder


class RecallAction(str, Enum):
    check = "check"  # kontroll eller åtgärd på plats (hos patienten eller på HMC)
    pickup = "pickup"  # hämtning och karantän


RECALL_ACTION_LABELS = {
    RecallAction.check: "Kontroll eller åtgärd på plats",
    RecallAction.pickup: "Hämtning och karantän",
}


class Recall(Table, tablename="recall"):
    organisation = ForeignKey(Organisation)
    title = Varchar(length=200)
    reference = Varchar(length=100, default="")  # the manufacturer's reference (FSN number)
    manufacturer = Varchar(length=100)
    serial_from = Varchar(length=60, default="")
    serial_to = Varchar(length=60, default="")
    made_from = Date(null=True)
    made_to = Date(null=True)
    lot_numbers = Array(Text())
    action = Varchar(length=20, choices=RecallAction)
    instructions = Text(default="")
    deadline = Date()
    created_by = ForeignKey(StaffUser, null=True)
    created_at = Timestamptz()
    closed_at = Timestamptz(null=True)
    closed_by = ForeignKey(StaffUser, null=True)
    closing_note = Text(default="")
    orders_queued_at = Timestamptz(null=True)  # its orders are being made by the job queue
    orders_queued_by = ForeignKey(StaffUser, null=True)
    orders_job = BigInt(null=True)  # the queue's job: whether it still runs, or stopped


class RecallArticle(Table, tablename="recall_article"):
    """An article the notice names (composite primary key in SQL)."""

    organisation = ForeignKey(Organisation)
    recall = ForeignKey(Recall, primary_key=True)
    article = ForeignKey(Article)


class RecallDevice(Table, tablename="recall_device"):
    """A device the notice reached: its order, or that it could not be found."""

    organisation = ForeignKey(Organisation)
    recall = ForeignKey(Recall)
    device = ForeignKey(Device)
    work_order = ForeignKey(WorkOrder, null=True)
    not_found_at = Timestamptz(null=True)
    not_found_by = ForeignKey(StaffUser, null=True)
    not_found_note = Text(default="")
    created_at = Timestamptz()
