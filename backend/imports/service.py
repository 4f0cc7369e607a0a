"""Imports from the centre's business system: a file is uploaded and dry-run (read, checked line by
line and compared with the registers: new, changed, unchanged, refused with the line and a reason
in Swedish, nothing written), then confirmed and applied in one transaction by the owning
registers' bulk functions (devices.bulk, patients.bulk), and kept with its report.

The file's bytes are kept in the run until it is applied, so what is applied is exactly what was
dry-run. Applying runs in the background of the web process (or in the `runda import` command)
and writes its progress to the run every second from a connection of its own; a run that stops
writing it while no transaction holds it has died (the server stopped), and shows as failed,
with nothing of it written.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass

from backend import db
from backend.changes import service as changes
from backend.devices import bulk as device_bulk
from backend.errors import DomainError
from backend.imports import csvfile
from backend.imports.csvfile import FileRefused
from backend.imports.kinds import KINDS, LOANS, Kind, LoanLine, Lookups, Parsed, parse
from backend.imports.tables import STATE_LABELS, ImportState
from backend.organisations import service as organisations
from backend.patients import bulk as patient_bulk
from backend.workdays import today as todays_date

log = logging.getLogger("runda.imports")

MAX_BYTES = csvfile.MAX_BYTES
PAGE_SIZE = 20  # runs per page
REFUSALS_PAGE = 100  # refused lines per page
HEARTBEAT_SECONDS = 1.0
ABANDONED_AFTER_SECONDS = 30  # no heartbeat for this long, and no transaction holds the run: it died
DRY_RUN_KEPT = "1 day"  # an unconfirmed dry run's file is forgotten after this
REGISTER = "import"  # the change history's register

__all__ = ["FileRefused", "ImportRefused", "KINDS", "MAX_BYTES", "RunNotFound", "apply", "confirm", "discard",
           "dry_run", "history", "refusals", "refused_lines", "report_csv", "run", "runs", "start_in_background",
           "summary"]


class ImportRefused(DomainError):
    """What was asked of a run cannot be done (confirming it twice, say); nothing was written."""


class RunNotFound(Exception):
    pass


# --- reading a file ------------------------------------------------------------------------------


async def _lookups(organisation_id: int) -> Lookups:
    choices = await organisations.cost_bearer_choices(organisation_id)
    bearers = {bearer["name"].lower(): bearer["id"] for bearer in choices}
    bearers.update({bearer["code"].lower(): bearer["id"] for bearer in choices})  # a code wins over a name
    units = {unit["name"].lower(): unit["id"] for unit in await organisations.care_units(organisation_id)}
    return Lookups(cost_bearers=bearers, care_units=units)


@dataclass
class _Read:
    sheet: csvfile.Sheet
    parsed: Parsed


async def _read(organisation_id: int, kind: Kind, content: bytes) -> _Read:
    """The file read and every line checked; for loans, patients found by personnummer. CPU-bound
    parts run in a thread, so the web process goes on answering meanwhile."""
    if len(content) > MAX_BYTES:
        raise FileRefused(f"Filen är större än {MAX_BYTES // (1024 * 1024)} MB. Dela upp den i flera filer.")
    lookups = await _lookups(organisation_id)

    def work() -> _Read:
        sheet = csvfile.read(content, kind.aliases, kind.required, kind.titles, kind.what)
        return _Read(sheet, parse(kind, sheet, lookups))

    read = await asyncio.to_thread(work)
    if not read.sheet.records:
        raise FileRefused("Filen har en rubrikrad men inga rader att importera.")
    if kind is LOANS:
        lines: list[LoanLine] = read.parsed.rows
        found = await patient_bulk.patient_ids(organisation_id, {line.personal_number for line in lines})
        rows = []
        for line in lines:
            if line.personal_number in found:
                rows.append(device_bulk.LoanRow(line.line, line.individnummer, found[line.personal_number],
                                                line.from_date))
            else:
                read.parsed.refused.append((line.line, "Det finns ingen patient med personnumret på raden. "
                                                       "Importera patienterna först."))
        read.parsed.rows = rows
    return read


async def _compare(organisation_id: int, kind: Kind, parsed: Parsed) -> device_bulk.Outcome:
    if kind.key == "articles":
        return await device_bulk.compare_articles(organisation_id, parsed.rows, parsed.given)
    if kind.key == "devices":
        return await device_bulk.compare_devices(organisation_id, parsed.rows, parsed.given)
    if kind.key == "patients":
        return await patient_bulk.compare_patients(organisation_id, parsed.rows, parsed.given)
    return await device_bulk.compare_loans(organisation_id, parsed.rows, todays_date())


async def _merge(organisation_id: int, kind: Kind, parsed: Parsed,
                 progress: Callable[[str], None]) -> device_bulk.Outcome:
    if kind.key == "articles":
        return await device_bulk.merge_articles(organisation_id, parsed.rows, parsed.given, progress)
    if kind.key == "devices":
        return await device_bulk.merge_devices(organisation_id, parsed.rows, parsed.given, progress)
    if kind.key == "patients":
        return await patient_bulk.merge_patients(organisation_id, parsed.rows, parsed.given, progress)
    return await device_bulk.merge_loans(organisation_id, parsed.rows, todays_date(), progress)


def _notes(kind: Kind, read: _Read) -> list[str]:
    sheet = read.sheet
    notes = [f"Teckenkodning {sheet.encoding}, fälten åtskilda med "
             f"{csvfile.SEPARATOR_NAMES[sheet.separator]}, {len(sheet.records)} rader efter rubrikraden."]
    if sheet.unknown:
        notes.append(f"Kolumner som inte läses: {', '.join(sheet.unknown[:30])}"
                     f"{' …' if len(sheet.unknown) > 30 else ''}.")
    absent = [c.title for c in kind.columns if not c.required and c.key not in sheet.columns]
    if absent:
        notes.append(f"Kolumner som saknas i filen och lämnas som de är på befintliga rader: {', '.join(absent)}.")
    return notes


def _refusals(read: _Read, outcome: device_bulk.Outcome) -> list[tuple[int, str]]:
    return sorted([*read.parsed.refused, *outcome.refused])


# --- the flow ------------------------------------------------------------------------------------


async def dry_run(organisation_id: int, kind: str, file_name: str, content: bytes, *, actor_id: int | None,
                  actor_name: str) -> int:
    """Read the file and compare it with the registers; keep it as a run to confirm. Returns the
    run's id. A file that cannot be read at all is refused (FileRefused) and nothing is kept."""
    found = KINDS.get(kind)
    if found is None:
        raise ImportRefused("Välj vad filen innehåller.", "kind")
    read = await _read(organisation_id, found, content)
    outcome = await _compare(organisation_id, found, read.parsed)
    refused = _refusals(read, outcome)
    name = (file_name or "").replace("\\", "/").rsplit("/", 1)[-1].replace("\x00", "")[-200:] or "fil.csv"
    async with db.transaction():
        await _forget_expired(organisation_id)
        return await db.fetchval(
            """
            INSERT INTO import_run (organisation, kind, file_name, file_size, content, encoding, staff_user,
                                    actor_name, state, rows_read, new_rows, changed_rows, unchanged_rows,
                                    refused_rows, refusals, notes)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'dry_run', $9, $10, $11, $12, $13, $14::jsonb, $15::jsonb)
            RETURNING id
            """,
            organisation_id, found.key, name, len(content), content, read.sheet.encoding, actor_id, actor_name,
            len(read.sheet.records), outcome.new, outcome.changed, outcome.unchanged, len(refused),
            json.dumps(refused, ensure_ascii=False), json.dumps(_notes(found, read), ensure_ascii=False))


_NOT_AGAIN = {
    ImportState.confirmed: "Importen är redan bekräftad och körs.",
    ImportState.applying: "Importen är redan bekräftad och körs.",
    ImportState.applied: "Importen är redan genomförd.",
    ImportState.failed: "Importen misslyckades. Ladda upp filen igen för att försöka på nytt.",
}


async def _forget_expired(organisation_id: int) -> None:
    """The files of dry runs nobody confirmed within a day: personal data is kept no longer than needed."""
    await db.execute(
        f"UPDATE import_run SET content = NULL WHERE organisation = $1 AND state = 'dry_run' "
        f"AND content IS NOT NULL AND created_at < now() - interval '{DRY_RUN_KEPT}'", organisation_id)


async def confirm(organisation_id: int, run_id: int) -> None:
    """The admin saw the dry run and says go: the run waits to be applied (start_in_background)."""
    async with db.transaction():
        row = await db.fetchrow(
            "SELECT state, content IS NOT NULL AS kept, new_rows + changed_rows AS changes FROM import_run "
            "WHERE id = $1 AND organisation = $2 FOR UPDATE", run_id, organisation_id)
        if row is None:
            raise RunNotFound()
        if row["state"] != ImportState.dry_run.value:
            raise ImportRefused(_NOT_AGAIN[ImportState(row["state"])])
        if not row["kept"]:
            raise ImportRefused("Provkörningen har gått ut. Ladda upp filen igen.")
        if not row["changes"]:
            raise ImportRefused("Det finns inget att importera: inga nya eller ändrade rader.")
        await db.execute("UPDATE import_run SET state = 'confirmed', confirmed_at = now(), "
                         "progress_text = 'Väntar på att starta' WHERE id = $1", run_id)


async def discard(organisation_id: int, run_id: int) -> None:
    """Forget a dry run that will not be confirmed (its file with it)."""
    deleted = await db.fetchval(
        "DELETE FROM import_run WHERE id = $1 AND organisation = $2 AND state = 'dry_run' RETURNING id",
        run_id, organisation_id)
    if deleted is None:
        if await db.fetchval("SELECT 1 FROM import_run WHERE id = $1 AND organisation = $2", run_id, organisation_id):
            raise ImportRefused("Bara en provkörning som inte har bekräftats kan tas bort.")
        raise RunNotFound()


_RUNNING: set[asyncio.Task] = set()


def start_in_background(run_id: int) -> asyncio.Task:
    """Apply a confirmed run in this process's background; the page follows its progress."""
    task = asyncio.create_task(apply(run_id), name=f"import-run-{run_id}")
    _RUNNING.add(task)
    task.add_done_callback(_RUNNING.discard)
    return task


class _Reporter:
    """The run's progress, written every second from a connection outside the import's transaction
    (which nobody sees until it commits), with the heartbeat that says the run is alive."""

    def __init__(self, run_id: int) -> None:
        self.run_id, self.percent, self.text = run_id, 1, "Startar"
        self._stop = asyncio.Event()
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        # Created outside any transaction: the task's context has none, so its writes commit at once.
        self._task = asyncio.create_task(self._keep_writing())

    def step(self, text: str) -> None:
        self.percent = min(95, self.percent + 15 if self.percent >= 20 else 20)
        self.text = text[:200]

    def set(self, percent: int, text: str) -> None:
        self.percent, self.text = percent, text[:200]

    async def _keep_writing(self) -> None:
        while True:
            try:
                await db.execute("UPDATE import_run SET progress = $2, progress_text = $3, heartbeat_at = now() "
                                 "WHERE id = $1 AND state = 'applying'", self.run_id, self.percent, self.text)
            except Exception:  # noqa: BLE001 - progress is a courtesy; the import goes on
                log.warning("import_progress_not_written", extra={"run": self.run_id})
            try:
                await asyncio.wait_for(self._stop.wait(), HEARTBEAT_SECONDS)
                return
            except asyncio.TimeoutError:
                pass

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            await self._task
            self._task = None


async def apply(run_id: int) -> str:
    """Apply a confirmed run in one transaction: the owning registers' merges, one change-history
    entry for the whole run, the run applied. On any failure the transaction leaves nothing and the
    run is failed with the reason. Returns the run's final state."""
    if db.in_transaction():
        raise RuntimeError("an import is applied in its own transaction")
    run_row = await db.fetchrow(
        "UPDATE import_run SET state = 'applying', heartbeat_at = now(), progress = 1, progress_text = 'Startar' "
        "WHERE id = $1 AND state = 'confirmed' RETURNING organisation, kind, content, staff_user, actor_name, file_name",
        run_id)
    if run_row is None:
        return await db.fetchval("SELECT state FROM import_run WHERE id = $1", run_id) or "missing"
    organisation_id, kind = run_row["organisation"], KINDS[run_row["kind"]]
    reporter = _Reporter(run_id)
    reporter.start()
    try:
        reporter.set(5, "Läser filen")
        read = await _read(organisation_id, kind, bytes(run_row["content"]))
        async with db.transaction():
            # Held until commit: while it is, the run is alive; one import per organisation at a time.
            await db.execute("SELECT pg_advisory_xact_lock(hashtext('import_run'), $1)", run_id)
            reporter.set(15, "Väntar på att andra importer ska bli klara")
            await db.execute("SELECT pg_advisory_xact_lock(hashtext('import'), $1)", organisation_id)
            outcome = await _merge(organisation_id, kind, read.parsed, reporter.step)
            await reporter.stop()
            refused = _refusals(read, outcome)
            await changes.record(
                organisation_id, REGISTER, run_id, "imported", actor=run_row["staff_user"],
                actor_name=run_row["actor_name"],
                after={"kind": kind.label, "file": run_row["file_name"], "new": outcome.new,
                       "changed": outcome.changed, "unchanged": outcome.unchanged, "refused": len(refused)})
            await db.execute(
                """
                UPDATE import_run SET state = 'applied', new_rows = $2, changed_rows = $3, unchanged_rows = $4,
                    refused_rows = $5, refusals = $6::jsonb, progress = 100, progress_text = 'Klar',
                    content = NULL, finished_at = now(), heartbeat_at = now()
                WHERE id = $1
                """,
                run_id, outcome.new, outcome.changed, outcome.unchanged, len(refused),
                json.dumps(refused, ensure_ascii=False))
        # Fresh statistics for the planner after a large change (as after the demo's load).
        if outcome.new + outcome.changed > 1000:
            await (patient_bulk if kind.key == "patients" else device_bulk).refresh_statistics()
        return ImportState.applied.value
    except BaseException as exc:
        await reporter.stop()
        reason = exc.message if isinstance(exc, DomainError) else (
            "Importen avbröts av ett fel hos oss. Ingenting av den har sparats; försök igen om en stund.")
        if not isinstance(exc, DomainError):
            log.error("import_failed", extra={"run": run_id, "error": type(exc).__name__})
        await asyncio.shield(_fail(run_id, reason))
        if not isinstance(exc, Exception):
            raise  # cancelled, or the process stops: let it
        return ImportState.failed.value


async def _fail(run_id: int, reason: str) -> None:
    await db.execute("UPDATE import_run SET state = 'failed', error = $2, content = NULL, finished_at = now() "
                     "WHERE id = $1 AND state IN ('confirmed', 'applying')", run_id, reason)


async def _fail_if_abandoned(run_id: int) -> None:
    """A run left applying (or waiting) by a process that died: nothing of it was committed."""
    async with db.transaction():
        alive = not await db.fetchval("SELECT pg_try_advisory_xact_lock(hashtext('import_run'), $1)", run_id)
        if alive:
            return
        await db.execute(
            f"""
            UPDATE import_run SET state = 'failed', content = NULL, finished_at = now(),
                error = 'Importen avbröts (servern stannade eller startades om). Ingenting av den har sparats. '
                        || 'Ladda upp filen igen.'
            WHERE id = $1 AND state IN ('confirmed', 'applying')
              AND coalesce(heartbeat_at, confirmed_at) < now() - interval '{ABANDONED_AFTER_SECONDS} seconds'
            """, run_id)


# --- reading runs --------------------------------------------------------------------------------

_RUN_COLUMNS = """
    id, kind, file_name, file_size, encoding, actor_name, state, rows_read, new_rows, changed_rows,
    unchanged_rows, refused_rows, notes, progress, progress_text, error, created_at, confirmed_at, finished_at,
    content IS NOT NULL AS kept
"""


def _shaped(row) -> dict:
    run = dict(row)
    state = ImportState(run["state"])
    notes = run.get("notes")
    run.update(
        kind_label=KINDS[run["kind"]].label, state_label=STATE_LABELS[state],
        notes=json.loads(notes) if isinstance(notes, str) else (notes or []),
        running=state in (ImportState.confirmed, ImportState.applying),
        confirmable=state is ImportState.dry_run and run["kept"] and run["new_rows"] + run["changed_rows"] > 0,
        expired=state is ImportState.dry_run and not run["kept"],
    )
    return run


async def run(organisation_id: int, run_id: int) -> dict:
    """The run as its page shows it (a run whose process died shows as failed)."""
    row = await db.fetchrow(f"SELECT {_RUN_COLUMNS} FROM import_run WHERE id = $1 AND organisation = $2",
                            run_id, organisation_id)
    if row is None:
        raise RunNotFound()
    if row["state"] in (ImportState.confirmed.value, ImportState.applying.value):
        await _fail_if_abandoned(run_id)
        row = await db.fetchrow(f"SELECT {_RUN_COLUMNS} FROM import_run WHERE id = $1", run_id)
    return _shaped(row)


async def runs(organisation_id: int, page: int = 1) -> tuple[list[dict], bool]:
    """One page of the organisation's runs, newest first, and whether more follow (the files of dry
    runs left unconfirmed for a day are forgotten first)."""
    await _forget_expired(organisation_id)
    rows = await db.fetch(f"SELECT {_RUN_COLUMNS} FROM import_run WHERE organisation = $1 "
                          "ORDER BY id DESC LIMIT $2 OFFSET $3",
                          organisation_id, PAGE_SIZE + 1, (max(page, 1) - 1) * PAGE_SIZE)
    return [_shaped(r) for r in rows[:PAGE_SIZE]], len(rows) > PAGE_SIZE


async def refusals(organisation_id: int, run_id: int, page: int = 1) -> tuple[list[tuple[int, str]], bool]:
    """One page of the run's refused lines, by line number, and whether more follow."""
    first = (max(page, 1) - 1) * REFUSALS_PAGE
    found = await db.fetchval(
        "SELECT jsonb_path_query_array(refusals, ('$[' || $3::int || ' to ' || $4::int || ']')::jsonpath) "
        "FROM import_run WHERE id = $1 AND organisation = $2",
        run_id, organisation_id, first, first + REFUSALS_PAGE)
    if found is None:
        raise RunNotFound()
    items = json.loads(found) if isinstance(found, str) else found
    return [(line, reason) for line, reason in items[:REFUSALS_PAGE]], len(items) > REFUSALS_PAGE


async def history(organisation_id: int, run_id: int) -> list[changes.Change]:
    return await changes.history(organisation_id, REGISTER, run_id)


HISTORY_LABELS = {"kind": "Innehåll", "file": "Fil", "new": "Nya", "changed": "Ändrade", "unchanged": "Oförändrade",
                  "refused": "Avvisade"}


async def refused_lines(organisation_id: int, run_id: int) -> list[tuple[int, str]]:
    """Every refused line of the run: (line number, reason)."""
    found = await db.fetchval("SELECT refusals FROM import_run WHERE id = $1 AND organisation = $2",
                              run_id, organisation_id)
    if found is None:
        raise RunNotFound()
    return [(line, reason) for line, reason in (json.loads(found) if isinstance(found, str) else found)]


async def report_csv(organisation_id: int, run_id: int) -> tuple[str, bytes]:
    """The run's report as a file: every refused line (line number; reason), in UTF-8 with BOM and
    `;` so that Excel opens it in Swedish."""
    found = await run(organisation_id, run_id)
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(["Rad", "Orsak"])
    writer.writerows(await refused_lines(organisation_id, run_id))
    return f"importrapport-{found['id']}-{found['kind']}.csv", ("\ufeff" + out.getvalue()).encode("utf-8")


def summary(outcome_run: dict) -> str:
    """One line for the command: the counts of a run."""
    return (f"{outcome_run['new_rows']} nya, {outcome_run['changed_rows']} ändrade, "
            f"{outcome_run['unchanged_rows']} oförändrade, {outcome_run['refused_rows']} avvisade")

