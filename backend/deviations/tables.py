"""Deviations (avvikelser) and their photos. The schema, with its checks, is migrations/m0031."""

from piccolo.columns import Boolean, Bytea, Date, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.table import Table

from backend.accounts.tables import StaffUser
from backend.devices.tables import Device
from backend.organisations.tables import Organisation
from backend.patients.tables import Patient
from backend.workorders.tables import WorkOrder


class Deviation(Table, tablename="deviation"):
    """A negative event or near-miss with a device, and its report to Läkemedelsverket and the
    manufacturer; the device's identity is a snapshot, corrected in the case."""

    organisation = ForeignKey(Organisation)
    number = Varchar(length=20)
    version = Integer(default=1)
    work_order = ForeignKey(WorkOrder, null=True)
    device = ForeignKey(Device)
    patient = ForeignKey(Patient, null=True)  # the holder then; never in the report
    raised_by = ForeignKey(StaffUser)
    raised_at = Timestamptz()
    occurred_on = Date()
    aware_on = Date()
    description = Text()
    consequence = Varchar(length=20)  # none | near_miss | harm
    serious_harm = Boolean(null=True)  # for harm only
    device_kept = Boolean(default=False)
    pickup_order = ForeignKey(WorkOrder, null=True)
    manufacturer = Varchar(length=200)
    trade_name = Varchar(length=200)
    article_number = Varchar(length=100)
    serial_number = Varchar(length=100)
    lot_number = Varchar(length=100)
    udi = Varchar(length=200)
    manufacturing_date = Date(null=True)
    individnummer = Varchar(length=20)
    category_name = Varchar(length=200)
    classification = Varchar(length=40, null=True)
    investigation = Text()
    status = Varchar(length=20)  # new | investigating | reported | closed
    authority_reference = Varchar(length=60)
    manufacturer_reference = Varchar(length=60)
    reported_at = Timestamptz(null=True)
    closed_at = Timestamptz(null=True)
    updated_at = Timestamptz()
    updated_by = ForeignKey(StaffUser, null=True)


class DeviationPhoto(Table, tablename="deviation_photo"):
    deviation = ForeignKey(Deviation)
    content = Bytea()
    content_type = Varchar(length=40)
    width = Integer()
    height = Integer()
    caption = Varchar(length=300)
    added_by = ForeignKey(StaffUser)
    added_at = Timestamptz()
