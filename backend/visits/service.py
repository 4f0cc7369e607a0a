"""The technician's visit: the face of this domain, which routes and other domains import.

The work sits in topic modules behind it: `page.py` reads a visit (one query), `recording.py`
holds every action taken on a visit and its rules, `actions.py` the table of those actions by
URL (shared by live writes and applying a kept conflict), `conflicts.py` resolving a kept
write, `day.py` the pages a phone keeps for the day. The routes: `routes.py` (the day and
the visit), `conflict_routes.py` (conflict pages).
"""

from __future__ import annotations

from backend.db import Sql, raw
from backend.devices import service as devices
from backend.visits.actions import ACTION_LABELS, ACTIONS, action_for_path, kept_fields, version_or_none
from backend.visits.day import day_ahead
from backend.visits.page import PATIENT_FIELDS, RECORDING_STATUSES, order_page_data, photo, protocol, visit
from backend.visits.recording import (
    RepairReport,
    add_note,
    add_part,
    add_photo,
    add_report,
    add_time,
    attach_report_photo,
    complete_visit,
    could_not_complete,
    decide_on_safety_item,
    pause_visit,
    save_checklist,
    start_visit,
)

__all__ = [
    "ACTIONS", "ACTION_LABELS", "PATIENT_FIELDS", "RECORDING_STATUSES", "RepairReport", "action_for_path",
    "add_note", "add_part", "add_photo", "add_report", "add_time", "attach_report_photo", "complete_visit",
    "could_not_complete", "day_ahead", "decide_on_safety_item", "kept_fields", "order_page_data", "pause_visit",
    "photo", "protocol", "save_checklist", "start_visit", "version_or_none", "visit",
]


# --- queries other domains place in theirs (the reports' export) ---------------------------------

_RECORDED_SQL = """
SELECT (SELECT string_agg(ar.article_number || ' × ' || pu.quantity, ', ' ORDER BY pu.id)
        FROM part_used pu JOIN LATERAL (:article) ar ON true WHERE pu.work_order = :order) AS parts,
       (SELECT coalesce(sum(t.minutes), 0) FROM time_entry t WHERE t.work_order = :order) AS minutes,
       (SELECT string_agg(n.text, ' | ' ORDER BY n.id) FROM work_note n
        WHERE n.work_order = :order AND n.kind = 'fault_found') AS fault_found,
       (SELECT string_agg(n.text, ' | ' ORDER BY n.id) FROM work_note n
        WHERE n.work_order = :order AND n.kind = 'action_taken') AS action_taken
"""


def recorded_summary(work_order: Sql) -> Sql:
    """What was recorded on the order `work_order` (an id expression), a value each, as a row
    source (`JOIN LATERAL (:recorded) r ON true`): parts ("article number × quantity", comma
    separated in the order added; NULL without any), minutes (all time recorded, 0 without any),
    fault_found and action_taken (the repair report's texts, " | " between several; NULL without).
    Free notes and photos are left out."""
    return Sql(_RECORDED_SQL, article=devices.article_row(raw("pu.article")), order=work_order)


def recorded_minutes(work_order: Sql) -> Sql:
    """The minutes recorded on the order (its time entries' sum, 0 when none), as a scalar
    subquery: what route planning learns visit durations from."""
    return Sql("(SELECT coalesce(sum(t_rm.minutes), 0) FROM time_entry t_rm WHERE t_rm.work_order = :order)",
               order=work_order)


def parts_used(work_order: Sql) -> Sql:
    """The parts recorded on the order, as a row source (`FROM (:parts) p`): article, quantity.
    The reports price them to cost a technical order."""
    return Sql("SELECT pu_pu.article, pu_pu.quantity FROM part_used pu_pu WHERE pu_pu.work_order = :order",
               order=work_order)
