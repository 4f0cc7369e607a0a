"""The registers' change history: who changed which row of a register, when, from what to what."""

from piccolo.columns import JSONB, BigInt, BigSerial, Integer, Timestamptz, Varchar
from piccolo.table import Table


class RegisterChange(Table, tablename="register_change"):
    # Plain integers, not foreign keys in Piccolo: the history sits below every register (each
    # records its changes here); the organisation's foreign key is in the migration.
    id = BigSerial(primary_key=True)
    organisation = Integer()
    register = Varchar(length=40)  # e.g. "staff", "care_unit", "article", "device", "checklist"
    entity = BigInt()  # the changed row's id in its register
    action = Varchar(length=20)  # created, changed, deactivated, reactivated, deleted, published...
    # The person as they were named when they made the change (None: an import or the system).
    actor = Integer(null=True)
    actor_name = Varchar(length=200)
    changes = JSONB()  # {"field": [before, after], ...}
    at = Timestamptz()
