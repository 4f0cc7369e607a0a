"""The reports domain's tables: KPI targets, cost rates and part prices per organisation, the
board report's comments and files, and the KPI summary refreshed by the job queue (m0027)."""

from piccolo.columns import JSONB, BigInt, BigSerial, Boolean, Bytea, Date, ForeignKey, Integer, Numeric, Text, Timestamptz, Varchar
from piccolo.table import Table

from backend.devices.tables import Article
from backend.organisations.tables import Organisation


class KpiTarget(Table, tablename="kpi_target"):
    organisation = ForeignKey(Organisation, primary_key=True)
    indicator = Varchar(length=30)
    target = Numeric(digits=(12, 3))
    updated_at = Timestamptz()


class KpiCostRate(Table, tablename="kpi_cost_rate"):
    organisation = ForeignKey(Organisation, primary_key=True)
    hourly_rate = Numeric(digits=(8, 2))
    updated_at = Timestamptz()


class KpiPartPrice(Table, tablename="kpi_part_price"):
    organisation = ForeignKey(Organisation, primary_key=True)
    article = ForeignKey(Article)
    price = Numeric(digits=(10, 2))
    updated_at = Timestamptz()


class BoardComment(Table, tablename="board_comment"):
    organisation = ForeignKey(Organisation, primary_key=True)
    month = Date()
    indicator = Varchar(length=30)
    comment = Text()
    updated_at = Timestamptz()


class BoardReport(Table, tablename="board_report"):
    id = BigSerial(primary_key=True)
    organisation = ForeignKey(Organisation)
    first_month = Date()
    last_month = Date()
    status = Varchar(length=10)
    pdf = Bytea(null=True)
    job = BigInt(null=True)  # the queue's job making a long one
    created_at = Timestamptz()
    finished_at = Timestamptz(null=True)


class KpiFact(Table, tablename="kpi_fact"):
    id = BigSerial(primary_key=True)
    organisation = ForeignKey(Organisation)
    indicator = Varchar(length=30)
    month = Date()
    item = BigInt()
    hit = Boolean(null=True)
    amount = Numeric(digits=(12, 2), null=True)
    patient = Integer(null=True)
    cost_bearer = Integer(null=True)
    care_unit = Integer(null=True)
    area = Integer(null=True)
    order_type = Varchar(length=20, null=True)
    staff = Integer(null=True)
    age_band = Varchar(length=5, null=True)
    sex = Varchar(length=1, null=True)


class KpiMonth(Table, tablename="kpi_month"):
    organisation = ForeignKey(Organisation, primary_key=True)
    indicator = Varchar(length=30)
    month = Date()
    hits = Integer(null=True)
    total = Integer()
    amount = Numeric(digits=(14, 2), null=True)


class KpiSplit(Table, tablename="kpi_split"):
    organisation = ForeignKey(Organisation, primary_key=True)
    indicator = Varchar(length=30)
    dimension = Varchar(length=20)
    key = Text(null=True)
    label = Text(null=True)
    hits = Integer(null=True)
    total = Integer()
    amount = Numeric(digits=(14, 2), null=True)
    patients = Integer()


class KpiState(Table, tablename="kpi_state"):
    organisation = ForeignKey(Organisation, primary_key=True)
    refreshed_at = Timestamptz()
    split_first = Date()
    split_last = Date()
    categories = JSONB(default="[]")
