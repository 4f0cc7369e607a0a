"""What a technician records on a visit, as rows of its own: parts, time, notes and photos."""

from piccolo.columns import BigSerial, Bytea, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.table import Table

from backend.accounts.tables import StaffUser
from backend.devices.tables import Article
from backend.workorders.tables import WorkOrder


class PartUsed(Table, tablename="part_used"):
    id = BigSerial(primary_key=True)
    work_order = ForeignKey(WorkOrder)
    article = ForeignKey(Article)
    quantity = Integer()
    added_by = ForeignKey(StaffUser)
    added_at = Timestamptz()


class TimeEntry(Table, tablename="time_entry"):
    id = BigSerial(primary_key=True)
    work_order = ForeignKey(WorkOrder)
    minutes = Integer()
    added_by = ForeignKey(StaffUser)
    added_at = Timestamptz()


class WorkNote(Table, tablename="work_note"):
    id = BigSerial(primary_key=True)
    work_order = ForeignKey(WorkOrder)
    kind = Varchar(length=20)  # fault_found, action_taken, note
    text = Text()
    added_by = ForeignKey(StaffUser)
    added_at = Timestamptz()


class WorkPhoto(Table, tablename="work_photo"):
    """A photo from the visit, stored in PostgreSQL; shown only to staff who may see the order."""

    id = BigSerial(primary_key=True)
    work_order = ForeignKey(WorkOrder)
    content = Bytea()
    content_type = Varchar(length=20)
    width = Integer()
    height = Integer()
    caption = Text()
    added_by = ForeignKey(StaffUser)
    added_at = Timestamptz()
