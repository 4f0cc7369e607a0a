"""Bulk changes to the patient register from an import of the centre's business system, and the
register read back in the import file's shape.

The imports domain reads the file and checks each field (the personnummer with python-stdnum);
the functions here COPY its rows into a temporary staging table and compare them with the
patients there are (the dry run) or merge them, keyed by personnummer, in the caller's
transaction: one statement over the whole file per step, and a patient whose fields already
match is not written, so the same file imported again changes nothing. A field whose column the
file lacks is kept as it is on an existing patient and takes its default on a new one.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field

from backend import db

# --- staging, as both registers' bulk changes use it (this domain is the lower of the two) -------

Progress = Callable[[str], None]


@dataclass
class Outcome:
    """What an import of one file does (or did): rows per natural key, and the refused lines."""

    new: int = 0
    changed: int = 0
    unchanged: int = 0
    refused: list[tuple[int, str]] = field(default_factory=list)


def quiet(_: str) -> None:
    pass


async def stage(conn, table: str, columns: str, names: Sequence[str], records: list[tuple]) -> None:
    """A temporary staging table (gone at commit), the rows copied in, and statistics for the planner."""
    await conn.execute(f"DROP TABLE IF EXISTS {table}")
    await conn.execute(f"CREATE TEMP TABLE {table} ({columns}) ON COMMIT DROP")
    if records:
        await conn.copy_records_to_table(table, records=records, columns=list(names))
    await conn.execute(f"ANALYZE {table}")


async def counted(conn, table: str, changed: str, joined: str = "") -> Outcome:
    """New, changed and unchanged rows of the staging table `table` (s), in one query: `changed` is
    a condition on s and the existing row (`joined` to s by its `existing` id); and the lines refused."""
    row = await conn.fetchrow(
        f"""
        SELECT count(*) FILTER (WHERE s.reason IS NULL AND s.existing IS NULL) AS new,
               count(*) FILTER (WHERE s.reason IS NULL AND s.existing IS NOT NULL AND ({changed})) AS changed,
               count(*) FILTER (WHERE s.reason IS NULL AND s.existing IS NOT NULL AND NOT ({changed})) AS unchanged
        FROM {table} s {joined}
        """)
    refused = await conn.fetch(f"SELECT line, reason FROM {table} WHERE reason IS NOT NULL ORDER BY line")
    return Outcome(row["new"], row["changed"], row["unchanged"], [(r["line"], r["reason"]) for r in refused])


# --- patients ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PatientRow:
    line: int
    personal_number: str  # YYYYMMDD-NNNN
    given_name: str
    family_name: str
    birth_year: int
    sex: str  # F | M, from the personnummer
    care_unit: int
    cost_bearer: int  # the home municipality (or the region's unit) that pays
    street: str = ""
    postal_code: str = ""
    city: str = ""
    phone: str = ""
    door_code: str = ""
    access_notes: str = ""
    protected_identity: bool = False
    latitude: float | None = None
    longitude: float | None = None
    notice_channel: str | None = None  # a key of patients.service.NOTICE_CHANNELS; None: as it is (new: letter)
    email: str = ""


# The optional columns, in the order of PatientRow; "latitude" and "longitude" come as a pair.
PATIENT_FIELDS = ("street", "postal_code", "city", "phone", "door_code", "access_notes", "protected_identity",
                  "latitude", "longitude", "notice_channel", "email")
_REQUIRED = ("personal_number", "given_name", "family_name", "birth_year", "sex", "care_unit", "cost_bearer")
_COLUMNS = (*_REQUIRED, *PATIENT_FIELDS)
_DEFAULTS = {"street": "''", "postal_code": "''", "city": "''", "phone": "''", "door_code": "''",
             "access_notes": "''", "protected_identity": "false", "latitude": "NULL", "longitude": "NULL",
             "notice_channel": "'letter'", "email": "''"}
_STAGING = """
    line int, personal_number text, given_name text, family_name text, birth_year int, sex text, care_unit int,
    cost_bearer int, street text, postal_code text, city text, phone text, door_code text, access_notes text,
    protected_identity boolean, latitude double precision, longitude double precision, notice_channel text, email text,
    existing int, reason text
"""
_CHANGED = (f"({', '.join('p.' + c for c in _COLUMNS[1:])}) IS DISTINCT FROM "
            f"({', '.join('s.' + c for c in _COLUMNS[1:])})")
_JOINED = "LEFT JOIN patient p ON p.id = s.existing"


async def _stage_patients(conn, organisation_id: int, rows: Sequence[PatientRow], given: Collection[str]) -> None:
    await stage(conn, "import_patient", _STAGING, ("line", *_COLUMNS),
                 [(r.line, *(getattr(r, c) if c in _REQUIRED or c in given else None for c in _COLUMNS))
                  for r in rows])
    kept = [f"{c} = p.{c}" for c in PATIENT_FIELDS if c not in given]
    await conn.execute(
        f"""
        UPDATE import_patient s SET {", ".join(["existing = p.id", *kept])}
        FROM patient p WHERE p.organisation = $1 AND p.personal_number = s.personal_number
        """, organisation_id)
    defaults = [f"{c} = coalesce(s.{c}, {_DEFAULTS[c]})" for c in PATIENT_FIELDS if c not in given]
    if defaults:
        await conn.execute(f"UPDATE import_patient s SET {', '.join(defaults)} WHERE s.existing IS NULL")
    # An empty Avisering cell keeps the patient's preference (a new patient's is a letter).
    await conn.execute("UPDATE import_patient s SET notice_channel = coalesce("
                       "(SELECT p.notice_channel FROM patient p WHERE p.id = s.existing), 'letter') "
                       "WHERE s.notice_channel IS NULL")
    # The line may leave the e-mail empty while the preference (kept from the register) is e-mail.
    await conn.execute(
        "UPDATE import_patient s SET reason = $1 WHERE s.notice_channel = 'email' AND s.email = ''",
        "Avisering med e-post behöver en e-postadress: fyll i kolumnen E-post eller välj ett annat sätt.")


async def compare_patients(organisation_id: int, rows: Sequence[PatientRow], given: Collection[str]) -> Outcome:
    """The dry run of a patient file: nothing is written."""
    async with db.transaction(), db.connection() as conn:
        await _stage_patients(conn, organisation_id, rows, given)
        return await counted(conn, "import_patient", _CHANGED, _JOINED)


async def merge_patients(organisation_id: int, rows: Sequence[PatientRow], given: Collection[str],
                         progress: Progress = quiet) -> Outcome:
    """Apply a patient file, keyed by personnummer, inside the caller's transaction."""
    async with db.transaction(), db.connection() as conn:
        progress("Jämför med patienterna som finns")
        await _stage_patients(conn, organisation_id, rows, given)
        outcome = await counted(conn, "import_patient", _CHANGED, _JOINED)
        progress("Uppdaterar patienter som ändrats")
        await conn.execute(
            f"""
            UPDATE patient p SET {", ".join(f"{c} = s.{c}" for c in _COLUMNS[1:])}
            FROM import_patient s WHERE p.id = s.existing AND s.reason IS NULL AND {_CHANGED}
            """)
        progress("Lägger till nya patienter")
        await conn.execute(
            f"""
            INSERT INTO patient (organisation, {", ".join(_COLUMNS)})
            SELECT $1, {", ".join("s." + c for c in _COLUMNS)} FROM import_patient s
            WHERE s.existing IS NULL AND s.reason IS NULL ORDER BY s.line
            ON CONFLICT (organisation, personal_number) DO UPDATE SET
                {", ".join(f"{c} = EXCLUDED.{c}" for c in _COLUMNS[1:])}
            """, organisation_id)
    return outcome


async def refresh_statistics() -> None:
    """Fresh planner statistics for the patient register after a large import, once it is committed."""
    await db.execute("ANALYZE patient")


async def patient_ids(organisation_id: int, personal_numbers: Collection[str]) -> dict[str, int]:
    """The organisation's patients with these personnummer (YYYYMMDD-NNNN): {personnummer: id}."""
    rows = await db.fetch("SELECT personal_number, id FROM patient WHERE organisation = $1 "
                          "AND personal_number = ANY($2::text[])", organisation_id, list(personal_numbers))
    return {r["personal_number"]: r["id"] for r in rows}


async def export_patients(organisation_id: int) -> list[dict]:
    """Every patient, with the care unit's and cost bearer's ids, by personnummer."""
    rows = await db.fetch(f"SELECT id, {', '.join(_COLUMNS)} FROM patient WHERE organisation = $1 "
                          "ORDER BY personal_number", organisation_id)
    return [dict(r) for r in rows]
