"""Bulk changes to the device register from an import of the centre's business system: articles,
devices (with their FU dates and interval) and loans, and the same registers read back in the
import files' shape.

The imports domain reads a file and checks each field; the functions here take its rows, COPY
them into a temporary staging table, resolve what only the database knows (article numbers,
categories by ISO code, devices by individnummer, FU schedules, open loans) and then either
compare (the dry run: new, changed or unchanged per natural key, and the rows the register
refuses) or merge (UPDATE ... FROM staging, INSERT ... ON CONFLICT) in the caller's
transaction. Every step is one statement over the whole file, never one per row, and a row that
already matches is not written at all, so importing the same file again changes nothing.

A field the file does not carry (its column missing) is kept as it is on an existing row and
takes its default on a new one.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date

from backend import db
from backend.patients.bulk import Outcome, Progress, counted, quiet, stage

FU_CHECKLIST = "fu"  # the interval a file gives is the yearly service's (checklist "fu")
FU_SCHEDULE_NAME = "Förebyggande underhåll"  # a device's own schedule, made when nothing is inherited

# --- articles ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ArticleRow:
    line: int
    article_number: str
    name: str
    manufacturer: str = ""
    iso_code: str = ""  # ISO 9999, normalised ("12 23 06"); "": no category (a spare part)


ARTICLE_FIELDS = ("manufacturer", "iso_code")  # the optional columns


async def _stage_articles(conn, organisation_id: int, rows: Sequence[ArticleRow], given: Collection[str]) -> None:
    await stage(conn, "import_article",
                 "line int, article_number text, name text, manufacturer text, iso_code text, "
                 "existing int, category int, reason text",
                 ("line", "article_number", "name", "manufacturer", "iso_code"),
                 [(r.line, r.article_number, r.name, r.manufacturer if "manufacturer" in given else None,
                   r.iso_code if "iso_code" in given else None) for r in rows])
    await conn.execute(
        """
        UPDATE import_article s SET existing = a.id,
            manufacturer = coalesce(s.manufacturer, a.manufacturer),
            category = CASE WHEN s.iso_code IS NULL THEN a.category END
        FROM article a WHERE a.organisation = $1 AND a.article_number = s.article_number
        """, organisation_id)
    # The category whose ISO code is the article's, or the longest one above it (12 36 for 12 36 21).
    await conn.execute(
        """
        UPDATE import_article s SET manufacturer = coalesce(s.manufacturer, ''),
            category = coalesce(s.category, (
                SELECT c.id FROM device_category c
                WHERE c.organisation = $1 AND s.iso_code <> ''
                  AND (c.iso_code = s.iso_code OR s.iso_code LIKE c.iso_code || ' %')
                ORDER BY length(c.iso_code) DESC, c.id LIMIT 1))
        """, organisation_id)
    await conn.execute(
        """
        UPDATE import_article s SET reason = 'Ingen hjälpmedelskategori har ISO-koden ' || s.iso_code
            || ' (eller en kod över den). Lägg upp kategorin först.'
        WHERE s.iso_code <> '' AND s.category IS NULL
        """)
    await conn.execute(
        """
        UPDATE import_article s SET reason = 'Artikeln har hjälpmedel och behöver en ISO-kod som leder till '
                                            || 'en kategori; en reservdel kan inte ha hjälpmedel.'
        WHERE s.reason IS NULL AND s.category IS NULL AND s.existing IS NOT NULL
          AND EXISTS (SELECT 1 FROM device d WHERE d.article = s.existing)
        """)


_ARTICLE_CHANGED = "(a.name, a.manufacturer, a.category) IS DISTINCT FROM (s.name, s.manufacturer, s.category)"
_ARTICLE_JOINED = "LEFT JOIN article a ON a.id = s.existing"


async def compare_articles(organisation_id: int, rows: Sequence[ArticleRow], given: Collection[str]) -> Outcome:
    """The dry run of an article file: nothing is written."""
    async with db.transaction(), db.connection() as conn:
        await _stage_articles(conn, organisation_id, rows, given)
        return await counted(conn, "import_article", _ARTICLE_CHANGED, _ARTICLE_JOINED)


async def merge_articles(organisation_id: int, rows: Sequence[ArticleRow], given: Collection[str],
                         progress: Progress = quiet) -> Outcome:
    """Apply an article file, keyed by article number, inside the caller's transaction."""
    async with db.transaction(), db.connection() as conn:
        progress("Jämför med artiklarna som finns")
        await _stage_articles(conn, organisation_id, rows, given)
        outcome = await counted(conn, "import_article", _ARTICLE_CHANGED, _ARTICLE_JOINED)
        progress("Sparar artiklarna")
        await conn.execute(
            f"""
            UPDATE article a SET name = s.name, manufacturer = s.manufacturer, category = s.category
            FROM import_article s WHERE a.id = s.existing AND s.reason IS NULL AND {_ARTICLE_CHANGED}
            """)
        await conn.execute(
            """
            INSERT INTO article (organisation, article_number, name, manufacturer, category)
            SELECT $1, s.article_number, s.name, s.manufacturer, s.category
            FROM import_article s WHERE s.existing IS NULL AND s.reason IS NULL ORDER BY s.line
            ON CONFLICT (organisation, article_number) DO NOTHING
            """, organisation_id)
    return outcome


# --- devices -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeviceRow:
    line: int
    individnummer: str  # normalised: upper case, no spaces
    article_number: str
    serial_number: str = ""
    udi: str = ""
    owner: int | None = None  # a cost bearer's id; None: the HMC itself
    status: str | None = None  # a DeviceStatus value; None: kept (a new device: in the depot)
    in_service_date: date | None = None
    expected_end_of_life: date | None = None  # None: kept (new: in service + the expected life)
    last_fu_date: date | None = None
    fu_interval_days: int | None = None  # the "fu" schedule's interval; None: schedules untouched
    next_fu_date: date | None = None  # None: the last FU (or the day in service) + the interval
    manufacturing_date: date | None = None
    lot_number: str = ""


DEVICE_FIELDS = ("serial_number", "udi", "owner", "status", "expected_end_of_life", "last_fu_date",
                 "fu_interval_days", "next_fu_date", "manufacturing_date", "lot_number")  # the optional columns

_DEVICE_STAGING = """
    line int, individnummer text, article_number text, serial_number text, udi text, owner int, status text,
    in_service_date date, expected_end_of_life date, last_fu_date date, fu_interval int, next_fu_date date,
    manufacturing_date date, lot_number text,
    existing int, article int, life_years int, inherited int, inherited_interval int, own int, own_interval int,
    override int, override_interval int, override_active boolean, current_interval int, reason text
"""

# The "fu" schedules a device inherits, per article and per category (the lowest id when several),
# as row sources for the statements below.
_ARTICLE_FU = f"""
    SELECT DISTINCT ON (f.article) f.article, f.id, f.interval_days FROM fu_schedule f
    WHERE f.organisation = $1 AND f.article IS NOT NULL AND f.checklist_code = '{FU_CHECKLIST}' AND f.active
    ORDER BY f.article, f.id
"""
_CATEGORY_FU = f"""
    SELECT DISTINCT ON (f.category) f.category, f.id, f.interval_days FROM fu_schedule f
    WHERE f.organisation = $1 AND f.category IS NOT NULL AND f.checklist_code = '{FU_CHECKLIST}' AND f.active
    ORDER BY f.category, f.id
"""
_OWN_FU = f"""
    SELECT DISTINCT ON (f.device) f.device, f.id, f.interval_days FROM fu_schedule f
    WHERE f.organisation = $1 AND f.device IS NOT NULL AND f.overrides IS NULL
      AND f.checklist_code = '{FU_CHECKLIST}' AND f.active
    ORDER BY f.device, f.id
"""


async def _stage_devices(conn, organisation_id: int, rows: Sequence[DeviceRow], given: Collection[str]) -> None:
    def value(row: DeviceRow, name: str):
        return getattr(row, name) if name in given else None

    await stage(conn, "import_device", _DEVICE_STAGING,
                 ("line", "individnummer", "article_number", "serial_number", "udi", "owner", "status",
                  "in_service_date", "expected_end_of_life", "last_fu_date", "fu_interval", "next_fu_date",
                  "manufacturing_date", "lot_number"),
                 [(r.line, r.individnummer, r.article_number, value(r, "serial_number"), value(r, "udi"),
                   value(r, "owner"), value(r, "status"), r.in_service_date, value(r, "expected_end_of_life"),
                   value(r, "last_fu_date"), value(r, "fu_interval_days"), value(r, "next_fu_date"),
                   value(r, "manufacturing_date"), value(r, "lot_number"))
                  for r in rows])
    # The article, its category's expected life (an article's own when it has one) and inherited schedule.
    await conn.execute(
        f"""
        UPDATE import_device s SET article = a.id,
            life_years = coalesce((to_jsonb(a) ->> 'expected_life_years')::int, k.expected_life_years),
            inherited = coalesce(af.id, cf.id), inherited_interval = coalesce(af.interval_days, cf.interval_days),
            reason = CASE WHEN a.category IS NULL THEN 'Artikeln ' || a.article_number
                || ' är en reservdel (den saknar kategori) och kan inte vara ett hjälpmedel.' END
        FROM article a LEFT JOIN device_category k ON k.id = a.category
        LEFT JOIN ({_ARTICLE_FU}) af ON af.article = a.id
        LEFT JOIN ({_CATEGORY_FU}) cf ON cf.category = a.category
        WHERE a.organisation = $1 AND a.article_number = s.article_number
        """, organisation_id)
    await conn.execute(
        """
        UPDATE import_device s SET reason = 'Artikelnumret ' || s.article_number
            || ' finns inte i sortimentet. Importera artiklarna först.'
        WHERE s.article IS NULL
        """)
    # The device as it is: what the file leaves out is kept.
    kept = [f"{name} = d.{name}" for name in ("serial_number", "udi", "owner", "last_fu_date", "manufacturing_date",
                                              "lot_number") if name not in given]
    kept += ["status = coalesce(s.status, d.status)",
             "expected_end_of_life = coalesce(s.expected_end_of_life, d.expected_end_of_life)"]
    await conn.execute(
        f"""
        UPDATE import_device s SET existing = d.id, {", ".join(kept)}
        FROM device d WHERE d.organisation = $1 AND d.individnummer = s.individnummer
        """, organisation_id)
    await conn.execute(
        f"""
        UPDATE import_device s SET own = o.id, own_interval = o.interval_days
        FROM ({_OWN_FU}) o WHERE o.device = s.existing
        """, organisation_id)
    await conn.execute(
        """
        UPDATE import_device s SET override = f.id, override_interval = f.interval_days, override_active = f.active
        FROM fu_schedule f WHERE f.device = s.existing AND f.overrides = s.inherited
        """)
    # A new device's defaults; the interval that applies now and after the import; the next FU.
    await conn.execute(
        """
        UPDATE import_device s SET
            serial_number = coalesce(s.serial_number, ''), udi = coalesce(s.udi, ''),
            lot_number = coalesce(s.lot_number, ''),
            status = coalesce(s.status, 'in_depot'),
            expected_end_of_life = coalesce(s.expected_end_of_life,
                (s.in_service_date + make_interval(years => s.life_years))::date),
            current_interval = coalesce(s.own_interval, CASE WHEN s.override_active THEN s.override_interval END,
                                        s.inherited_interval)
        WHERE s.reason IS NULL
        """)
    await conn.execute(
        """
        UPDATE import_device s SET next_fu_date = CASE
                WHEN s.next_fu_date IS NOT NULL THEN s.next_fu_date
                WHEN s.status = 'condemned' THEN NULL
                ELSE coalesce(s.last_fu_date, s.in_service_date) + coalesce(s.fu_interval, s.current_interval) END,
            reason = CASE WHEN s.expected_end_of_life < s.in_service_date THEN
                'Livslängden kan inte ta slut innan hjälpmedlet togs i bruk.' END
        WHERE s.reason IS NULL
        """)


_DEVICE_COLUMNS = ("article", "serial_number", "udi", "owner", "status", "in_service_date", "expected_end_of_life",
                   "last_fu_date", "next_fu_date", "manufacturing_date", "lot_number")
_DEVICE_DIFFERS = (f"({', '.join('d.' + c for c in _DEVICE_COLUMNS)}) IS DISTINCT FROM "
                   f"({', '.join('s.' + c for c in _DEVICE_COLUMNS)})")
_INTERVAL_DIFFERS = "(s.fu_interval IS NOT NULL AND s.fu_interval IS DISTINCT FROM s.current_interval)"
_DEVICE_CHANGED = f"{_DEVICE_DIFFERS} OR {_INTERVAL_DIFFERS}"
_DEVICES_JOINED = "LEFT JOIN device d ON d.id = s.existing"


async def compare_devices(organisation_id: int, rows: Sequence[DeviceRow], given: Collection[str]) -> Outcome:
    """The dry run of a device file: nothing is written."""
    async with db.transaction(), db.connection() as conn:
        await _stage_devices(conn, organisation_id, rows, given)
        return await counted(conn, "import_device", _DEVICE_CHANGED, _DEVICES_JOINED)


async def merge_devices(organisation_id: int, rows: Sequence[DeviceRow], given: Collection[str],
                        progress: Progress = quiet) -> Outcome:
    """Apply a device file, keyed by individnummer, inside the caller's transaction: the devices,
    and the interval of each one's "fu" schedule (its own schedule's, else an override of the
    inherited one's, else a schedule of its own when it inherits none)."""
    async with db.transaction(), db.connection() as conn:
        # New individnummer one writer at a time, as the register gives them (register.py).
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext('device_label'), $1)", organisation_id)
        progress("Jämför med hjälpmedlen som finns")
        await _stage_devices(conn, organisation_id, rows, given)
        outcome = await counted(conn, "import_device", _DEVICE_CHANGED, _DEVICES_JOINED)
        progress("Uppdaterar hjälpmedel som ändrats")
        await conn.execute(
            f"""
            UPDATE device d SET {", ".join(f"{c} = s.{c}" for c in _DEVICE_COLUMNS)}
            FROM import_device s WHERE d.id = s.existing AND s.reason IS NULL AND {_DEVICE_DIFFERS}
            """)
        progress("Lägger till nya hjälpmedel")
        await conn.execute(
            f"""
            INSERT INTO device (organisation, individnummer, {", ".join(_DEVICE_COLUMNS)})
            SELECT $1, s.individnummer, {", ".join("s." + c for c in _DEVICE_COLUMNS)}
            FROM import_device s WHERE s.existing IS NULL AND s.reason IS NULL ORDER BY s.line
            ON CONFLICT (organisation, individnummer) DO NOTHING
            """, organisation_id)
        await conn.execute(
            """
            UPDATE import_device s SET existing = d.id FROM device d
            WHERE s.existing IS NULL AND s.reason IS NULL AND d.organisation = $1 AND d.individnummer = s.individnummer
            """, organisation_id)
        progress("Sparar FU-intervall")
        await _merge_intervals(conn, organisation_id)
    return outcome


async def _merge_intervals(conn, organisation_id: int) -> None:
    wanted = f"s.reason IS NULL AND {_INTERVAL_DIFFERS}"
    await conn.execute(
        f"UPDATE fu_schedule f SET interval_days = s.fu_interval FROM import_device s WHERE f.id = s.own AND {wanted}")
    await conn.execute(
        f"""
        UPDATE fu_schedule f SET interval_days = s.fu_interval, active = true
        FROM import_device s WHERE f.id = s.override AND s.own IS NULL AND {wanted}
        """)
    await conn.execute(
        f"""
        INSERT INTO fu_schedule (organisation, device, overrides, name, interval_days, checklist_code, before_new_user)
        SELECT $1, s.existing, i.id, i.name, s.fu_interval, i.checklist_code, i.before_new_user
        FROM import_device s JOIN fu_schedule i ON i.id = s.inherited
        WHERE s.own IS NULL AND s.override IS NULL AND {wanted}
        """, organisation_id)
    await conn.execute(
        f"""
        INSERT INTO fu_schedule (organisation, device, name, interval_days, checklist_code)
        SELECT $1, s.existing, '{FU_SCHEDULE_NAME}', s.fu_interval, '{FU_CHECKLIST}'
        FROM import_device s WHERE s.own IS NULL AND s.inherited IS NULL AND {wanted}
        """, organisation_id)


# --- loans ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LoanRow:
    line: int
    individnummer: str
    patient: int  # the patient's id, found by personnummer (patients.bulk.patient_ids)
    from_date: date


_LOAN_STAGING = """
    line int, individnummer text, patient int, from_date date,
    device int, status text, holder int, existing bigint, loan_patient int, loan_from date, last_end date, reason text
"""


async def _stage_loans(conn, organisation_id: int, rows: Sequence[LoanRow], today: date) -> None:
    await stage(conn, "import_loan", _LOAN_STAGING, ("line", "individnummer", "patient", "from_date"),
                 [(r.line, r.individnummer, r.patient, r.from_date) for r in rows])
    await conn.execute(
        """
        UPDATE import_loan s SET device = d.id, status = d.status, holder = d.holder
        FROM device d WHERE d.organisation = $1 AND d.individnummer = s.individnummer
        """, organisation_id)
    await conn.execute(
        """
        UPDATE import_loan s SET existing = l.id, loan_patient = l.patient, loan_from = l.from_date
        FROM device_loan l WHERE l.device = s.device AND l.to_date IS NULL
        """)
    await conn.execute(
        """
        UPDATE import_loan s SET last_end = e.last_end
        FROM (SELECT l.device, max(l.to_date) AS last_end FROM device_loan l
              WHERE l.device IN (SELECT device FROM import_loan) AND l.to_date IS NOT NULL GROUP BY l.device) e
        WHERE e.device = s.device
        """)
    # The rules of lending (loans.py), for a loan that is not already the device's open loan.
    await conn.execute(
        """
        UPDATE import_loan s SET reason = CASE
            WHEN s.device IS NULL THEN
                'Individnumret ' || s.individnummer || ' finns inte. Importera hjälpmedlen först.'
            WHEN s.existing IS NOT NULL AND s.loan_patient = s.patient AND s.loan_from = s.from_date THEN NULL
            WHEN s.from_date > $1 THEN 'Ett lån kan inte börja i framtiden.'
            WHEN s.status = 'condemned' AND s.loan_patient IS DISTINCT FROM s.patient THEN
                'Hjälpmedlet är utdömt och kan inte lånas ut.'
            WHEN s.existing IS NOT NULL AND s.loan_patient <> s.patient AND s.from_date < s.loan_from THEN
                'Hjälpmedlet är utlånat till en annan patient sedan ' || to_char(s.loan_from, 'YYYY-MM-DD')
                || '; ett nytt lån kan inte börja före det.'
            WHEN s.last_end IS NOT NULL AND s.from_date < s.last_end THEN
                'Lånet kan inte börja före ' || to_char(s.last_end, 'YYYY-MM-DD') || ', då förra lånet slutade.'
            END
        """, today)


_LOAN_CHANGED = "(s.loan_patient, s.loan_from, s.holder) IS DISTINCT FROM (s.patient, s.from_date, s.patient)"


async def compare_loans(organisation_id: int, rows: Sequence[LoanRow], today: date) -> Outcome:
    """The dry run of a loan file: nothing is written."""
    async with db.transaction(), db.connection() as conn:
        await _stage_loans(conn, organisation_id, rows, today)
        return await counted(conn, "import_loan", _LOAN_CHANGED)


async def merge_loans(organisation_id: int, rows: Sequence[LoanRow], today: date,
                      progress: Progress = quiet) -> Outcome:
    """Apply a loan file, keyed by individnummer, inside the caller's transaction. A device lent
    to someone else is taken back the day the new loan begins; the patient becomes the device's
    holder, and a device in the depot or being reconditioned goes into use. Loans the file does
    not name are left as they are (returns are registered in Runda)."""
    async with db.transaction(), db.connection() as conn:
        progress("Jämför med lånen som finns")
        await _stage_loans(conn, organisation_id, rows, today)
        outcome = await counted(conn, "import_loan", _LOAN_CHANGED)
        progress("Sparar lånen")
        ok = "s.reason IS NULL"
        await conn.execute(
            f"""
            UPDATE device_loan l SET from_date = s.from_date FROM import_loan s
            WHERE l.id = s.existing AND {ok} AND s.loan_patient = s.patient AND s.loan_from <> s.from_date
            """)
        await conn.execute(
            f"""
            UPDATE device_loan l SET to_date = s.from_date FROM import_loan s
            WHERE l.id = s.existing AND {ok} AND s.loan_patient <> s.patient
            """)
        await conn.execute(
            f"""
            INSERT INTO device_loan (organisation, device, patient, from_date)
            SELECT $1, s.device, s.patient, s.from_date FROM import_loan s
            WHERE {ok} AND (s.existing IS NULL OR s.loan_patient <> s.patient) ORDER BY s.line
            """, organisation_id)
        await conn.execute(
            f"""
            UPDATE device d SET holder = s.patient,
                status = CASE WHEN s.existing IS DISTINCT FROM NULL AND s.loan_patient = s.patient THEN d.status
                              WHEN d.status IN ('in_depot', 'reconditioning') THEN 'in_use' ELSE d.status END
            FROM import_loan s WHERE d.id = s.device AND {ok} AND d.holder IS DISTINCT FROM s.patient
            """)
    return outcome


async def refresh_statistics() -> None:
    """Fresh planner statistics for the device register after a large import (as after the demo's
    load): outside the import's transaction, once it is committed."""
    await db.execute("ANALYZE article, device, device_loan, fu_schedule")


# --- the registers in the import files' shape ------------------------------------------------------


async def export_articles(organisation_id: int) -> list[dict]:
    """Every article: article_number, name, manufacturer, iso_code (its category's; "" for a spare part)."""
    rows = await db.fetch(
        """
        SELECT a.article_number, a.name, a.manufacturer, coalesce(k.iso_code, '') AS iso_code
        FROM article a LEFT JOIN device_category k ON k.id = a.category
        WHERE a.organisation = $1 ORDER BY a.category IS NULL, a.article_number
        """, organisation_id)
    return [dict(r) for r in rows]


async def export_devices(organisation_id: int) -> list[dict]:
    """Every device with its article number, owner (a cost bearer's id), dates and the interval of
    the "fu" schedule that applies to it (None: no FU)."""
    rows = await db.fetch(
        f"""
        SELECT d.individnummer, a.article_number, d.serial_number, d.udi, d.owner, d.status, d.in_service_date,
               d.expected_end_of_life, d.last_fu_date, d.next_fu_date, d.manufacturing_date, d.lot_number,
               coalesce(o.interval_days, CASE WHEN v.active THEN v.interval_days END,
                        af.interval_days, cf.interval_days) AS fu_interval_days
        FROM device d JOIN article a ON a.id = d.article
        LEFT JOIN ({_ARTICLE_FU}) af ON af.article = a.id
        LEFT JOIN ({_CATEGORY_FU}) cf ON cf.category = a.category
        LEFT JOIN ({_OWN_FU}) o ON o.device = d.id
        LEFT JOIN fu_schedule v ON v.device = d.id AND v.overrides = coalesce(af.id, cf.id)
        WHERE d.organisation = $1 ORDER BY d.individnummer
        """, organisation_id)
    return [dict(r) for r in rows]


async def export_loans(organisation_id: int) -> list[dict]:
    """Every open loan: the device's individnummer, the patient's id, since when."""
    rows = await db.fetch(
        """
        SELECT d.individnummer, l.patient, l.from_date FROM device_loan l JOIN device d ON d.id = l.device
        WHERE l.organisation = $1 AND l.to_date IS NULL ORDER BY d.individnummer
        """, organisation_id)
    return [dict(r) for r in rows]
