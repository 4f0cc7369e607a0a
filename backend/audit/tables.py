"""The access log (loggkontroll): one row for every read of a patient's data, by a staff member
or by an integration through the API (its token): exactly one of the two (a CHECK in SQL)."""

from piccolo.columns import JSONB, BigInt, BigSerial, Date, ForeignKey, Text, Timestamptz, Varchar
from piccolo.columns.column_types import Array
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


class AuditReview(Table, tablename="audit_review"):
    """A documented review of the log (loggkontroll): who, why, which period and selection, the
    conclusion, and when it was closed."""

    organisation = ForeignKey(Organisation)
    reviewer = ForeignKey(StaffUser, null=True)  # None: prepared by the monthly reminder job
    created_at = Timestamptz()
    reason = Varchar(length=20)  # routine (recurring random sample) | suspicion
    period_from = Date()
    period_until = Date()
    selection = JSONB()
    selection_text = Text()
    status = Varchar(length=10)  # open | closed
    conclusion = Text()
    closed_at = Timestamptz(null=True)
    closed_by = ForeignKey(StaffUser, null=True)


class AuditReviewItem(Table, tablename="audit_review_item"):
    """One flagged access in a review, copied from the log (which is pruned), and its verdict."""

    id = BigSerial(primary_key=True)
    review = ForeignKey(AuditReview)
    audit_id = BigInt()
    at = Timestamptz()
    staff_user = ForeignKey(StaffUser, null=True)
    api_token = ForeignKey(LazyTableReference("ApiToken", module_path="backend.integrations.tables"), null=True)
    role = Varchar(length=20)
    care_unit = ForeignKey(CareUnit, null=True)
    patient = ForeignKey(LazyTableReference("Patient", module_path="backend.patients.tables"))
    what = Varchar(length=100)
    flags = Array(Text())
    verdict = Varchar(length=10, null=True)  # ok (utan anmärkning) | remark (med anmärkning)
    comment = Text()
    judged_by = ForeignKey(StaffUser, null=True)
    judged_at = Timestamptz(null=True)


class AuditLogUse(Table, tablename="audit_log_use"):
    """Every opening of the log itself: a search, a review, an export, a patient's extract."""

    id = BigSerial(primary_key=True)
    organisation = ForeignKey(Organisation)
    staff_user = ForeignKey(StaffUser)
    at = Timestamptz()
    kind = Varchar(length=20)
    patient = ForeignKey(LazyTableReference("Patient", module_path="backend.patients.tables"), null=True)
    detail = Text()
