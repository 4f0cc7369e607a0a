"""The access log (loggkontroll): one row for every read of a patient's data, by a staff member
or by an integration through the API (its token): exactly one of the two (a CHECK in SQL)."""

from piccolo.columns import BigSerial, ForeignKey, Timestamptz, Varchar
from piccolo.columns.reference import LazyTableReference
from piccolo.table import Table

from backend.accounts.tables import StaffUser
from backend.organisations.tables import CareUnit, Organisation


class AuditLog(Table, tablename="audit_log"):
    id = BigSerial(primary_key=True)
    organisation = ForeignKey(Organisation)
    at = Timestamptz()
    staff_user = ForeignKey(StaffUser, null=True)  # None: an integration read it
    role = Varchar(length=20)
    care_unit = ForeignKey(CareUnit, null=True)
    # Named lazily: the access log sits below the patient register (patients record their reads
    # here), so it does not import it; the foreign key itself is in the migration.
    patient = ForeignKey(LazyTableReference("Patient", module_path="backend.patients.tables"))
    what = Varchar(length=100)  # e.g. "visit", "device_card", "fault_triage"
    # The API token of the integration that read it (None: a staff member). Named lazily: the
    # integrations domain sits above this one.
    api_token = ForeignKey(LazyTableReference("ApiToken", module_path="backend.integrations.tables"), null=True)
