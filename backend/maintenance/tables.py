"""FU checklists: templates, versioned so old results keep the questions they answered;
the answers given on a visit; and the decisions taken about failed safety items."""

from piccolo.columns import JSONB, BigSerial, ForeignKey, Integer, Numeric, Text, Timestamptz, Varchar
from piccolo.table import Table

from backend.accounts.tables import StaffUser
from backend.devices.tables import DeviceCategory
from backend.workorders.tables import WorkOrder


class ChecklistTemplate(Table, tablename="checklist_template"):
    category = ForeignKey(DeviceCategory)
    version = Integer()
    # [{"key", "text", "safety_critical", "measurement": {"unit", "min", "max"} | null}]
    items = JSONB()
    created_at = Timestamptz()
    code = Varchar(length=40, default="fu")  # the category's list, e.g. "fu", "sling"
    name = Varchar(length=100)
    published_at = Timestamptz(null=True)  # None: a draft


class ChecklistAnswer(Table, tablename="checklist_answer"):
    """One answer to one checklist item; a later row for the same item supersedes it."""

    id = BigSerial(primary_key=True)
    work_order = ForeignKey(WorkOrder)
    template = ForeignKey(ChecklistTemplate)
    item_key = Varchar(length=60)
    answer = Varchar(length=4)  # pass, fail, na
    measurement = Numeric(digits=(12, 3), null=True)
    comment = Text()
    answered_by = ForeignKey(StaffUser)
    answered_at = Timestamptz()


class SafetyDecision(Table, tablename="safety_decision"):
    """What was done about a failed safety-critical item; the device's status follows it."""

    id = BigSerial(primary_key=True)
    work_order = ForeignKey(WorkOrder)
    item_key = Varchar(length=60)
    decision = Varchar(length=20)  # taken_out_of_use, repaired_on_site, follow_up_order
    comment = Text()
    follow_up_order = ForeignKey(WorkOrder, null=True)
    decided_by = ForeignKey(StaffUser)
    decided_at = Timestamptz()
