"""Device categories, articles and the individually marked devices on loan."""

from enum import Enum

from piccolo.columns import JSONB, BigSerial, Boolean, Date, ForeignKey, Integer, Timestamptz, Varchar
from piccolo.table import Table

from backend.organisations.tables import CostBearer, Organisation
from backend.patients.tables import Patient


class DeviceStatus(str, Enum):
    in_use = "in_use"  # on loan, working
    in_depot = "in_depot"  # at the HMC, ready to lend
    out_of_use = "out_of_use"  # taken out of use after a failed safety check
    in_repair = "in_repair"
    reconditioning = "reconditioning"  # rekonditionering before the next user
    condemned = "condemned"  # utdömd


DEVICE_STATUS_LABELS = {
    DeviceStatus.in_use: "I bruk",
    DeviceStatus.in_depot: "I förråd",
    DeviceStatus.out_of_use: "Ur bruk",
    DeviceStatus.in_repair: "På reparation",
    DeviceStatus.reconditioning: "Rekonditioneras",
    DeviceStatus.condemned: "Utdömd",
}


class DeviceCategory(Table, tablename="device_category"):
    organisation = ForeignKey(Organisation)
    code = Varchar(length=40)  # stable key, e.g. "powered_wheelchair"
    name = Varchar(length=100)  # Swedish, e.g. "Elrullstol"
    iso_code = Varchar(length=12)  # ISO 9999, e.g. "12 23 06"
    expected_life_years = Integer()
    # The checks shown to patients on the public fault-report page; [] = the built-in ones
    # (backend/faults/categories.py). The FU interval lives in fu_schedule.
    self_checks = JSONB(default="[]")


class Article(Table, tablename="article"):
    """A product from the HMC's assortment, or a spare part (category is then empty)."""

    organisation = ForeignKey(Organisation)
    article_number = Varchar(length=30)
    name = Varchar(length=200)
    manufacturer = Varchar(length=100)
    category = ForeignKey(DeviceCategory, null=True)
    expected_life_years = Integer(null=True)  # None: the category's
    active = Boolean(default=True)  # an inactive article is not offered for new devices


class Device(Table, tablename="device"):
    organisation = ForeignKey(Organisation)
    individnummer = Varchar(length=20)  # the HMC's label, e.g. A12345
    serial_number = Varchar(length=60)
    udi = Varchar(length=120)  # '' where the manufacturer gives none
    manufacturing_date = Date(null=True)  # None: not known (older devices)
    lot_number = Varchar(length=60, default="")  # lot/batch; '' where unknown
    article = ForeignKey(Article)
    status = Varchar(length=20, choices=DeviceStatus)
    holder = ForeignKey(Patient, null=True)  # None: in the HMC's depot
    owner = ForeignKey(CostBearer, null=True)  # None: owned by the HMC itself
    in_service_date = Date()
    expected_end_of_life = Date()
    last_fu_date = Date(null=True)
    next_fu_date = Date(null=True)
    created_at = Timestamptz()


class DeviceLoan(Table, tablename="device_loan"):
    """One patient's loan of one device; the open loan (no end) is the device's holder."""
    id = BigSerial(primary_key=True)
    organisation = ForeignKey(Organisation)
    device = ForeignKey(Device)
    patient = ForeignKey(Patient)
    from_date = Date()
    to_date = Date(null=True)
    created_at = Timestamptz()


class FuSchedule(Table, tablename="fu_schedule"):
    """How often a device gets FU and with which checklist: a default on a category or an
    article, or a device's own (or its override of an inherited schedule's interval)."""
    organisation = ForeignKey(Organisation)
    category = ForeignKey(DeviceCategory, null=True)
    article = ForeignKey(Article, null=True)
    device = ForeignKey(Device, null=True)
    overrides = ForeignKey("self", null=True)
    name = Varchar(length=100)
    interval_days = Integer()
    checklist_code = Varchar(length=40, default="fu")  # the category's checklist (maintenance)
    before_new_user = Boolean(default=False)
    active = Boolean(default=True)
    created_at = Timestamptz()


class DeviceLabel(Table, tablename="device_label"):
    """A label the device had before its label was replaced: the old individnummer stays
    findable (it leads to the device) and is never given to another device."""
    organisation = ForeignKey(Organisation)
    device = ForeignKey(Device)
    individnummer = Varchar(length=20)
    replaced_at = Timestamptz()
