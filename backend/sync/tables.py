"""Receipts of keyed writes and the conflicts kept when a write met a changed order."""

from piccolo.columns import UUID, BigSerial, Bytea, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.column_types import JSONB
from piccolo.table import Table

from backend.accounts.tables import StaffUser
from backend.organisations.tables import Organisation
from backend.workorders.tables import WorkOrder


class WriteReceipt(Table, tablename="write_receipt"):
    """Proof that the write with this idempotency key was applied (or refused) once, and its answer."""

    key = UUID(primary_key=True)
    organisation = ForeignKey(Organisation)
    staff_user = ForeignKey(StaffUser)
    path = Varchar(length=300)
    body_hash = Bytea()
    status = Integer()
    location = Varchar(length=300, null=True)
    work_order = ForeignKey(WorkOrder, null=True)
    created_at = Timestamptz()


class SyncConflict(Table, tablename="sync_conflict"):
    """A technician's submission that met an order changed meanwhile: kept in full until resolved."""

    id = BigSerial(primary_key=True)
    organisation = ForeignKey(Organisation)
    staff_user = ForeignKey(StaffUser)
    work_order = ForeignKey(WorkOrder)
    key = UUID(null=True, unique=True)
    path = Varchar(length=300)
    fields = JSONB()
    photo = Bytea(null=True)
    message = Text()
    base_version = Integer(null=True)
    created_at = Timestamptz()
    resolved_at = Timestamptz(null=True)
    resolved_by = ForeignKey(StaffUser, null=True)
    resolution = Varchar(length=20, null=True)
    resolution_note = Text()
