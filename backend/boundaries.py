"""Who owns which table, and which module may import which: the code's boundaries, written down once.

`tests/unit/test_boundaries.py` reads this and fails when the code steps over a line:

- **One owner per table.** Only modules of the owning domain name a table in SQL (or use its
  Piccolo table class in a query). Another domain calls the owner's function, or places a
  query the owner exports as a function (`db.Sql`) into its own.
- **Layers.** Base modules import no domain. A domain's rules (every module but its routes)
  import only base modules and the domains listed before it. Routes are the top of the
  application, as `app.py` is: they may call any domain's functions. The composition roots
  (`app`, `cli`, `piccolo_app`, the demo loader) may import anything.
"""

from __future__ import annotations

# Base modules, lowest first: each may import only those before it.
BASE = ("settings", "piccolo_conf", "logs", "errors", "db", "workdays", "pdftext", "forms", "photos", "assets",
        "web", "auth", "boundaries")

# Domains, lowest first: a domain's rules may import only the domains before it.
DOMAINS = ("jobs", "changes", "organisations", "accounts", "audit", "integrations", "patients", "devices", "workorders", "maintenance",
           "notices", "sync", "visits", "faults", "fittings", "routing", "deviations", "recalls", "reports", "imports", "system")

# Modules that put the application together; they may import anything.
ROOTS = ("app", "cli", "__main__", "piccolo_app", "demo")

# Loaders of every domain's rows at once, as a migration is: the demo region is copied in with
# COPY in one transaction. Exempt from table ownership; nothing else may be (an import of real
# data goes through the owners' functions).
BULK_LOADERS = ("demo",)

# The job queue's library keeps its own tables and functions (procrastinate_*, migrations/m0019),
# without Piccolo classes; they are the jobs domain's as if they were its own: others enqueue
# through backend.jobs.queue and read the queue through backend.jobs functions.
QUEUE_TABLES = {
    "procrastinate_jobs": "jobs",
    "procrastinate_events": "jobs",
    "procrastinate_workers": "jobs",
    "procrastinate_periodic_defers": "jobs",
}
QUEUE_PREFIX, QUEUE_OWNER = "procrastinate_", "jobs"

TABLES = {
    "job_failure": "jobs",
    "register_change": "changes",
    "organisation": "organisations",
    "cost_bearer": "organisations",
    "care_unit": "organisations",
    "opening_hours": "organisations",
    "calendar_day": "organisations",
    "staff_user": "accounts",
    "passkey": "accounts",
    "invitation": "accounts",
    "security_event": "accounts",
    "kv_store": "accounts",
    "staff_area": "accounts",
    "sign_in_policy": "accounts",
    "idp_link": "accounts",
    "idp_role_mapping": "accounts",
    "audit_log": "audit",
    "audit_review": "audit",
    "audit_review_item": "audit",
    "audit_log_use": "audit",
    "api_token": "integrations",
    "patient": "patients",
    "device_category": "devices",
    "article": "devices",
    "device": "devices",
    "device_loan": "devices",
    "device_label": "devices",
    "fu_schedule": "devices",
    "work_order": "workorders",
    "work_order_counter": "workorders",
    "work_order_event": "workorders",
    "checklist_template": "maintenance",
    "checklist_answer": "maintenance",
    "safety_decision": "maintenance",
    "fu_generation": "maintenance",
    "fu_auto_generation": "maintenance",
    "fu_due": "maintenance",
    "fu_due_count": "maintenance",
    "fu_due_state": "maintenance",
    "write_receipt": "sync",
    "sync_conflict": "sync",
    "part_used": "visits",
    "time_entry": "visits",
    "work_note": "visits",
    "work_photo": "visits",
    "device_token": "faults",
    "fault_report": "faults",
    "product_area": "fittings",
    "fitting_resource": "fittings",
    "availability_template": "fittings",
    "availability_exception": "fittings",
    "fitting_booking": "fittings",
    "fitting_resource_hold": "fittings",
    "fitting_booking_event": "fittings",
    "calendar_feed_token": "fittings",
    "import_run": "imports",
    "notice": "notices",
    "outbound_message": "notices",
    "technician_resource": "routing",
    "technician_hours": "routing",
    "skill_category": "routing",
    "technician_skill": "routing",
    "visit_duration": "routing",
    "mileage_entry": "routing",
    "route_day": "routing",
    "distance_target": "routing",
    "plan_proposal": "routing",
    "plan_proposal_visit": "routing",
    "plan_proposal_unplanned": "routing",
    "kpi_target": "reports",
    "kpi_cost_rate": "reports",
    "kpi_part_price": "reports",
    "board_comment": "reports",
    "board_report": "reports",
    "kpi_fact": "reports",
    "kpi_month": "reports",
    "kpi_split": "reports",
    "kpi_state": "reports",
    "recall": "recalls",
    "recall_article": "recalls",
    "recall_device": "recalls",
    "deviation": "deviations",
    "deviation_photo": "deviations",
}
