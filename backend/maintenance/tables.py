"""FU checklists: templates, versioned so old results keep the questions they answered;
the answers given on a visit; and the decisions taken about failed safety items."""

from piccolo.columns import JSONB, BigInt, BigSerial, Boolean, Date, ForeignKey, Integer, Numeric, Text, Timestamptz, Varchar
from piccolo.table import Table

from backend.accounts.tables import StaffUser
from backend.devices.tables import DeviceCategory
from backend.organisations.tables import CostBearer, Organisation
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


# --- FU production (m0020): generation runs, automatic generation, the due list as last computed ---


class FuGeneration(Table, tablename="fu_generation"):
    """One run of FU generation for a period, and how far it has come (see generation.py)."""

    organisation = ForeignKey(Organisation)
    staff_user = ForeignKey(StaffUser, null=True)  # None: the daily automatic run
    actor_name = Varchar(length=200)
    automatic = Boolean(default=False)
    period_start = Date()
    period_end = Date()
    include_overdue = Boolean(default=False)  # also what fell due before the period without an order
    cost_bearer = ForeignKey(CostBearer, null=True)
    category = ForeignKey(DeviceCategory, null=True)
    state = Varchar(length=20, default="queued")  # queued, running, done, failed
    total_devices = Integer(default=0)
    done_devices = Integer(default=0)
    last_device = Integer(default=0)  # devices up to this id are done (the batches' cursor)
    created = Integer(default=0)
    existing = Integer(default=0)  # due, but an order was there already
    unassigned = Integer(default=0)  # created without a technician (no area covers the municipality)
    first_planned = Date(null=True)
    last_planned = Date(null=True)
    error = Text(default="")
    job_id = BigInt(null=True)
    created_at = Timestamptz()
    started_at = Timestamptz(null=True)
    finished_at = Timestamptz(null=True)


class FuAutoGeneration(Table, tablename="fu_auto_generation"):
    """Whether the organisation generates FU each day, and how many days ahead."""

    organisation = ForeignKey(Organisation, primary_key=True)
    active = Boolean(default=False)
    days_ahead = Integer(default=35)
    last_run_on = Date(null=True)
    changed_at = Timestamptz()


class FuDue(Table, tablename="fu_due"):
    """The due list as last computed (due.py): one row per device and FU schedule that applies."""

    organisation = ForeignKey(Organisation)
    device = Integer(primary_key=True)  # with fu_schedule: a composite primary key in SQL
    fu_schedule = Integer()
    kind = Varchar(length=10)  # calendar (on loan), new_user (in the depot: before its next user)
    individnummer = Varchar(length=20)
    category = Integer(null=True)
    cost_bearer = Integer(null=True)
    checklist_code = Varchar(length=40)
    schedule_name = Varchar(length=100)
    interval_days = Integer()
    last_done = Date(null=True)
    due_date = Date(null=True)
    open_order = Integer(null=True)
    cancelled_at = Timestamptz(null=True)
    cancel_reason = Text(null=True)


class FuDueCount(Table, tablename="fu_due_count"):
    """The due list's counts as last computed: the overdue together, the rest by the day (due.py)."""

    id = BigSerial(primary_key=True)
    organisation = ForeignKey(Organisation)
    kind = Varchar(length=10)
    category = Integer(null=True)
    cost_bearer = Integer(null=True)
    checklist_code = Varchar(length=40)
    overdue = Boolean()
    due_date = Date(null=True)
    ordered = Boolean()
    devices = Integer()


class FuDueState(Table, tablename="fu_due_state"):
    """When the due list was last computed, what it leaves out, its schedules and the backlog trend."""

    organisation = ForeignKey(Organisation, primary_key=True)
    refreshed_at = Timestamptz()
    excluded = JSONB(default="{}")
    schedules = JSONB(default="[]")
    backlog = JSONB(default="[]")
