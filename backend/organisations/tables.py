"""An organisation is one region's HMC; cost bearers and care units belong to it."""

from piccolo.columns import JSONB, ForeignKey, Timestamptz, Varchar
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


class CareUnit(Table, tablename="care_unit"):
    """A unit whose prescribers order for their patients (vårdenhet)."""

    organisation = ForeignKey(Organisation)
    cost_bearer = ForeignKey(CostBearer)
    name = Varchar(length=200)
    phone = Varchar(length=40)
