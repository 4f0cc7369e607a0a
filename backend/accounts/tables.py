"""Staff users: every person who signs in to Runda."""

from enum import Enum

from piccolo.columns import Boolean, Bytea, ForeignKey, Timestamptz, Varchar
from piccolo.table import Table

from backend.organisations.tables import CareUnit, Organisation


class Role(str, Enum):
    technician = "technician"
    consultant = "consultant"
    prescriber = "prescriber"
    coordinator = "coordinator"
    admin = "admin"


ROLE_LABELS = {
    Role.technician: "Tekniker",
    Role.consultant: "Konsulent",
    Role.prescriber: "Förskrivare",
    Role.coordinator: "Koordinator",
    Role.admin: "Administratör",
}


class StaffUser(Table, tablename="staff_user"):
    organisation = ForeignKey(Organisation)
    name = Varchar(length=200)
    role = Varchar(length=20, choices=Role)
    care_unit = ForeignKey(CareUnit, null=True)  # prescribers only
    # Random WebAuthn user handle: never the database id or anything personal.
    user_handle = Bytea()
    active = Boolean(default=True)
    created_at = Timestamptz()
