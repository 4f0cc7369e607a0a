"""The device register: finding the organisation's devices (by individnummer, old labels
included, serial number, UDI or article, filtered), creating a device, keeping its fields and its
status, and replacing its label while it keeps its identity.

Every change is checked here (Swedish messages naming the field), written in one transaction with
its change-history row (backend/changes, register "device"), and refused where it would break
history: a device is never deleted (it is condemned, utdömd, instead). Loans are in loans.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

import asyncpg

from backend import db, workdays
from backend.accounts.service import Actor
from backend.audit.service import record_patient_reads
from backend.changes import service as changes
from backend.db import Sql, raw
from backend.devices import schedules
from backend.devices.service import DeviceNotFound, current_individnummer, normalise_individnummer, set_status
from backend.devices.tables import DEVICE_STATUS_LABELS, DeviceStatus
from backend.errors import DomainError, SeveralErrors
from backend.organisations import service as organisations
from backend.patients import service as patients

PAGE_SIZE = 50
REGISTER = "device"
HMC_OWNER = "hmc"  # the owner filter's and form's value for "owned by the HMC itself"
PLACEMENTS = {"forrad": "I förrådet", "utlanad": "Utlånade"}

# The HMC's label: letters and digits (A12345), as /enheter finds it.
_INDIVIDNUMMER = re.compile(r"[0-9A-ZÅÄÖ]{1,20}")
# A UDI as printed or scanned (GS1 "(01)07350012345678(21)ABC", HIBCC "+H123…", ICCBBA "=…"):
# printable ASCII, checked loosely; the manufacturer's format is not ours to parse.
_UDI = re.compile(r"[\x20-\x7e]{6,120}")
# What no search means (and PostgreSQL cannot hold): NUL and the other control characters.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

# The fields the history shows, in Swedish, and the stored values it turns into words.
HISTORY_LABELS = {
    "individnummer": "Individnummer", "article": "Artikel", "serial_number": "Serienummer", "udi": "UDI",
    "owner": "Ägare", "status": "Status", "in_service_date": "I bruk sedan",
    "expected_end_of_life": "Beräknad livslängd till", "on_loan": "Utlånad", "loan_from": "Lånet började",
    "loan_to": "Lånet slutade", "manufacturing_date": "Tillverkningsdatum", "lot_number": "Lot/batch",
}
HISTORY_VALUES = {
    "status": {s.value: label for s, label in DEVICE_STATUS_LABELS.items()},
    "on_loan": {True: "Ja", False: "Nej"},
}


class DeviceRegisterError(DomainError):
    """A change to the device register was refused; nothing was written."""


class DeviceRegisterErrors(SeveralErrors, DeviceRegisterError):
    """Several fields wrong at once: each field shows its own, the summary lists them all."""


class LabelMoved(Exception):
    """The individnummer asked for is a replaced label: the device is now `current`."""

    def __init__(self, current: str) -> None:
        super().__init__(current)
        self.current = current


def _raise_any(errors: list[tuple[str | None, str]]) -> None:
    if len(errors) == 1:
        raise DeviceRegisterError(errors[0][1], errors[0][0])
    if errors:
        raise DeviceRegisterErrors(errors)


# --- the rules of single fields ------------------------------------------------------------------


def check_individnummer(text: str, field: str = "individnummer") -> str:
    """The individnummer as stored (upper case, no spaces), or a refusal on `field`."""
    number = normalise_individnummer(text)
    if not number:
        raise DeviceRegisterError("Ange individnumret från hjälpmedlets etikett.", field)
    if not _INDIVIDNUMMER.fullmatch(number):
        raise DeviceRegisterError("Ett individnummer består av högst 20 bokstäver och siffror, till exempel A123456.",
                                  field)
    return number


def check_udi(text: str, field: str = "udi") -> str:
    """The UDI as given (surrounding spaces removed; '' when none), or a refusal on `field`."""
    udi = text.strip()
    if udi and not _UDI.fullmatch(udi):
        raise DeviceRegisterError("Skriv UDI som det står på märkningen: 6–120 tecken, utan å, ä och ö.", field)
    return udi


def text_problems(*, individnummer: str | None = None, serial_number: str = "", udi: str = "") -> list:
    """What is wrong with a device's typed fields, needing no look-up: (field, message) pairs. A
    form whose other fields could not be read shows these too, all at once."""
    problems = []
    if individnummer is not None:
        try:
            check_individnummer(individnummer)
        except DeviceRegisterError as exc:
            problems.append((exc.field, exc.message))
    if len(serial_number.strip()) > 60:
        problems.append(("serial_number", "Serienumret får vara högst 60 tecken."))
    try:
        check_udi(udi)
    except DeviceRegisterError as exc:
        problems.append((exc.field, exc.message))
    return problems


# Recalls name manufacturing dates; none of the HMC's devices was made before this.
EARLIEST_MANUFACTURING_DATE = date(1950, 1, 1)


def identity_problems(manufacturing_date: date | None, lot_number: str, in_service_date: date | None,
                      today: date) -> list:
    """What is wrong with a device's manufacturing date and lot number: (field, message) pairs."""
    problems = []
    if manufacturing_date is not None:
        if manufacturing_date > today:
            problems.append(("manufacturing_date", "Tillverkningsdatumet kan inte ligga i framtiden."))
        elif manufacturing_date < EARLIEST_MANUFACTURING_DATE:
            problems.append(("manufacturing_date", "Tillverkningsdatumet kan inte vara före 1950."))
        elif in_service_date is not None and manufacturing_date > in_service_date:
            problems.append(("manufacturing_date",
                             "Tillverkningsdatumet kan inte vara efter att hjälpmedlet togs i bruk."))
    lot = lot_number.strip()
    if len(lot) > 60:
        problems.append(("lot_number", "Lot/batch får vara högst 60 tecken."))
    elif _CONTROL.search(lot):
        problems.append(("lot_number", "Skriv lot/batch som det står på märkningen."))
    return problems


def default_end_of_life(in_service: date, life_years: int) -> date:
    """In service + the category's expected life (a 29 February lands on the 28th)."""
    try:
        return in_service.replace(year=in_service.year + life_years)
    except ValueError:
        return in_service.replace(year=in_service.year + life_years, day=28)


@dataclass(frozen=True)
class DeviceFields:
    """What the register keeps about a device besides its label, status and holder."""

    article: int | None
    serial_number: str = ""
    udi: str = ""
    owner: int | None = None  # None: owned by the HMC itself
    in_service_date: date | None = None
    expected_end_of_life: date | None = None  # None: in service + the category's expected life
    manufacturing_date: date | None = None  # None: not known
    lot_number: str = ""  # the manufacturer's lot/batch; '' where unknown


async def _checked(organisation_id: int, fields: DeviceFields, *, keeping_article: int | None = None,
                   keeping_owner: int | None = None) -> tuple[DeviceFields, dict]:
    """The fields as they will be stored (end of life filled in), and the article's category
    facts; every wrong field refused at once. An article or owner that has since been
    deactivated may be kept (`keeping_…`), not newly chosen."""
    errors: list[tuple[str | None, str]] = []
    article = None
    if fields.article is None:
        errors.append(("article", "Välj artikel."))
    else:
        article = await db.fetchrow(Sql(
            """
            SELECT a.id, a.active, coalesce(a.expected_life_years, k.expected_life_years) AS life_years,
                   :fu_interval AS fu_interval_days
            FROM article a JOIN device_category k ON k.id = a.category
            WHERE a.id = :article AND a.organisation = :org
            """,
            # A new device has no schedules of its own yet: its article's or its category's apply.
            fu_interval=schedules.fu_interval_sql(raw("NULL::int"), raw("a.id"), raw("a.category")),
            article=fields.article, org=organisation_id))
        if article is None or not (article["active"] or article["id"] == keeping_article):
            errors.append(("article", "Välj en artikel ur sortimentet."))
    errors.extend(text_problems(serial_number=fields.serial_number, udi=fields.udi))
    errors.extend(identity_problems(fields.manufacturing_date, fields.lot_number, fields.in_service_date,
                                    workdays.today()))
    serial, udi = fields.serial_number.strip(), fields.udi.strip()
    if fields.owner is not None and fields.owner != keeping_owner:
        owners = {o["id"] for o in await organisations.cost_bearer_choices(organisation_id)}
        if fields.owner not in owners:
            errors.append(("owner", "Välj ägare: en kostnadsbärare eller hjälpmedelscentralen."))
    if fields.in_service_date is None:
        errors.append(("in_service_date", "Ange när hjälpmedlet togs i bruk."))
    end = fields.expected_end_of_life
    if end is None and article is not None and fields.in_service_date is not None:
        end = default_end_of_life(fields.in_service_date, article["life_years"])
    if end is not None and fields.in_service_date is not None and end < fields.in_service_date:
        errors.append(("expected_end_of_life", "Livslängden kan inte ta slut innan hjälpmedlet togs i bruk."))
    _raise_any(errors)
    return (DeviceFields(fields.article, serial, udi, fields.owner, fields.in_service_date, end,
                         fields.manufacturing_date, fields.lot_number.strip()),
            {"fu_interval_days": article["fu_interval_days"]})


# --- reading -------------------------------------------------------------------------------------


async def _snapshot(device_id: int, *, lock: bool = False) -> dict | None:
    """The device's register fields as its history shows them (the article and owner by name)."""
    row = await db.fetchrow(Sql(
        """
        SELECT d.individnummer, a.article_number || ' ' || a.name AS article, d.serial_number, d.udi,
               coalesce(:owner_name, 'Hjälpmedelscentralen') AS owner, d.status, d.in_service_date,
               d.expected_end_of_life, d.holder IS NOT NULL AS on_loan, d.manufacturing_date, d.lot_number
        FROM device d JOIN article a ON a.id = d.article WHERE d.id = :device
        """ + (" FOR UPDATE OF d" if lock else ""),
        owner_name=organisations.cost_bearer_name(raw("d.owner")), device=device_id))
    return dict(row) if row else None


async def _record(actor: Actor, device_id: int, action: str, before: dict | None, after: dict | None) -> None:
    await changes.record(actor.organisation, REGISTER, device_id, action, actor=actor.id, actor_name=actor.name,
                         before=before, after=after)


async def device_id(organisation_id: int, individnummer: str) -> int:
    """The id of the organisation's device with this (current) individnummer."""
    number = normalise_individnummer(individnummer)
    if not _INDIVIDNUMMER.fullmatch(number):
        raise DeviceNotFound()
    found = await db.fetchval("SELECT id FROM device WHERE organisation = $1 AND individnummer = $2",
                              organisation_id, number)
    if found is None:
        raise DeviceNotFound()
    return found


async def device_number(organisation_id: int, device_id: int) -> str:
    """The device's individnummer now (after a label replacement, the new one)."""
    found = await db.fetchval("SELECT individnummer FROM device WHERE id = $1 AND organisation = $2",
                              device_id, organisation_id)
    if found is None:
        raise DeviceNotFound()
    return found


async def register_device(actor: Actor, individnummer: str) -> dict:
    """The device for its register page: its fields, article, category and owner, and its holder's
    name for those who may see the patient (an audited read). An old label raises LabelMoved."""
    number = normalise_individnummer(individnummer)
    if not _INDIVIDNUMMER.fullmatch(number):
        raise DeviceNotFound()
    row = await db.fetchrow(Sql(
        """
        SELECT d.id, d.individnummer, d.serial_number, d.udi, d.article, d.status, d.holder, d.owner,
               d.in_service_date, d.expected_end_of_life, d.last_fu_date, d.next_fu_date, d.created_at,
               d.manufacturing_date, d.lot_number, a.article_number, a.name AS article_name, a.manufacturer,
               a.category AS category_id,
               k.name AS category_name, k.iso_code, :fu_interval AS fu_interval_days,
               :owner_name AS owner_name, h.given_name AS holder_given_name, h.family_name AS holder_family_name
        FROM device d JOIN article a ON a.id = d.article LEFT JOIN device_category k ON k.id = a.category
        LEFT JOIN LATERAL (:holder) h ON true
        WHERE d.organisation = :org AND d.individnummer = :number
        """,
        owner_name=organisations.cost_bearer_name(raw("d.owner")),
        fu_interval=schedules.fu_interval_sql(raw("d.id"), raw("d.article"), raw("a.category")),
        holder=patients.visible_names(actor, raw("d.holder")), org=actor.organisation, number=number))
    if row is None:
        current = await current_individnummer(actor.organisation, number)
        if current is None:
            raise DeviceNotFound()
        raise LabelMoved(current)
    device = dict(row)
    if device["holder_given_name"] is not None:
        await record_patient_reads(actor, [device["holder"]], "device_register")
    device["status_label"] = DEVICE_STATUS_LABELS[DeviceStatus(device["status"])]
    return device


async def old_labels(device_id: int) -> list[dict]:
    """The labels the device had before, newest replacement first."""
    rows = await db.fetch("SELECT individnummer, replaced_at FROM device_label WHERE device = $1 "
                          "ORDER BY replaced_at DESC, id DESC", device_id)
    return [dict(r) for r in rows]


async def history(organisation_id: int, device_id: int) -> list[changes.Change]:
    return await changes.history(organisation_id, REGISTER, device_id)


async def article_choices(organisation_id: int, including: int | None = None, *, inactive: bool = False) -> list[dict]:
    """The articles a device may be of (those with a device category): the active ones, and the one
    `including` names even if it has been deactivated; with `inactive`, every one (the list's
    filter finds the devices of an article no longer offered)."""
    rows = await db.fetch(
        """
        SELECT a.id, a.article_number, a.name, a.active, k.name AS category_name FROM article a
        JOIN device_category k ON k.id = a.category
        WHERE a.organisation = $1 AND (a.active OR a.id = $2 OR $3)
        ORDER BY k.name, a.name, a.article_number
        """,
        organisation_id, including, inactive)
    return [dict(r) for r in rows]


async def category_choices(organisation_id: int) -> list[dict]:
    rows = await db.fetch("SELECT id, name FROM device_category WHERE organisation = $1 ORDER BY name",
                          organisation_id)
    return [dict(r) for r in rows]


async def owner_choices(organisation_id: int, including: int | None = None) -> list[dict]:
    """The cost bearers a device may belong to (the HMC itself is the form's own choice)."""
    return await organisations.cost_bearer_choices(organisation_id, including)


# --- the list --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeviceFilter:
    search: str = ""
    status: str | None = None
    category: int | None = None
    article: int | None = None
    owner: str | None = None  # HMC_OWNER or a cost bearer's id as text
    placement: str | None = None  # a key of PLACEMENTS

    def cleaned(self) -> "DeviceFilter":
        """The filter with anything that names no choice left out (a hand-edited address)."""
        owner = self.owner or ""
        if owner != HMC_OWNER and not (owner.isascii() and owner.isdigit() and int(owner) <= 2**31 - 1):
            owner = None
        return DeviceFilter(
            search=" ".join(_CONTROL.sub("", self.search).split())[:100],
            status=self.status if self.status in {s.value for s in DeviceStatus} else None,
            category=self.category, article=self.article, owner=owner,
            placement=self.placement if self.placement in PLACEMENTS else None)


def _prefix(text: str) -> str:
    """`text` as a LIKE pattern for what starts with it, its own % and _ taken literally."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _search(organisation_id: int, search: str) -> Sql:
    """The condition on device `d` that a search text finds it: the start of its individnummer, an
    old label, the start of its serial number or UDI (as typed or scanned), its article number or
    words of its article's name. The ids are gathered into an array by index look-ups first, so
    that the devices are read by id rather than all of them scanned."""
    if not search:
        return Sql("TRUE")
    upper = search.upper()
    return Sql(
        """
        d.id = ANY(ARRAY(
            SELECT id FROM device WHERE organisation = :org AND individnummer LIKE :number
            UNION SELECT device FROM device_label WHERE organisation = :org AND individnummer = :exact
            UNION SELECT id FROM device WHERE organisation = :org AND serial_number <> ''
                                          AND upper(serial_number) LIKE :upper
            UNION SELECT id FROM device WHERE organisation = :org AND udi <> '' AND upper(udi) LIKE :upper
            UNION SELECT id FROM device WHERE article = ANY(ARRAY(
                SELECT id FROM article WHERE organisation = :org AND (article_number = :typed OR name ILIKE :words)))))
        """,
        org=organisation_id, number=_prefix(normalise_individnummer(search)), exact=normalise_individnummer(search),
        upper=_prefix(upper), typed=search, words="%" + _prefix(search))


async def find_devices(actor: Actor, wanted: DeviceFilter, page: int = 1) -> tuple[list[dict], bool]:
    """One page of the organisation's devices by individnummer, and whether more follow. The
    holder's name shows only to those who may see the patient, and each shown is an audited read."""
    wanted = wanted.cleaned()
    owner = None if wanted.owner in (None, HMC_OWNER) else int(wanted.owner)
    rows = await db.fetch(Sql(
        """
        SELECT l.*, :owner_name AS owner_name, h.given_name AS holder_given_name,
               h.family_name AS holder_family_name
        FROM (SELECT d.id, d.individnummer, d.serial_number, d.udi, d.status, d.holder, d.owner, d.next_fu_date,
                     a.article_number, a.name AS article_name, k.name AS category_name
              FROM device d JOIN article a ON a.id = d.article LEFT JOIN device_category k ON k.id = a.category
              WHERE d.organisation = :org AND :search
                AND (:status::text IS NULL OR d.status = :status)
                AND (:category::int IS NULL OR a.category = :category)
                AND (:article::int IS NULL OR d.article = :article)
                AND (NOT :hmc_owned OR d.owner IS NULL) AND (:owner::int IS NULL OR d.owner = :owner)
                AND (:placement::text IS NULL OR (d.holder IS NULL) = (:placement = 'forrad'))
              ORDER BY d.individnummer LIMIT :limit OFFSET :offset) l
        LEFT JOIN LATERAL (:holder) h ON true
        ORDER BY l.individnummer
        """,
        owner_name=organisations.cost_bearer_name(raw("l.owner")),
        holder=patients.visible_names(actor, raw("l.holder")),
        org=actor.organisation, search=_search(actor.organisation, wanted.search), status=wanted.status,
        category=wanted.category, article=wanted.article, hmc_owned=wanted.owner == HMC_OWNER, owner=owner,
        placement=wanted.placement, limit=PAGE_SIZE + 1, offset=(max(page, 1) - 1) * PAGE_SIZE))
    found = []
    for row in rows[:PAGE_SIZE]:
        device = dict(row)
        device["status_label"] = DEVICE_STATUS_LABELS[DeviceStatus(device["status"])]
        found.append(device)
    await record_patient_reads(actor, [d["holder"] for d in found if d["holder_given_name"] is not None],
                               "device_register")
    return found, len(rows) > PAGE_SIZE


# --- changing ------------------------------------------------------------------------------------


async def _number_taken(organisation_id: int, number: str, other_than: int | None = None) -> bool:
    """Whether another device has this individnummer now, or had it before (an old label still
    leads to its device, so it is never given to another)."""
    return bool(await db.fetchval(
        """
        SELECT 1 FROM device WHERE organisation = $1 AND individnummer = $2 AND id IS DISTINCT FROM $3
        UNION ALL SELECT 1 FROM device_label WHERE organisation = $1 AND individnummer = $2
                                              AND device IS DISTINCT FROM $3
        LIMIT 1
        """,
        organisation_id, number, other_than))


def _taken(number: str, field: str) -> DeviceRegisterError:
    return DeviceRegisterError(f"Individnumret {number} finns redan, eller har funnits, på ett annat hjälpmedel.",
                               field)


async def create_device(actor: Actor, individnummer: str, fields: DeviceFields,
                        status: str = DeviceStatus.in_depot.value) -> int:
    """A new device in the HMC's depot (or repair, reconditioning…): it is not lent to anyone
    yet, so it cannot be "in use" (lend it for that). Its first FU is due one interval after it
    went into service, when its category has FU."""
    errors: list[tuple[str | None, str]] = []
    number = None
    try:
        number = check_individnummer(individnummer)
    except DeviceRegisterError as exc:
        errors.append((exc.field, exc.message))
    if status not in {s.value for s in DeviceStatus}:
        errors.append(("status", "Välj status."))
    elif status == DeviceStatus.in_use.value:
        errors.append(("status", "Ett nytt hjälpmedel är inte utlånat än: låna ut det för att sätta det i bruk."))
    try:
        fields, category = await _checked(actor.organisation, fields)
    except DeviceRegisterError as exc:
        errors.extend(exc.errors)
    _raise_any(errors)
    async with db.transaction():
        # One new number at a time per organisation, so two people cannot give the same one.
        await db.execute("SELECT pg_advisory_xact_lock(hashtext('device_label'), $1)", actor.organisation)
        if await _number_taken(actor.organisation, number):
            raise _taken(number, "individnummer")
        interval = category["fu_interval_days"]
        try:
            new_id = await db.fetchval(
                """
                INSERT INTO device (organisation, individnummer, serial_number, udi, article, status, owner,
                                    in_service_date, expected_end_of_life, next_fu_date, manufacturing_date,
                                    lot_number)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $8::date + $10::int, $11, $12)
                RETURNING id
                """,
                actor.organisation, number, fields.serial_number, fields.udi, fields.article, status, fields.owner,
                fields.in_service_date, fields.expected_end_of_life, interval, fields.manufacturing_date,
                fields.lot_number)
        except asyncpg.UniqueViolationError:
            raise _taken(number, "individnummer") from None
        await _record(actor, new_id, "created", None, await _snapshot(new_id))
    return new_id


async def update_device(actor: Actor, device_id: int, fields: DeviceFields) -> bool:
    """Change the device's article, serial number, UDI, owner and dates; False when nothing changed."""
    current = await db.fetchrow("SELECT article, owner FROM device WHERE id = $1 AND organisation = $2",
                                device_id, actor.organisation)
    if current is None:
        raise DeviceNotFound()
    fields, _ = await _checked(actor.organisation, fields, keeping_article=current["article"],
                               keeping_owner=current["owner"])
    async with db.transaction():
        before = await _snapshot(device_id, lock=True)
        await db.execute(
            """
            UPDATE device SET article = $2, serial_number = $3, udi = $4, owner = $5, in_service_date = $6,
                              expected_end_of_life = $7, manufacturing_date = $8, lot_number = $9
            WHERE id = $1
            """,
            device_id, fields.article, fields.serial_number, fields.udi, fields.owner, fields.in_service_date,
            fields.expected_end_of_life, fields.manufacturing_date, fields.lot_number)
        return await changes.record(actor.organisation, REGISTER, device_id, "changed", actor=actor.id,
                                    actor_name=actor.name, before=before, after=await _snapshot(device_id))


async def change_status(actor: Actor, device_id: int, status: str) -> bool:
    """Set the device's status (devices.service.set_status). A lent device's status says how it is
    with the patient (in use, in repair, out of use, condemned); it comes back to the depot or to
    reconditioning by its return (loans.end_loan), and only a loan puts a device in use."""
    if status not in {s.value for s in DeviceStatus}:
        raise DeviceRegisterError("Välj status.", "status")
    async with db.transaction():
        row = await db.fetchrow("SELECT holder FROM device WHERE id = $1 AND organisation = $2 FOR UPDATE",
                                device_id, actor.organisation)
        if row is None:
            raise DeviceNotFound()
        lent = row["holder"] is not None
        if status == DeviceStatus.in_use.value and not lent:
            raise DeviceRegisterError("Hjälpmedlet är inte utlånat: låna ut det för att sätta det i bruk.", "status")
        if status in (DeviceStatus.in_depot.value, DeviceStatus.reconditioning.value) and lent:
            raise DeviceRegisterError("Hjälpmedlet är utlånat: registrera återlämningen, så hamnar det i förrådet "
                                      "eller på rekonditionering.", "status")
        before = await _snapshot(device_id)
        await set_status(device_id, status)
        return await changes.record(actor.organisation, REGISTER, device_id, "changed", actor=actor.id,
                                    actor_name=actor.name, before={"status": before["status"]},
                                    after={"status": status})


async def condemn(actor: Actor, device_id: int) -> bool:
    """Utdöma: the register's answer to deleting a device, which its history forbids."""
    return await change_status(actor, device_id, DeviceStatus.condemned.value)


async def replace_label(actor: Actor, device_id: int, new_individnummer: str) -> str:
    """Give the device a new individnummer when its label is replaced. The device keeps its id, its
    loans, orders, FU and history; the old number is kept as a replaced label, so it still finds
    the device and is never given to another. Returns the new number."""
    number = check_individnummer(new_individnummer, "new_individnummer")
    async with db.transaction():
        await db.execute("SELECT pg_advisory_xact_lock(hashtext('device_label'), $1)", actor.organisation)
        old = await db.fetchval("SELECT individnummer FROM device WHERE id = $1 AND organisation = $2 FOR UPDATE",
                                device_id, actor.organisation)
        if old is None:
            raise DeviceNotFound()
        if number == old:
            raise DeviceRegisterError("Det är hjälpmedlets nuvarande individnummer. Ange det nya numret.",
                                      "new_individnummer")
        if await _number_taken(actor.organisation, number, device_id):
            raise _taken(number, "new_individnummer")
        # A label of its own from before comes back into use: it is no longer an old one.
        await db.execute("DELETE FROM device_label WHERE device = $1 AND individnummer = $2", device_id, number)
        await db.execute("INSERT INTO device_label (organisation, device, individnummer) VALUES ($1, $2, $3)",
                         actor.organisation, device_id, old)
        await db.execute("UPDATE device SET individnummer = $2 WHERE id = $1", device_id, number)
        await _record(actor, device_id, "replaced", {"individnummer": old}, {"individnummer": number})
    return number
