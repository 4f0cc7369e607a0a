"""An organisation is one region's HMC; cost bearers and care units belong to it, and so do its
opening hours and calendar overrides (the days its working-day clocks count)."""

from piccolo.columns import JSONB, Boolean, Date, ForeignKey, SmallInt, Time, Timestamptz, Varchar
from piccolo.table import Table


class Organisation(Table, tablename="organisation"):
    name = Varchar(length=200)
    slug = Varchar(length=60, unique=True)
    phone = Varchar(length=40)
    # Service-level clocks per work-order type; missing keys use the defaults in workorders.service.
    clocks = JSONB(default={})
    created_at = Timestamptz()


class CostBearer(Table, tablename="cost_bearer"):
    """A municipality or a regional unit: orders and pays (kostnadsbärare)."""

    organisation = ForeignKey(Organisation)
    name = Varchar(length=200)
    kind = Varchar(length=20)  # municipality | region
    code = Varchar(length=20)
    # Inactive: not offered for new care units, kept for the history that names it.
    active = Boolean(default=True)


class CareUnit(Table, tablename="care_unit"):
    """A unit whose prescribers order for their patients (vårdenhet)."""

    organisation = ForeignKey(Organisation)
    cost_bearer = ForeignKey(CostBearer)
    name = Varchar(length=200)
    phone = Varchar(length=40)
    # Inactive: not offered for new invitations or prescribers, kept for its history.
    active = Boolean(default=True)


class OpeningHours(Table, tablename="opening_hours"):
    """The HMC's hours on one weekday (1 Monday … 7 Sunday); no hours: closed that day.
    An organisation without rows has the default week (Monday to Friday, 08:00–16:30)."""

    organisation = ForeignKey(Organisation)
    weekday = SmallInt()
    opens = Time(null=True)
    closes = Time(null=True)


class CalendarDay(Table, tablename="calendar_day"):
    """A day that differs from the week: a local holiday or closed day, or an extra open day."""

    organisation = ForeignKey(Organisation)
    day = Date()
    kind = Varchar(length=10)  # closed | open
    note = Varchar(length=200)
    created_at = Timestamptz()
