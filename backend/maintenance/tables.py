"""FU checklist templates, versioned so old results keep the questions they answered."""

from piccolo.columns import JSONB, ForeignKey, Integer, Timestamptz
from piccolo.table import Table

from backend.devices.tables import DeviceCategory


class ChecklistTemplate(Table, tablename="checklist_template"):
    category = ForeignKey(DeviceCategory)
    version = Integer()
    # [{"key", "text", "safety_critical", "measurement": {"unit", "min", "max"} | null}]
    items = JSONB()
    created_at = Timestamptz()
