"""Exports for admins and coordinators: work orders with their results, devices, and FU status, as
CSV or XLSX (sheets.py writes them), filtered like the lists they come from.

Each export is one query composed from what the owners export (workorders.selection, devices'
selection and device_row, visits.recorded_summary, maintenance's answers and checklist, the names
of staff, units and cost bearers), read through a cursor a chunk at a time and written in a worker
thread into an unnamed temporary file: 80,000 rows neither fill the memory nor hold up the event
loop, and nothing is left on disk.

Patients' names and personnummer are in a file only when asked for, and then only those of
patients the person may see (patients.scope); each patient in it is logged in the access log
(what="export") once, in the same transaction that reads them.
"""

from __future__ import annotations

import asyncio
import tempfile
from dataclasses import dataclass
from datetime import date, datetime
from typing import BinaryIO, Callable

from backend import db
from backend.accounts.service import Actor, staff_name
from backend.db import Sql, raw
from backend.devices import service as devices
from backend.devices.register import HMC_OWNER, DeviceFilter, category_choices, owner_choices
from backend.devices.selection import devices_matching
from backend.devices.tables import DEVICE_STATUS_LABELS, DeviceStatus
from backend.errors import DomainError, SeveralErrors
from backend.maintenance import service as maintenance
from backend.organisations import service as organisations
from backend.patients import service as patients
from backend.reports.sheets import FORMATS, Column, open_sheet
from backend.visits import service as visits
from backend.workdays import STOCKHOLM
from backend.workorders import planning
from backend.workorders.rules import REPAIR_TYPES, repair_within_kpi
from backend.workorders.selection import OrderFilter, open_order_of, orders_matching
from backend.workorders.tables import (
    NOT_COMPLETED_LABELS,
    OUTCOME_LABELS,
    STATUS_LABELS,
    TYPE_LABELS,
    NotCompletedReason,
    Outcome,
    WorkOrderStatus,
    WorkOrderType,
)

CHUNK = 1000  # rows read, looked up and written at a time
# Exports made at once by one server process; more wait their turn. Each holds a database
# connection and most of a core while it runs (an XLSX of 80,000 rows takes half a minute).
_AT_ONCE = asyncio.Semaphore(2)
AUDIT_WHAT = "export"
HMC_NAME = "Hjälpmedelscentralen"  # the owner of a device no cost bearer owns

CHANNEL_LABELS = {"prescriber": "Förskrivare", "phone": "Telefon", "web": "Felanmälan på webben",
                  "generated": "FU-schema", "hmc": "Hjälpmedelscentralen"}
PATIENT_COLUMNS = [Column("Patient", 24), Column("Personnummer", 15)]


class ExportRefused(DomainError):
    """An export could not be made as asked; nothing was read."""


class ExportRefusals(SeveralErrors, ExportRefused):
    """Several fields wrong at once: each field shows its own, the summary lists them all."""


@dataclass(frozen=True)
class ExportFile:
    content: BinaryIO  # at its start; the caller closes it (the file has no name on disk)
    size: int
    filename: str
    media_type: str
    rows: int


@dataclass(frozen=True)
class FuFilter:
    category: int | None = None
    owner: str | None = None  # devices.register.HMC_OWNER, or a cost bearer's id as text
    overdue_only: bool = False


# --- the rules ----------------------------------------------------------------------------------


def local_day(moment: datetime | None) -> date | None:
    return moment.astimezone(STOCKHOLM).date() if moment else None


def sla_met(status: str, start_due: date | None, finish_due: date | None, started_on: date | None,
            completed_on: date | None, today: date) -> bool | None:
    """Whether the order kept its service-level clocks (started by `start_due`, finished by
    `finish_due`): False as soon as one is missed, True once it is completed in time, None while
    it is still open in time, when it has no clock, or when it was cancelled (makulerad)."""
    if status == WorkOrderStatus.cancelled or (start_due is None and finish_due is None):
        return None
    began = started_on or completed_on  # an order completed at once was started that day
    if start_due is not None and (began > start_due if began else today > start_due):
        return False
    if finish_due is not None and (completed_on > finish_due if completed_on else today > finish_due):
        return False
    return True if status == WorkOrderStatus.completed else None


def overdue_days(next_due: date | None, today: date) -> int | None:
    """Days since the FU was due (0 when it is not overdue; None without a due date)."""
    return None if next_due is None else max((today - next_due).days, 0)


async def check_choices(organisation_id: int, *, technician: int | None = None, category: int | None = None,
                        owner: str | None = None, since: date | None = None, until: date | None = None) -> None:
    """Refuse a filter naming what the page does not offer (a technician, category or owner of
    another organisation, or none) or a period that ends before it begins, every field at once."""
    errors: list[tuple[str | None, str]] = []
    if technician is not None and technician not in {t["id"] for t in await planning.technicians(organisation_id)}:
        errors.append(("tekniker", "Välj en tekniker ur listan."))
    if category is not None and category not in {c["id"] for c in await category_choices(organisation_id)}:
        errors.append(("kategori", "Välj en kategori ur listan."))
    if owner is not None and owner != HMC_OWNER and owner not in {
            str(o["id"]) for o in await owner_choices(organisation_id)}:
        errors.append(("agare", "Välj ägare ur listan."))
    if since and until and until < since:
        errors.append(("till", "Periodens sista dag kan inte vara före den första."))
    if len(errors) > 1:
        raise ExportRefusals(errors)
    if errors:
        raise ExportRefused(errors[0][1], errors[0][0])


def _check_format(format: str) -> None:
    if format not in FORMATS:
        raise ExportRefused("Välj format: Excel eller CSV.", "format")


def _patient(actor: Actor, patient: Sql, with_patients: bool) -> Sql:
    """The patient's id where asked for and the actor may see them, else NULL."""
    if not with_patients:
        return raw("NULL::int")
    return Sql("CASE WHEN :visible THEN :patient END", visible=patients.scope(actor, patient), patient=patient)


# --- reading and writing --------------------------------------------------------------------------


async def _look_up(actor: Actor, records: list, people: dict[int, tuple[str, str]]) -> None:
    """Names and personnummer of the chunk's patients not yet in `people`: one audited read each."""
    new = sorted({r["patient"] for r in records if r["patient"] is not None} - people.keys())
    if new:
        for person in await patients.patient_contacts(actor, new, AUDIT_WHAT):
            people[person["id"]] = (person["name"], person["personal_number"])


def _write_chunk(sheet, records: list, row: Callable, people: dict, with_patients: bool) -> None:
    rows = []
    for record in records:
        values = row(record)
        if with_patients:
            values.extend(people.get(record["patient"], (None, None)))
        rows.append(values)
    sheet.write(rows)


async def _export(actor: Actor, query: Sql, row: Callable, *, format: str, name: str, title: str,
                  columns: list[Column], with_patients: bool, today: date) -> ExportFile:
    _check_format(format)
    columns = columns + PATIENT_COLUMNS if with_patients else columns
    content = tempfile.TemporaryFile(prefix="runda-export-")
    people: dict[int, tuple[str, str]] = {}
    count = 0
    try:
        sheet = await asyncio.to_thread(open_sheet, format, content, columns, title)
        text, args = query.compile()
        async with _AT_ONCE, db.transaction(), db.connection() as conn:
            cursor = await conn.cursor(text, *args)
            while records := await cursor.fetch(CHUNK):
                if with_patients:
                    await _look_up(actor, records, people)
                await asyncio.to_thread(_write_chunk, sheet, records, row, people, with_patients)
                count += len(records)
        await asyncio.to_thread(sheet.close)
        size = content.seek(0, 2)
        content.seek(0)
    except BaseException:
        content.close()
        raise
    return ExportFile(content, size, f"{name}-{today.isoformat()}.{format}", FORMATS[format], count)


# --- work orders ------------------------------------------------------------------------------------

WORK_ORDER_COLUMNS = [
    Column("Arbetsorder", 16), Column("Typ", 16), Column("Status"), Column("Kanal", 16), Column("Individnummer"),
    Column("Artikelnummer"), Column("Benämning", 30), Column("Kategori", 22), Column("Kostnadsbärare", 22),
    Column("Beställande enhet", 22), Column("Mottagen", 17), Column("Planerad", 12), Column("Påbörjad", 17),
    Column("Slutförd", 17), Column("Makulerad", 17), Column("Tekniker", 20), Column("Utfall", 24),
    Column("Fel", 30), Column("Åtgärd", 30), Column("Godkända punkter", 10), Column("Underkända punkter", 10),
    Column("Underkända kontrollpunkter", 40), Column("Reservdelar (artikelnr × antal)", 24),
    Column("Tid (minuter)", 10), Column("Påbörjas senast", 12), Column("Klart senast", 12),
    Column("Servicenivå uppfylld", 10), Column("Reparation inom 5 arbetsdagar", 10),
]

_WORK_ORDERS_SQL = """
SELECT w.number, w.type, w.status, w.channel, w.received_at, w.planned_date, w.started_at, w.completed_at,
       w.cancelled_at, w.start_due, w.finish_due, w.outcome, w.not_completed_reason,
       d.individnummer, d.article_number, d.article_name, d.category_name,
       coalesce(:owner_name, :hmc) AS owner_name, :care_unit_name AS care_unit_name,
       :assignee_name AS assignee_name, r.parts, r.minutes, r.fault_found, r.action_taken,
       c.answered, c.passed, c.failed, c.failed_items, :patient AS patient
FROM (:orders) w
JOIN LATERAL (:device) d ON true
JOIN LATERAL (:recorded) r ON true
LEFT JOIN LATERAL (
    SELECT count(*) AS answered, count(*) FILTER (WHERE a.answer = 'pass') AS passed,
           count(*) FILTER (WHERE a.answer = 'fail') AS failed,
           string_agg(coalesce(s.texts ->> a.item_key, a.item_key), ' | ' ORDER BY a.id)
               FILTER (WHERE a.answer = 'fail') AS failed_items
    -- OFFSET 0: the order's answers and checklist are read once, not once per answer.
    FROM (SELECT :answers AS answers,
                 (SELECT jsonb_object_agg(e.item ->> 'key', e.item ->> 'text')
                  FROM json_array_elements((:checklist) -> 'items') AS e(item)) AS texts
          OFFSET 0) s
    CROSS JOIN LATERAL json_to_recordset(s.answers) AS a(id bigint, item_key text, answer text)
    WHERE w.type = :fu
) c ON true
ORDER BY w.received_at, w.id
"""


def _work_orders_query(actor: Actor, wanted: OrderFilter, with_patients: bool) -> Sql:
    order = raw("w.id")
    return Sql(
        _WORK_ORDERS_SQL,
        orders=orders_matching(actor.organisation, wanted), device=devices.device_row(raw("w.device")),
        owner_name=organisations.cost_bearer_name(raw("d.owner")), hmc=HMC_NAME,
        care_unit_name=organisations.care_unit_name(raw("w.care_unit")), assignee_name=staff_name(raw("w.assignee")),
        recorded=visits.recorded_summary(order), answers=maintenance.answers_json(order),
        checklist=maintenance.checklist_json(order, raw("d.category_id")), fu=WorkOrderType.maintenance.value,
        patient=_patient(actor, raw("w.patient"), with_patients))


def _outcome(r) -> str | None:
    if r["outcome"]:
        return OUTCOME_LABELS[Outcome(r["outcome"])]
    if r["not_completed_reason"]:
        return "Ej utförd: " + NOT_COMPLETED_LABELS[NotCompletedReason(r["not_completed_reason"])].lower()
    return None


def work_order_row(r, today: date) -> list:
    """One order as the export's columns (before the patient's)."""
    started, completed = local_day(r["started_at"]), local_day(r["completed_at"])
    answered = bool(r["answered"])
    kpi = None
    if WorkOrderType(r["type"]) in REPAIR_TYPES and completed is not None:
        kpi = repair_within_kpi(local_day(r["received_at"]), completed)
    return [
        r["number"], TYPE_LABELS[WorkOrderType(r["type"])], STATUS_LABELS[WorkOrderStatus(r["status"])],
        CHANNEL_LABELS.get(r["channel"], r["channel"]), r["individnummer"], r["article_number"], r["article_name"],
        r["category_name"], r["owner_name"], r["care_unit_name"], r["received_at"], r["planned_date"],
        r["started_at"], r["completed_at"], r["cancelled_at"], r["assignee_name"], _outcome(r),
        r["fault_found"], r["action_taken"], r["passed"] if answered else None, r["failed"] if answered else None,
        r["failed_items"], r["parts"], r["minutes"] or None, r["start_due"], r["finish_due"],
        sla_met(r["status"], r["start_due"], r["finish_due"], started, completed, today), kpi,
    ]


async def export_work_orders(actor: Actor, wanted: OrderFilter, format: str, *, with_patients: bool,
                             today: date) -> ExportFile:
    """The organisation's orders the filter finds, oldest first, with what was done on them."""
    _check_format(format)
    wanted = wanted.cleaned()
    await check_choices(actor.organisation, technician=wanted.technician, since=wanted.since, until=wanted.until)
    return await _export(actor, _work_orders_query(actor, wanted, with_patients),
                         lambda r: work_order_row(r, today), format=format, name="arbetsordrar",
                         title="Arbetsordrar", columns=WORK_ORDER_COLUMNS, with_patients=with_patients, today=today)


# --- devices ----------------------------------------------------------------------------------------

DEVICE_COLUMNS = [
    Column("Individnummer"), Column("Artikelnummer"), Column("Benämning", 30), Column("Tillverkare", 18),
    Column("Kategori", 22), Column("ISO-kod", 10), Column("Serienummer", 18), Column("UDI", 30), Column("Status"),
    Column("Ägare", 22), Column("I bruk sedan", 12), Column("Livslängd till", 12), Column("Senaste FU", 12),
    Column("Nästa FU", 12), Column("FU-intervall (dagar)", 10), Column("Utlånad", 8),
]

_DEVICES_SQL = """
SELECT d.individnummer, d.article_number, d.article_name, d.manufacturer, d.category_name, d.iso_code,
       d.serial_number, d.udi, d.device_status, coalesce(:owner_name, :hmc) AS owner_name, d.in_service_date,
       d.expected_end_of_life, d.last_fu_date, d.next_fu_date, d.fu_interval_days, d.holder IS NOT NULL AS on_loan,
       :patient AS patient
FROM (:devices) d ORDER BY d.individnummer
"""


def device_row(r) -> list:
    return [
        r["individnummer"], r["article_number"], r["article_name"], r["manufacturer"], r["category_name"],
        r["iso_code"], r["serial_number"] or None, r["udi"] or None,
        DEVICE_STATUS_LABELS[DeviceStatus(r["device_status"])], r["owner_name"], r["in_service_date"],
        r["expected_end_of_life"], r["last_fu_date"], r["next_fu_date"], r["fu_interval_days"], r["on_loan"],
    ]


async def export_devices(actor: Actor, wanted: DeviceFilter, format: str, *, with_patients: bool,
                         today: date) -> ExportFile:
    """The organisation's devices the filter finds, by individnummer; the holder's name and
    personnummer when asked for."""
    _check_format(format)
    wanted = wanted.cleaned()
    await check_choices(actor.organisation, category=wanted.category, owner=wanted.owner)
    query = Sql(_DEVICES_SQL, devices=devices_matching(actor.organisation, wanted),
                owner_name=organisations.cost_bearer_name(raw("d.owner")), hmc=HMC_NAME,
                patient=_patient(actor, raw("d.holder"), with_patients))
    return await _export(actor, query, device_row, format=format, name="hjalpmedel", title="Hjälpmedel",
                         columns=DEVICE_COLUMNS, with_patients=with_patients, today=today)


# --- FU status --------------------------------------------------------------------------------------

FU_COLUMNS = [
    Column("Individnummer"), Column("Artikelnummer"), Column("Benämning", 30), Column("Kategori", 22),
    Column("ISO-kod", 10), Column("Ägare", 22), Column("Status"), Column("FU-intervall (dagar)", 10),
    Column("Senaste FU", 12), Column("Nästa FU", 12), Column("Dagar försenad", 10), Column("FU-order", 16),
    Column("Orderstatus"), Column("Planerad", 12), Column("Tekniker", 20),
]

# A device has FU when it has an FU date or a schedule; a condemned device gets none.
_FU_SQL = """
SELECT d.individnummer, d.article_number, d.article_name, d.category_name, d.iso_code,
       coalesce(:owner_name, :hmc) AS owner_name, d.device_status, d.fu_interval_days, d.last_fu_date,
       d.next_fu_date, o.number AS order_number, o.status AS order_status, o.planned_date,
       :assignee_name AS assignee_name
FROM (:devices) d LEFT JOIN LATERAL (:order) o ON true
WHERE d.device_status <> :condemned AND (d.next_fu_date IS NOT NULL OR d.fu_interval_days IS NOT NULL)
  AND (NOT :overdue_only OR d.next_fu_date < :today)
ORDER BY d.next_fu_date NULLS LAST, d.individnummer
"""


def fu_row(r, today: date) -> list:
    return [
        r["individnummer"], r["article_number"], r["article_name"], r["category_name"], r["iso_code"],
        r["owner_name"], DEVICE_STATUS_LABELS[DeviceStatus(r["device_status"])], r["fu_interval_days"],
        r["last_fu_date"], r["next_fu_date"], overdue_days(r["next_fu_date"], today), r["order_number"],
        STATUS_LABELS[WorkOrderStatus(r["order_status"])] if r["order_status"] else None, r["planned_date"],
        r["assignee_name"],
    ]


async def export_fu_status(actor: Actor, wanted: FuFilter, format: str, *, today: date) -> ExportFile:
    """Every device with FU the filter finds (overdue only, if asked), the most overdue first,
    with its open FU order if it has one. No patient data."""
    _check_format(format)
    device_filter = DeviceFilter(category=wanted.category, owner=wanted.owner).cleaned()
    await check_choices(actor.organisation, category=device_filter.category, owner=device_filter.owner)
    query = Sql(_FU_SQL, devices=devices_matching(actor.organisation, device_filter),
                order=open_order_of(raw("d.device_id"), WorkOrderType.maintenance.value),
                owner_name=organisations.cost_bearer_name(raw("d.owner")), hmc=HMC_NAME,
                assignee_name=staff_name(raw("o.assignee")), condemned=DeviceStatus.condemned.value,
                overdue_only=wanted.overdue_only, today=today)
    return await _export(actor, query, lambda r: fu_row(r, today), format=format, name="fu-status",
                         title="FU-status", columns=FU_COLUMNS, with_patients=False, today=today)
