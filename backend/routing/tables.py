"""Route planning's tables (raw SQL in migrations/m0023 onwards; these classes describe them).
Every routing table's class is here: add new ones below (and to backend/piccolo_app.py)."""

from piccolo.columns import DoublePrecision, ForeignKey, Integer, SmallInt, Text, Time, Timestamptz, Varchar
from piccolo.columns import JSONB, Date, Numeric
from piccolo.columns import Array, Real
from piccolo.table import Table

from backend.accounts.tables import StaffUser
from backend.devices.tables import DeviceCategory
from backend.organisations.tables import Organisation
from backend.workorders.tables import WorkOrder


class TechnicianResource(Table, tablename="technician_resource"):
    """Where a technician's day starts and ends, lunch, and the vehicle's daily driving limit."""

    staff_user = ForeignKey(StaffUser, primary_key=True)
    start_label = Text(default="")
    start_latitude = DoublePrecision()
    start_longitude = DoublePrecision()
    end_label = Text(null=True)  # the end columns NULL: back where the day started
    end_latitude = DoublePrecision(null=True)
    end_longitude = DoublePrecision(null=True)
    lunch_earliest = Time()
    lunch_latest = Time()
    lunch_minutes = SmallInt(default=30)
    max_drive_km = Integer(null=True)
    updated_at = Timestamptz()


class TechnicianHours(Table, tablename="technician_hours"):
    """One working weekday (0 Monday .. 6 Sunday) of a described technician (composite key in SQL)."""

    staff_user = ForeignKey(StaffUser, primary_key=True)
    weekday = SmallInt()
    starts = Time()
    ends = Time()


class SkillCategory(Table, tablename="skill_category"):
    """A device category only technicians with the skill may service (composite key in SQL)."""

    organisation = ForeignKey(Organisation, primary_key=True)
    device_category = ForeignKey(DeviceCategory)


class TechnicianSkill(Table, tablename="technician_skill"):
    staff_user = ForeignKey(StaffUser, primary_key=True)
    device_category = ForeignKey(DeviceCategory)


class VisitDuration(Table, tablename="visit_duration"):
    """The organisation's default time on site per work-order type (and category: NULL for all)."""

    organisation = ForeignKey(Organisation)
    type = Varchar(length=20)
    device_category = ForeignKey(DeviceCategory, null=True)
    minutes = SmallInt()


# --- the driving KPI (migrations/m0025; kpi.py) ---


class MileageEntry(Table, tablename="mileage_entry"):
    """The km a technician entered for a day (composite key staff_user, day in SQL)."""

    staff_user = ForeignKey(StaffUser, primary_key=True)
    day = Date()
    organisation = ForeignKey(Organisation)
    km = Numeric(digits=(6, 1))
    entered_at = Timestamptz()


class RouteDay(Table, tablename="route_day"):
    """A past technician-day's planned km, walked from its route (composite key staff_user, day)."""

    staff_user = ForeignKey(StaffUser, primary_key=True)
    day = Date()
    organisation = ForeignKey(Organisation)
    planned_km = Numeric(digits=(7, 1))
    visits = Integer()
    visits_without_place = Integer(default=0)
    km_by_cost_bearer = JSONB(default="{}")
    walked_at = Timestamptz()


class DistanceTarget(Table, tablename="distance_target"):
    """The organisation's own target for km per device on loan (none: kpi.TARGET_KM_PER_DEVICE)."""

    organisation = ForeignKey(Organisation, primary_key=True)
    km_per_device = Numeric(digits=(5, 2))
    changed_at = Timestamptz()


class PlanProposal(Table, tablename="plan_proposal"):
    """A solved plan for a period and some technicians, until accepted in all or part (m0024)."""

    organisation = ForeignKey(Organisation)
    created_by = ForeignKey(StaffUser, null=True)
    created_at = Timestamptz()
    first_day = Date()
    last_day = Date()
    technicians = Array(Integer())
    status = Varchar(length=10, default="proposed")  # proposed, partly, accepted
    kind = Varchar(length=10, default="period")  # period, urgent
    figures = JSONB(default="{}")
    distance_source = Varchar(length=20, default="straight_line")
    solve_ms = Integer(default=0)


class PlanProposalVisit(Table, tablename="plan_proposal_visit"):
    """One visit of a proposal (composite key proposal, technician, day, position in SQL)."""

    proposal = ForeignKey(PlanProposal, primary_key=True)
    work_order = ForeignKey(WorkOrder)
    technician = ForeignKey(StaffUser)
    day = Date()
    position = SmallInt()
    starts = Time()
    ends = Time()
    arrives = Time()
    km_from_previous = Real(default=0)
    window_start = Time()
    window_end = Time()
    order_version = Integer()
    accepted_at = Timestamptz(null=True)


class PlanProposalUnplanned(Table, tablename="plan_proposal_unplanned"):
    """An order a proposal left out, with why (composite key proposal, work_order in SQL)."""

    proposal = ForeignKey(PlanProposal, primary_key=True)
    work_order = ForeignKey(WorkOrder)
    reason = Text()
