"""The technician's visit: the face of this domain, which routes and other domains import.

The work sits in topic modules behind it: `page.py` reads a visit (one query), `recording.py`
holds every action taken on a visit and its rules, `actions.py` the table of those actions by
URL (shared by live writes and applying a kept conflict), `conflicts.py` resolving a kept
write, `day.py` the pages a phone keeps for the day. The routes: `routes.py` (the day and
the visit), `conflict_routes.py` (conflict pages).
"""

from __future__ import annotations

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
