"""One import of a file from the centre's business system, from its dry run until it is applied."""

from enum import Enum

from piccolo.columns import JSONB, Bytea, ForeignKey, Integer, SmallInt, Text, Timestamptz, Varchar
from piccolo.table import Table

from backend.accounts.tables import StaffUser
from backend.organisations.tables import Organisation


class ImportState(str, Enum):
    dry_run = "dry_run"  # read and compared; nothing written yet
    confirmed = "confirmed"  # the admin said go; waiting to start
    applying = "applying"
    applied = "applied"
    failed = "failed"  # nothing of it was written (one transaction)


STATE_LABELS = {
    ImportState.dry_run: "Provkörd",
    ImportState.confirmed: "Bekräftad, väntar",
    ImportState.applying: "Importeras",
    ImportState.applied: "Importerad",
    ImportState.failed: "Misslyckades",
}


class ImportRun(Table, tablename="import_run"):
    organisation = ForeignKey(Organisation)
    kind = Varchar(length=20)  # articles | devices | patients | loans
    file_name = Varchar(length=200)
    file_size = Integer()
    content = Bytea(null=True)  # the file as uploaded; None once applied, failed or expired
    encoding = Varchar(length=20)
    staff_user = ForeignKey(StaffUser, null=True)  # None: the `runda import` command
    actor_name = Varchar(length=200)
    state = Varchar(length=20, choices=ImportState)
    rows_read = Integer()
    new_rows = Integer()
    changed_rows = Integer()
    unchanged_rows = Integer()
    refused_rows = Integer()
    refusals = JSONB(default="[]")  # [[line, reason], ...]
    notes = JSONB(default="[]")
    progress = SmallInt()
    progress_text = Varchar(length=200)
    error = Text()
    created_at = Timestamptz()
    confirmed_at = Timestamptz(null=True)
    finished_at = Timestamptz(null=True)
    heartbeat_at = Timestamptz(null=True)
