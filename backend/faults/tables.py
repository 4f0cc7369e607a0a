"""Fault reports (felanmälningar) and the device tokens behind the QR stickers."""

from enum import Enum

from piccolo.columns import Boolean, Bytea, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.column_types import Array
from piccolo.table import Table

from backend.accounts.tables import StaffUser
from backend.devices.tables import Device
from backend.organisations.tables import CareUnit, Organisation
from backend.workorders.tables import WorkOrder


class FaultReportStatus(str, Enum):
    new = "new"  # waiting in the coordinators' triage queue
    ordered = "ordered"  # became a work order; the reporter's status follows the order
    closed = "closed"  # answered and closed without an order, with a reason


class DeviceToken(Table, tablename="device_token"):
    """The opaque token in a device's QR link. Replaced with the sticker; the device stays the same."""

    organisation = ForeignKey(Organisation)
    device = ForeignKey(Device)
    token = Varchar(length=32, unique=True)
    created_at = Timestamptz()
    replaced_at = Timestamptz(null=True)


class FaultReport(Table, tablename="fault_report"):
    """What a patient, relative or care worker (or a prescriber) reported about a device."""

    organisation = ForeignKey(Organisation)
    number = Varchar(length=20, unique=True)
    device = ForeignKey(Device)
    device_token = ForeignKey(DeviceToken, null=True)
    channel = Varchar(length=20)  # web | prescriber
    status = Varchar(length=20, choices=FaultReportStatus)
    status_token = Varchar(length=32, unique=True)
    submission_key = Varchar(length=64, unique=True)
    problems = Array(base_column=Text())  # codes from backend.faults.categories
    description = Text()
    where_on_device = Varchar(length=200)
    usable = Varchar(length=10)  # yes | partly | no
    can_bring_in = Varchar(length=10)  # yes | no
    needs_replacement = Varchar(length=10)  # yes | no | unsure
    at_usual_place = Boolean()
    address = Varchar(length=200)
    door_code = Varchar(length=40)
    contact_name = Varchar(length=100)
    contact_phone = Varchar(length=40)
    call_times = Varchar(length=200)
    photo = Bytea(null=True)
    photo_content_type = Varchar(length=20, null=True)
    photo_width = Integer(null=True)
    photo_height = Integer(null=True)
    received_at = Timestamptz()
    ordered_by = ForeignKey(StaffUser, null=True)
    care_unit = ForeignKey(CareUnit, null=True)
    work_order = ForeignKey(WorkOrder, null=True)
    handled_by = ForeignKey(StaffUser, null=True)
    handled_at = Timestamptz(null=True)
    answer = Text(null=True)
