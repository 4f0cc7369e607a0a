"""Notices: the patient told at least two weeks ahead of a generated FU visit (the regional rule),
or the cost bearer instead when the patient cannot be reached. The face of this domain, which
routes and other domains import.

Behind it: `proposals.py` (the visits to tell patients of; a send: its notices and its one job,
in one transaction), `sends.py` (a send's notices and its letters as one PDF to print),
`answers.py` (one notice, the patient's answer, whom to contact, `tell_cost_bearer`),
`channels.py` (who is told and how; the adapters), `letters.py` (what a notice says),
`outbox.py` (the record of every message), `tasks.py` (the sending job).

Every read of patients' data here is in the access log.
"""

from __future__ import annotations

from backend.notices.answers import (
    FIELD_LABELS,
    FIELD_VALUES,
    count_to_contact,
    mark_contacted,
    notice,
    record_call_back,
    record_new_time,
    tell_cost_bearer,
    to_contact,
)
from backend.notices.errors import NoticeError, NoticeNotFound, SendFailed
from backend.notices.proposals import (
    DEFAULT_DAYS,
    NOTICE_DAYS,
    PAGE_SIZE,
    SEND_LIMIT,
    SEND_TASK,
    ProposalFilter,
    Sent,
    proposals,
    resend_batch,
    send_notices,
)
from backend.notices.sends import batch, batch_letters, batches, mark_printed, notice_letter, notice_rows, visit_of

__all__ = [  # the face: what other domains and the routes use
    "DEFAULT_DAYS", "FIELD_LABELS", "FIELD_VALUES", "NOTICE_DAYS", "NoticeError", "NoticeNotFound", "PAGE_SIZE",
    "ProposalFilter", "SEND_LIMIT", "SEND_TASK", "SendFailed", "Sent",
    "batch", "batch_letters", "batches", "count_to_contact", "mark_contacted", "mark_printed", "notice",
    "notice_letter", "notice_rows", "proposals", "record_call_back", "record_new_time", "resend_batch",
    "send_notices", "tell_cost_bearer", "to_contact", "visit_of",
]
