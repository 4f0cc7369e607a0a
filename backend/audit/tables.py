"""The access log (loggkontroll): one row for every read of a patient's data."""

from piccolo.columns import BigSerial, ForeignKey, Timestamptz, Varchar
from piccolo.columns.reference import LazyTableReference
from piccolo.table import Table

from backend.accounts.tables import StaffUser
from backend.organisations.tables import CareUnit, Organisation


class AuditLog(Table, tablename="audit_log"):
    id = BigSerial(primary_key=True)
    organisation = ForeignKey(Organisation)
    at = Timestamptz()
    staff_user = ForeignKey(StaffUser)
    role = Varchar(length=20)
    care_unit = ForeignKey(CareUnit, null=True)
    # Named lazily: the access log sits below the patient register (patients record their reads
    # here), so it does not import it; the foreign key itself is in the migration.
    patient = ForeignKey(LazyTableReference("Patient", module_path="backend.patients.tables"))
    what = Varchar(length=100)  # e.g. "visit", "device_card", "fault_triage"
