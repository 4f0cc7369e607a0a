"""The fault report itself: the answers and the rules every report follows (one case per form),
the public report, its private status, and the work order's text made from it.

Nothing is shown to the public except through `case_status`, which returns the device's
category and the case's stage and never anything about the patient.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from backend import db
from backend.db import Sql
from backend.devices.service import device_row
from backend.faults.categories import guide_for, problem_labels
from backend.faults.errors import ReportInvalid
from backend.faults.tokens import PublicDevice, looks_like_token, new_token, tel_href
from backend.organisations.service import organisation_name, organisation_phone
from backend.photos import Photo, PhotoRejected, clean_photo
from backend.workdays import STOCKHOLM
from backend.workorders import service as workorders
from backend.workorders.tables import WorkOrderStatus

USABLE = {"yes": "Ja, som vanligt", "partly": "Delvis", "no": "Nej, inte alls"}
BRING_IN = {"yes": "Ja", "no": "Nej"}
REPLACEMENT = {"yes": "Ja", "no": "Nej", "unsure": "Vet inte"}
LOCATION = {"usual": "Där det brukar stå", "other": "Någon annanstans"}

# A cancelled order's reason is written for staff and may say something about the patient;
# the reporter is told this instead.
CANCELLED_ANSWER = "Ärendet avslutades utan åtgärd. Ring hjälpmedelscentralen om felet finns kvar."


@dataclass(frozen=True)
class ReportInput:
    """The answers on the fault-report form, as typed (every value a string)."""

    problems: tuple[str, ...] = ()
    description: str = ""
    where_on_device: str = ""
    usable: str = ""
    can_bring_in: str = ""
    needs_replacement: str = ""
    location: str = "usual"
    address: str = ""
    door_code: str = ""
    contact_name: str = ""
    contact_phone: str = ""
    call_times: str = ""
    honeypot: str = ""


_PHONE_CHARACTERS = re.compile(r"[0-9 +()\-]+")


def phone_is_valid(phone: str) -> bool:
    digits = re.sub(r"[^0-9]", "", phone)
    return bool(_PHONE_CHARACTERS.fullmatch(phone)) and 7 <= len(digits) <= 15 and "+" not in phone[1:]


def check_report(data: ReportInput, category_code: str | None) -> list[tuple[str | None, str]]:
    """Every answer checked on the server, errors in the order of the form."""
    errors: list[tuple[str | None, str]] = []
    if data.honeypot:
        # Only a robot fills the hidden field; it learns nothing from the answer.
        return [(None, "Felanmälan kunde inte skickas. Försök igen eller ring hjälpmedelscentralen.")]
    known = {code for code, _ in guide_for(category_code).problems}
    if any(p not in known for p in data.problems):
        errors.append(("problems", "Välj bland alternativen i listan."))
    elif not data.problems and not data.description:
        errors.append(("problems", "Välj vad som är fel, eller beskriv felet med egna ord."))
    elif "other" in data.problems and not data.description:
        errors.append(("description", "Beskriv felet med egna ord."))
    if len(data.description) > 2000:
        errors.append(("description", "Beskrivningen får vara högst 2000 tecken."))
    if len(data.where_on_device) > 200:
        errors.append(("where_on_device", "Skriv högst 200 tecken."))
    if data.usable not in USABLE:
        errors.append(("usable", "Svara på om hjälpmedlet går att använda."))
    if data.can_bring_in not in BRING_IN:
        errors.append(("can_bring_in", "Svara på om hjälpmedlet kan lämnas in till hjälpmedelscentralen."))
    if data.needs_replacement not in REPLACEMENT:
        errors.append(("needs_replacement", "Svara på om ett ersättningshjälpmedel behövs."))
    if data.location not in LOCATION:
        errors.append(("location", "Svara på var hjälpmedlet står nu."))
    elif data.location == "other" and not data.address:
        errors.append(("address", "Skriv adressen där hjälpmedlet står nu."))
    if len(data.address) > 200:
        errors.append(("address", "Adressen får vara högst 200 tecken."))
    if len(data.door_code) > 40:
        errors.append(("door_code", "Portkoden får vara högst 40 tecken."))
    if len(data.contact_name) < 2:
        errors.append(("contact_name", "Skriv namnet på den vi ska kontakta."))
    elif len(data.contact_name) > 100:
        errors.append(("contact_name", "Namnet får vara högst 100 tecken."))
    if not phone_is_valid(data.contact_phone):
        errors.append(("contact_phone", "Skriv ett telefonnummer med siffror, till exempel 070-123 45 67."))
    if len(data.call_times) > 200:
        errors.append(("call_times", "Skriv högst 200 tecken."))
    return errors


async def _photo_or_errors(photo_bytes: bytes | None, errors: list) -> Photo | None:
    if not photo_bytes:
        return None
    try:
        return await clean_photo(photo_bytes)
    except PhotoRejected as exc:
        errors.extend(exc.errors)
        return None


async def checked_answers(data: ReportInput, category_code: str | None, submission_key: str,
                          photo_bytes: bytes | None, extra: list[tuple[str | None, str]] = ()) -> Photo | None:
    errors = check_report(data, category_code)
    if data.honeypot:
        raise ReportInvalid(errors)
    if not looks_like_token(submission_key):
        errors.insert(0, (None, "Formuläret var ofullständigt. Kontrollera uppgifterna och skicka igen."))
    errors.extend(extra)
    photo = await _photo_or_errors(photo_bytes, errors)
    if errors:
        raise ReportInvalid(errors)
    return photo


REPORT_COLUMNS = """problems, description, where_on_device, usable, can_bring_in, needs_replacement,
    at_usual_place, address, door_code, contact_name, contact_phone, call_times,
    photo, photo_content_type, photo_width, photo_height"""


def report_values(data: ReportInput, photo: Photo | None) -> list:
    other = data.location == "other"
    return [list(data.problems), data.description, data.where_on_device, data.usable, data.can_bring_in,
            data.needs_replacement, not other, data.address if other else "", data.door_code if other else "",
            data.contact_name, data.contact_phone, data.call_times,
            photo.content if photo else None, photo.content_type if photo else None,
            photo.width if photo else None, photo.height if photo else None]


# Back + Send again after the receipt: the browser fetches the form anew (a new hidden
# submission key) and fills in what was typed, but not the key, nor the file. The same answers
# for the same device shortly after are that same report, so the first receipt is shown.
RESEND_WINDOW_MINUTES = 30
ANSWER_COLUMNS = [c.strip() for c in REPORT_COLUMNS.split(",") if not c.strip().startswith("photo")]


async def _same_answers_sent(device: PublicDevice, data: ReportInput, submission_key: str,
                             photo: Photo | None) -> str | None:
    """The status token of a web report of `device`, made within the window under another key,
    whose every answer equals these, and whose photo is this one if one came (a browser never
    fills a file in again, so a resend without one may be of a report with one)."""
    answers = report_values(data, None)[: len(ANSWER_COLUMNS)]
    same = " AND ".join(f"{column} IS NOT DISTINCT FROM ${n}"
                        for n, column in enumerate(ANSWER_COLUMNS, start=5))
    return await db.fetchval(
        f"""
        SELECT status_token FROM fault_report
         WHERE device = $1 AND channel = 'web' AND submission_key <> $2
           AND received_at > now() - make_interval(mins => $3) AND {same}
           AND ($4::bytea IS NULL OR photo = $4)
         ORDER BY id LIMIT 1
        """,
        device.device_id, submission_key, RESEND_WINDOW_MINUTES, photo.content if photo else None, *answers,
    )


async def report_fault(device: PublicDevice, data: ReportInput, *, submission_key: str,
                       photo_bytes: bytes | None = None) -> str:
    """Anyone with the sticker (`device`, from public_device) reports a fault; returns the
    private status token. A resend of the same form (same submission key), or of the same
    answers under a new key soon after (Back + Send), is the same report: its token is returned."""
    photo = await checked_answers(data, device.category_code, submission_key, photo_bytes)
    resent = await _same_answers_sent(device, data, submission_key, photo)
    if resent is not None:
        return resent
    status_token = await db.fetchval(
        f"""
        WITH n AS (SELECT nextval(pg_get_serial_sequence('fault_report', 'id')) AS id)
        INSERT INTO fault_report (id, number, organisation, device, device_token, channel, status, status_token,
                                  submission_key, {REPORT_COLUMNS})
        SELECT n.id, 'FA-' || to_char(now() AT TIME ZONE 'Europe/Stockholm', 'YYYY') || '-' || lpad(n.id::text, 6, '0'),
               $1, $2, $3, 'web', 'new', $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19,
               $20, $21
        FROM n
        ON CONFLICT (submission_key) DO NOTHING
        RETURNING status_token
        """,
        device.organisation_id, device.device_id, device.token_id, new_token(), submission_key,
        *report_values(data, photo),
    )
    if status_token is None:
        existing = await db.fetchrow(
            "SELECT status_token, device FROM fault_report WHERE submission_key = $1", submission_key
        )
        if existing is None or existing["device"] != device.device_id:
            raise ReportInvalid([(None, "Formuläret var ofullständigt. Kontrollera uppgifterna och skicka igen.")])
        status_token = existing["status_token"]
    return status_token


@dataclass(frozen=True)
class Stage:
    key: str  # received | planned | fixed | closed
    label: str
    day: date | None = None
    answer: str | None = None


STAGE_LABELS = {"received": "Mottagen", "planned": "Planerad", "fixed": "Åtgärdad", "closed": "Avslutad"}


def _local_day(value: datetime | None) -> date | None:
    return value.astimezone(STOCKHOLM).date() if value else None


def stage_of(report: dict, order: dict | None) -> Stage:
    """Where a report stands for the person who made it, from the report and its work order.

    mottagen: waiting for triage, or an order not yet planned (or sent back to planning);
    planerad: an order with a day; åtgärdad: the order is completed; avslutad: answered and
    closed without an order, or the order was cancelled (makulerad)."""
    if report["status"] == "closed":
        return Stage("closed", STAGE_LABELS["closed"], _local_day(report.get("handled_at")), report["answer"])
    if report["status"] != "ordered" or order is None:
        return Stage("received", STAGE_LABELS["received"])
    status = order["status"]
    if status == WorkOrderStatus.completed:
        return Stage("fixed", STAGE_LABELS["fixed"], _local_day(order["completed_at"]))
    if status == WorkOrderStatus.cancelled:
        return Stage("closed", STAGE_LABELS["closed"], _local_day(order["cancelled_at"]), CANCELLED_ANSWER)
    if status in (WorkOrderStatus.planned, WorkOrderStatus.in_progress, WorkOrderStatus.paused) \
            and order["planned_date"] is not None:
        return Stage("planned", STAGE_LABELS["planned"], order["planned_date"])
    return Stage("received", STAGE_LABELS["received"])


async def case_status(status_token: str) -> dict | None:
    """The reporter's view of a case: number, category, when it came in, its stage. Nothing personal."""
    if not looks_like_token(status_token):
        return None
    row = await db.fetchrow(Sql(
        """
        SELECT r.number, r.status, r.received_at, r.handled_at, r.answer, r.work_order, r.channel,
               coalesce(d.category_name, 'Hjälpmedel') AS category_name,
               :hmc_name AS hmc_name, :hmc_phone AS hmc_phone
        FROM fault_report r JOIN LATERAL (:device) d ON true
        WHERE r.status_token = :token
        """,
        token=status_token, device=device_row(db.raw("r.device")),
        hmc_name=organisation_name(db.raw("r.organisation")), hmc_phone=organisation_phone(db.raw("r.organisation")),
    ))
    if row is None:
        return None
    report = dict(row)
    orders = await workorders.orders_by_id([report["work_order"]] if report["work_order"] else [])
    stage = stage_of(report, orders.get(report["work_order"]))
    return {"number": report["number"], "category_name": report["category_name"],
            "received_at": report["received_at"], "stage": stage, "hmc_name": report["hmc_name"],
            "hmc_phone": report["hmc_phone"], "hmc_phone_href": tel_href(report["hmc_phone"])}


# --- what a work order made from a report says -------------------------------------------


def describe_for_work_order(report: dict, category_code: str | None, *, urgent: bool = False,
                            note: str = "") -> str:
    """The work order's description: everything the technician needs from the report, in one text."""
    problems = problem_labels(category_code, report["problems"])
    what = "; ".join(problems + ([report["description"]] if report["description"] else []))
    source = "webb/QR-kod" if report["channel"] == "web" else "förskrivare"
    lines = [f"{'AKUT: ' if urgent else ''}Felanmälan {report['number']} ({source}): {what}"]
    if report["where_on_device"]:
        lines.append(f"Var på hjälpmedlet: {report['where_on_device']}")
    lines.append(f"Går att använda: {USABLE[report['usable']]}. Kan lämnas in på HMC: "
                 f"{BRING_IN[report['can_bring_in']]}. Ersättningshjälpmedel behövs: "
                 f"{REPLACEMENT[report['needs_replacement']]}.")
    if report["at_usual_place"]:
        lines.append("Står där det brukar stå.")
    else:
        lines.append("Står inte där det brukar stå: se kontakt och plats på arbetsordern.")
    if note:
        lines.append(f"Samordnarens anteckning: {note}")
    return "\n".join(lines)


def site_contact_for(report: dict) -> str:
    """Where the device is now (when not where it usually stands) and whom to call. Kept in the
    work order's own field, apart from the description that device histories show."""
    lines = []
    if not report["at_usual_place"]:
        lines.append(f"Står nu på: {report['address']}"
                     + (f", portkod {report['door_code']}" if report["door_code"] else ""))
    contact = f"Kontakt: {report['contact_name']}, {report['contact_phone']}"
    if report["call_times"]:
        contact += f" (bäst: {report['call_times']})"
    lines.append(contact)
    return "\n".join(lines)


def report_dict(data: ReportInput) -> dict:
    other = data.location == "other"
    return {"problems": list(data.problems), "description": data.description,
            "where_on_device": data.where_on_device, "usable": data.usable, "can_bring_in": data.can_bring_in,
            "needs_replacement": data.needs_replacement, "at_usual_place": not other,
            "address": data.address if other else "", "door_code": data.door_code if other else "",
            "contact_name": data.contact_name, "contact_phone": data.contact_phone, "call_times": data.call_times}
