"""Fault reports: the QR stickers' tokens, the public report, its private status, and the
rules every report follows (answers, one case per form, the work order's text).

Coordinators' triage is in triage.py, prescribers' repair orders in repairs.py. Nothing is
shown to the public except through `public_device` and `case_status`, which return the
device's category and the case's stage and never anything about the patient.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime

from backend import db
from backend.faults.categories import guide_for, problem_labels
from backend.photos import Photo, PhotoRejected, clean_photo
from backend.piccolo_conf import DB
from backend.workdays import STOCKHOLM
from backend.workorders import service as workorders
from backend.workorders.tables import WorkOrderStatus

TOKEN_BYTES = 16  # 128 random bits, 22 characters of base64url
_TOKEN = re.compile(r"[A-Za-z0-9_-]{22}")
# Reports through one sticker per hour, counted in the shared store (see routes.py).
REPORTS_PER_TOKEN_PER_HOUR = 20

USABLE = {"yes": "Ja, som vanligt", "partly": "Delvis", "no": "Nej, inte alls"}
BRING_IN = {"yes": "Ja", "no": "Nej"}
REPLACEMENT = {"yes": "Ja", "no": "Nej", "unsure": "Vet inte"}
LOCATION = {"usual": "Där det brukar stå", "other": "Någon annanstans"}

# A cancelled order's reason is written for staff and may say something about the patient;
# the reporter is told this instead.
CANCELLED_ANSWER = "Ärendet avslutades utan åtgärd. Ring hjälpmedelscentralen om felet finns kvar."


class FaultError(Exception):
    """A rule refused the change; `message` is Swedish, `field` the form field it is about."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class ReportInvalid(Exception):
    """Several answers need correcting: (field, Swedish message) in the order of the form."""

    def __init__(self, errors: list[tuple[str | None, str]]) -> None:
        super().__init__(errors[0][1])
        self.errors = errors


class NotFound(Exception):
    """No such device, report or token for this person: never say which."""


class AlreadyHandled(FaultError):
    def __init__(self) -> None:
        super().__init__("Felanmälan är redan hanterad av någon annan.")


# --- tokens ------------------------------------------------------------------------------


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def looks_like_token(value: str) -> bool:
    """The shape of every token Runda hands out; anything else is not looked up at all."""
    return bool(_TOKEN.fullmatch(value or ""))


def device_link(origin: str, token: str) -> str:
    return f"{origin.rstrip('/')}/f/{token}"


def case_link(origin: str, status_token: str) -> str:
    return f"{origin.rstrip('/')}/arende/{status_token}"


def tel_href(phone: str) -> str:
    """A Swedish phone number as a tel: link a phone can call (021-17 30 00 -> tel:+4621173000)."""
    digits = re.sub(r"[^0-9+]", "", phone or "")
    if digits.startswith("00"):
        digits = "+" + digits[2:]
    elif digits.startswith("0"):
        digits = "+46" + digits[1:]
    return f"tel:{digits}"


async def ensure_tokens(organisation_id: int, device_ids: list[int]) -> dict[int, str]:
    """Each device's active token, created for the devices that have none yet."""
    ids = sorted(set(device_ids))
    if not ids:
        return {}
    rows = await db.fetch(
        "SELECT device, token FROM device_token WHERE device = ANY($1::int[]) AND replaced_at IS NULL", ids
    )
    tokens = {r["device"]: r["token"] for r in rows}
    missing = [i for i in ids if i not in tokens]
    if missing:
        await db.execute(
            """
            INSERT INTO device_token (organisation, device, token)
            SELECT $1, d.id, t.token FROM unnest($2::int[], $3::text[]) AS t(device, token)
            JOIN device d ON d.id = t.device AND d.organisation = $1
            ON CONFLICT (device) WHERE replaced_at IS NULL DO NOTHING
            """,
            organisation_id, missing, [new_token() for _ in missing],
        )
        rows = await db.fetch(
            "SELECT device, token FROM device_token WHERE device = ANY($1::int[]) AND replaced_at IS NULL", missing
        )
        tokens.update({r["device"]: r["token"] for r in rows})
    return tokens


async def replace_device_token(organisation_id: int, individnummer: str) -> str:
    """A new sticker for a lost or damaged one: the old link stops working, the device stays."""
    async with DB.transaction():
        device_id = await db.fetchval(
            "SELECT id FROM device WHERE organisation = $1 AND individnummer = $2 FOR UPDATE",
            organisation_id, individnummer,
        )
        if device_id is None:
            raise NotFound()
        await db.execute(
            "UPDATE device_token SET replaced_at = now() WHERE device = $1 AND replaced_at IS NULL", device_id
        )
        token = new_token()
        await db.execute(
            "INSERT INTO device_token (organisation, device, token) VALUES ($1, $2, $3)",
            organisation_id, device_id, token,
        )
    return token


# --- the public side ---------------------------------------------------------------------


@dataclass(frozen=True)
class PublicDevice:
    """What a sticker's token resolves to. Only the category and the HMC's phone are public;
    the individnummer is for sending staff on to the device card."""

    token_id: int
    device_id: int
    organisation_id: int
    individnummer: str
    category_code: str | None
    category_name: str
    hmc_name: str
    hmc_phone: str

    @property
    def hmc_phone_href(self) -> str:
        return tel_href(self.hmc_phone)

    @property
    def checks(self) -> tuple[str, ...]:
        return guide_for(self.category_code).checks

    @property
    def problems(self) -> tuple[tuple[str, str], ...]:
        return guide_for(self.category_code).problems


async def public_device(token: str) -> PublicDevice | None:
    """The device behind an active token; None for a malformed, unknown or replaced one alike."""
    if not looks_like_token(token):
        return None
    row = await db.fetchrow(
        """
        SELECT t.id AS token_id, d.id AS device_id, d.organisation, d.individnummer,
               k.code AS category_code, coalesce(k.name, 'Hjälpmedel') AS category_name,
               o.name AS hmc_name, o.phone AS hmc_phone
        FROM device_token t JOIN device d ON d.id = t.device JOIN article a ON a.id = d.article
        LEFT JOIN device_category k ON k.id = a.category JOIN organisation o ON o.id = d.organisation
        WHERE t.token = $1 AND t.replaced_at IS NULL
        """,
        token,
    )
    if row is None:
        return None
    return PublicDevice(row["token_id"], row["device_id"], row["organisation"], row["individnummer"],
                        row["category_code"], row["category_name"], row["hmc_name"], row["hmc_phone"])


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


def _photo_or_errors(photo_bytes: bytes | None, errors: list) -> Photo | None:
    if not photo_bytes:
        return None
    try:
        return clean_photo(photo_bytes)
    except PhotoRejected as exc:
        errors.append(("photo", exc.message))
        return None


def checked_answers(data: ReportInput, category_code: str | None, submission_key: str,
             photo_bytes: bytes | None, extra: list[tuple[str | None, str]] = ()) -> Photo | None:
    errors = check_report(data, category_code)
    if data.honeypot:
        raise ReportInvalid(errors)
    if not looks_like_token(submission_key):
        errors.insert(0, (None, "Formuläret var ofullständigt. Kontrollera uppgifterna och skicka igen."))
    errors.extend(extra)
    photo = _photo_or_errors(photo_bytes, errors)
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


async def report_fault(device: PublicDevice, data: ReportInput, *, submission_key: str,
                       photo_bytes: bytes | None = None) -> str:
    """Anyone with the sticker (`device`, from public_device) reports a fault; returns the
    private status token. A resend of the same form (same submission key) is the same
    report: its token is returned."""
    photo = checked_answers(data, device.category_code, submission_key, photo_bytes)
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
    row = await db.fetchrow(
        """
        SELECT r.number, r.status, r.received_at, r.handled_at, r.answer, r.work_order, r.channel,
               coalesce(k.name, 'Hjälpmedel') AS category_name, o.name AS hmc_name, o.phone AS hmc_phone
        FROM fault_report r JOIN device d ON d.id = r.device JOIN article a ON a.id = d.article
        LEFT JOIN device_category k ON k.id = a.category JOIN organisation o ON o.id = r.organisation
        WHERE r.status_token = $1
        """,
        status_token,
    )
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


async def example_report_link(origin: str) -> str | None:
    """A public fault-report link for one lent-out demo device (for `runda dev`)."""
    token = await db.fetchval(
        """
        SELECT t.token FROM device_token t JOIN device d ON d.id = t.device JOIN article a ON a.id = d.article
        JOIN device_category k ON k.id = a.category
        WHERE t.replaced_at IS NULL AND d.status = 'in_use' AND k.code = 'powered_wheelchair'
        ORDER BY d.id LIMIT 1
        """
    )
    return device_link(origin, token) if token else None
