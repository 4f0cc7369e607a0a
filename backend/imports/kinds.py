"""The four kinds of file an HMC brings in from its business system, their columns, and the rules
that turn one line into a row of the owning register (or refuse it, in Swedish, by line).

A column is found by its Swedish name, as webSesam/SESAM and Runda's own export write it, or one
of the names other exports use for it (case and spaces aside). A column the file lacks is not
touched on rows that exist; a cell that cannot be read refuses its line, never the file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from stdnum.exceptions import ValidationError
from stdnum.se import personnummer as stdnum_personnummer

from backend.devices.bulk import ArticleRow, DeviceRow
from backend.devices.catalogue import CatalogueError, normalise_iso_code
from backend.devices.register import DeviceRegisterError, check_individnummer, check_udi, identity_problems
from backend.devices.tables import DEVICE_STATUS_LABELS, DeviceStatus
from backend.errors import DomainError
from backend.forms import EARLIEST_DATE, LATEST_DATE
from backend.imports.csvfile import FileRefused, Sheet, has_control_characters, normalise_header
from backend.patients import service as patients
from backend.patients.bulk import PatientRow
from backend.workdays import today


@dataclass(frozen=True)
class Column:
    key: str
    title: str  # the name Runda writes in the header
    required: bool = False
    aliases: tuple[str, ...] = ()  # other names exports use
    means: str = ""  # what it holds (English, for the README)


@dataclass(frozen=True)
class Kind:
    key: str  # articles | devices | patients | loans
    label: str  # Swedish, for the page
    what: str  # "… en fil med {what}"
    file_name: str  # the example file's name
    columns: tuple[Column, ...]
    natural_key: str  # the column that identifies a row

    @property
    def aliases(self) -> dict[str, str]:
        names = {}
        for column in self.columns:
            for name in (column.title, *column.aliases):
                names[normalise_header(name)] = column.key
        return names

    @property
    def titles(self) -> dict[str, str]:
        return {c.key: c.title for c in self.columns}

    @property
    def required(self) -> list[str]:
        return [c.key for c in self.columns if c.required]

    @property
    def optional(self) -> list[str]:
        return [c.key for c in self.columns if not c.required]


_DATE_HINT = "ÅÅÅÅ-MM-DD, till exempel 2026-03-01"
_DATE = re.compile(r"(\d{4}-\d{2}-\d{2})(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?")
_NUMBER = re.compile(r"[+-]?\d{1,10}(?:[,.]\d{1,12})?")
_SPACES = re.compile(r"\s\s|[^\S ]")  # two spaces, or a space that is not a plain one

ARTICLES = Kind("articles", "Artiklar", "artiklar", "artiklar.csv", (
    Column("article_number", "Artikelnummer", True, ("artikelnr", "art.nr", "artnr", "artikel"),
           "the article number (natural key), at most 30 characters"),
    Column("name", "Benämning", True, ("artikelbenämning", "namn", "artikelnamn"),
           "the article's name, at most 200 characters"),
    Column("manufacturer", "Tillverkare", False, ("fabrikat", "leverantör"), "at most 100 characters"),
    Column("iso_code", "ISO-kod", False, ("iso", "iso 9999", "isokod", "iso-klass", "iso-kod (9999)"),
           "ISO 9999 code (`12 23 06` or `122306`): the category with that code, or the longest code above it "
           "(`12 36` for `12 36 21`); empty: a spare part (no category)"),
), "article_number")

DEVICES = Kind("devices", "Hjälpmedel", "hjälpmedel", "hjalpmedel.csv", (
    Column("individnummer", "Individnummer", True, ("individnr", "indnr", "individ", "id-nummer"),
           "the HMC's label (natural key), letters and digits, at most 20"),
    Column("article_number", "Artikelnummer", True, ("artikelnr", "art.nr", "artnr"),
           "an article already in Runda (import articles first)"),
    Column("serial_number", "Serienummer", False, ("serienr", "tillverkningsnummer"), "at most 60 characters"),
    Column("udi", "UDI", False, ("udi-di", "udi-kod"), "as printed, 6–120 characters; empty: none"),
    Column("owner", "Ägare", False, ("betalare", "kostnadsbärare", "ägarkod", "kundnummer"),
           "the owning cost bearer's code (or name); empty: the HMC itself"),
    Column("status", "Status", False, ("hjälpmedelsstatus",),
           "I bruk, I förråd, Ur bruk, På reparation, Rekonditioneras or Utdömd (also: Utlånad, I lager, "
           "Kasserad); empty: kept (a new device: I förråd)"),
    Column("in_service_date", "I bruk sedan", True, ("i bruk från", "driftsatt", "driftsättningsdatum",
                                                     "inköpsdatum"), "date the device went into service"),
    Column("expected_end_of_life", "Livslängd till", False, ("beräknad livslängd till", "utrangeras"),
           "date; empty: kept (a new device: in service + the article's or category's expected life)"),
    Column("last_fu_date", "Senaste FU", False, ("senaste fu-datum", "fu senast", "senast fu"),
           "date of the last preventive maintenance; empty: none"),
    Column("fu_interval_days", "FU-intervall (dagar)", False, ("fu-intervall", "fu intervall", "intervall (dagar)",
                                                               "fu-intervall dagar"),
           "days between FU, 1–3650 (the device's \"fu\" schedule: an override of the inherited interval "
           "when it differs, a schedule of its own when it inherits none); empty: schedules untouched"),
    Column("next_fu_date", "Nästa FU", False, ("nästa fu-datum", "fu nästa"),
           "date; empty: the last FU (or the day in service) + the interval, none for a condemned device"),
    Column("manufacturing_date", "Tillverkningsdatum", False, ("tillverkad", "tillverkningsdag", "produktionsdatum"),
           "date the manufacturer made it, 1950 or later and not after it went into service; empty: none"),
    Column("lot_number", "Lotnummer", False, ("lot", "batch", "lot/batch", "batchnummer", "lotnr"),
           "the manufacturer's lot or batch, at most 60 characters; empty: none"),
), "individnummer")

PATIENTS = Kind("patients", "Patienter", "patienter", "patienter.csv", (
    Column("personal_number", "Personnummer", True, ("pnr", "person-nr", "personnr"),
           "personnummer (natural key), 10 or 12 digits with or without `-`/`+`, checked with python-stdnum"),
    Column("given_name", "Förnamn", True, (), "at most 100 characters"),
    Column("family_name", "Efternamn", True, (), "at most 100 characters"),
    Column("protected_identity", "Skyddad identitet", False, ("skyddade personuppgifter", "sekretessmarkering",
                                                              "skyddad"),
           "Ja/Nej (also J/N, 1/0, X); the address then never shows in lists, routes or labels"),
    Column("street", "Adress", False, ("gatuadress", "utdelningsadress"), "at most 200 characters"),
    Column("postal_code", "Postnummer", False, ("postnr",), "five digits, `722 10` or `72210`"),
    Column("city", "Ort", False, ("postort",), "at most 100 characters"),
    Column("cost_bearer", "Kommunkod", True, ("kommun", "hemkommun", "kostnadsbärare", "betalare"),
           "the home municipality's (or the region's unit's) cost-bearer code, or its name"),
    Column("care_unit", "Vårdenhet", True, ("förskrivarenhet", "enhet"), "the responsible care unit's name"),
    Column("phone", "Telefon", False, ("telefonnummer", "mobil", "mobilnummer"), "at most 40 characters"),
    Column("door_code", "Portkod", False, (), "at most 40 characters"),
    Column("access_notes", "Tillträde", False, ("hitta hit", "anteckning"), "how to get in, at most 2000 characters"),
    Column("latitude", "Latitud", False, ("lat",), "decimal degrees, decimal comma or point; with Longitud"),
    Column("longitude", "Longitud", False, ("long", "lon", "lng"), "decimal degrees; with Latitud"),
    Column("notice_channel", "Avisering", False, ("aviseringssätt", "avisering via", "aviseras med"),
           "how the patient is told of visits: Brev, SMS, E-post or Ingen (the cost bearer is contacted); "
           "empty: Brev for a new patient, unchanged for one already there"),
    Column("email", "E-post", False, ("epost", "e-postadress", "mejl", "mejladress", "email"),
           "for notices by e-mail, name@example.se"),
), "personal_number")

# How the Avisering column may name each channel (lower case), and how an export writes it.
NOTICE_CHANNEL_WORDS = {"brev": "letter", "sms": "sms", "e-post": "email", "epost": "email", "mejl": "email",
                        "email": "email", "ingen": "none", "ingen: kontakta kostnadsbäraren": "none"}
NOTICE_CHANNEL_TITLES = {"letter": "Brev", "sms": "SMS", "email": "E-post", "none": "Ingen"}

LOANS = Kind("loans", "Lån", "lån", "lan.csv", (
    Column("individnummer", "Individnummer", True, ("individnr", "indnr", "individ"),
           "the device (natural key: a device has one open loan)"),
    Column("personal_number", "Personnummer", True, ("pnr", "person-nr", "personnr"),
           "the patient holding it (import patients first)"),
    Column("from_date", "Utlånad sedan", True, ("lånedatum", "utlåningsdatum", "utlånad från", "från"),
           "date the loan began, not in the future"),
), "individnummer")

KINDS = {kind.key: kind for kind in (ARTICLES, DEVICES, PATIENTS, LOANS)}


class RowRefused(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Lookups:
    """The organisation's codes a line names, lower-cased: cost bearers by code and by name, care
    units by name."""

    cost_bearers: dict[str, int] = field(default_factory=dict)
    care_units: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class LoanLine:
    """A loan as read, before its patient is found by personnummer."""

    line: int
    individnummer: str
    personal_number: str
    from_date: date


@dataclass
class Parsed:
    rows: list = field(default_factory=list)
    refused: list[tuple[int, str]] = field(default_factory=list)
    given: frozenset[str] = frozenset()  # the optional columns the file has


class Cells:
    """One line's fields by column key, read with the line's Swedish refusals."""

    def __init__(self, kind: Kind, sheet: Sheet, fields: list[str]) -> None:
        self.kind, self.sheet, self.fields = kind, sheet, fields

    def raw(self, key: str) -> str | None:
        """The field as text, spaces trimmed and runs of them (tabs, line breaks, no-break spaces) one;
        None when the file has no such column."""
        index = self.sheet.columns.get(key)
        if index is None:
            return None
        value = self.fields[index] if index < len(self.fields) else ""
        if self.sheet.has_control and has_control_characters(value):
            raise RowRefused(f"{self.title(key)} innehåller tecken som inte kan sparas.")
        value = value.strip()
        if _SPACES.search(value):
            value = " ".join(value.replace("\xa0", " ").split())
        return value

    def title(self, key: str) -> str:
        return self.kind.titles[key]

    def text(self, key: str, limit: int) -> str:
        value = self.raw(key) or ""
        if not value and key in self.kind.required:
            raise RowRefused(f"{self.title(key)} saknas.")
        if len(value) > limit:
            raise RowRefused(f"{self.title(key)} får vara högst {limit} tecken.")
        return value

    def date(self, key: str) -> date | None:
        value = self.raw(key) or ""
        if not value:
            if key in self.kind.required:
                raise RowRefused(f"{self.title(key)} saknas ({_DATE_HINT}).")
            return None
        match = _DATE.fullmatch(value)
        try:
            parsed = date.fromisoformat(match.group(1)) if match else None
        except ValueError:
            raise RowRefused(f"{self.title(key)}: datumet {value[:20]} finns inte.") from None
        if parsed is None:
            raise RowRefused(f"{self.title(key)}: skriv datumet som {_DATE_HINT}, inte {value[:20]}.")
        if not EARLIEST_DATE <= parsed <= LATEST_DATE:
            raise RowRefused(f"{self.title(key)}: datumet ska vara mellan {EARLIEST_DATE.year} och {LATEST_DATE.year}.")
        return parsed

    def number(self, key: str) -> float | None:
        """A decimal number as Swedish files write it: comma (or point) for decimals, spaces allowed."""
        value = (self.raw(key) or "").replace(" ", "").replace("\u202f", "")
        if not value:
            return None
        if not _NUMBER.fullmatch(value):
            raise RowRefused(f"{self.title(key)}: {value[:20]} är inte ett tal (skriv till exempel 59,6099).")
        return float(value.replace(",", "."))

    def boolean(self, key: str) -> bool:
        value = (self.raw(key) or "").lower()
        if value in ("", "nej", "n", "0", "falskt", "false", "f", "-"):
            return False
        if value in ("ja", "j", "1", "x", "sant", "true", "s"):
            return True
        raise RowRefused(f"{self.title(key)}: skriv Ja eller Nej, inte {value[:20]}.")


def _code(lookup: dict[str, int], value: str) -> int | None:
    return lookup.get(value.lower())


_STATUS = {
    **{label.lower(): status.value for status, label in DEVICE_STATUS_LABELS.items()},
    **{status.value: status.value for status in DeviceStatus},
    "utlånad": "in_use", "i lager": "in_depot", "lager": "in_depot", "förråd": "in_depot",
    "avställd": "out_of_use", "reparation": "in_repair", "rekonditionering": "reconditioning",
    "rekond": "reconditioning", "kasserad": "condemned", "skrotad": "condemned",
}
_HMC = ("hmc", "hjälpmedelscentralen", "hjälpmedelscentrum")


def personnummer(value: str, title: str = "Personnummer") -> tuple[str, date, str]:
    """(YYYYMMDD-NNNN, birth date, sex F or M) of a personnummer as written, or a refusal
    (which never repeats the number: refusals are shown on a page)."""
    if not value:
        raise RowRefused(f"{title} saknas.")
    try:
        compact = stdnum_personnummer.validate(value)
        born = stdnum_personnummer.get_birth_date(compact)
        sex = "F" if stdnum_personnummer.get_gender(compact) == "F" else "M"
    except ValidationError:
        raise RowRefused(f"{title} är inte ett giltigt personnummer (fel längd, datum eller kontrollsiffra).") \
            from None
    digits = re.sub(r"\D", "", compact)
    if born > date.today():
        raise RowRefused(f"{title} har ett födelsedatum i framtiden.")
    return f"{born:%Y%m%d}-{digits[-4:]}", born, sex


def parse(kind: Kind, sheet: Sheet, lookups: Lookups) -> Parsed:
    """Every line of the file read into the owning register's row, or refused with its reason; a
    natural key the file has already named refuses the later line."""
    reader = {"articles": _article, "devices": _device, "patients": _patient, "loans": _loan}[kind.key]
    given = frozenset(key for key in kind.optional if key in sheet.columns)
    if kind is PATIENTS and len({"latitude", "longitude"} & given) == 1:
        raise FileRefused("Filen har bara en av kolumnerna Latitud och Longitud: ta med båda eller ingen.")
    parsed = Parsed(given=given)
    seen: dict[str, int] = {}
    for line, fields in sheet.records:
        try:
            if len(fields) > sheet.width and any(f.strip() for f in fields[sheet.width:]):
                raise RowRefused(f"Raden har fler fält ({len(fields)}) än rubrikraden ({sheet.width}). "
                                 "Kontrollera avgränsare och citattecken.")
            row = reader(Cells(kind, sheet, fields), line, lookups)
        except RowRefused as refusal:
            parsed.refused.append((line, refusal.message))
            continue
        key = getattr(row, kind.natural_key)
        if key in seen:
            parsed.refused.append((line, f"Samma {kind.titles[kind.natural_key].lower()} finns redan på rad "
                                         f"{seen[key]} i filen."))
            continue
        seen[key] = line
        parsed.rows.append(row)
    return parsed


def _article(cells: Cells, line: int, lookups: Lookups) -> ArticleRow:
    number = cells.text("article_number", 30)
    name = cells.text("name", 200)
    manufacturer = cells.text("manufacturer", 100)
    iso = cells.raw("iso_code") or ""
    if iso:
        try:
            iso = normalise_iso_code(iso)
        except CatalogueError:
            raise RowRefused(f"ISO-kod: skriv koden som två, fyra eller sex siffror, till exempel 12 23 06, "
                             f"inte {iso[:20]}.") from None
    return ArticleRow(line, number, name, manufacturer, iso)


def _individnummer(cells: Cells) -> str:
    value = cells.raw("individnummer") or ""
    try:
        return check_individnummer(value)
    except DeviceRegisterError as exc:
        raise RowRefused(f"Individnummer: {exc.message}") from None


def _device(cells: Cells, line: int, lookups: Lookups) -> DeviceRow:
    number = _individnummer(cells)
    article = cells.text("article_number", 30)
    serial = cells.text("serial_number", 60)
    try:
        udi = check_udi(cells.raw("udi") or "")
    except DeviceRegisterError as exc:
        raise RowRefused(f"UDI: {exc.message}") from None
    owner_text = cells.raw("owner") or ""
    owner = None
    if owner_text and owner_text.lower() not in _HMC:
        owner = _code(lookups.cost_bearers, owner_text)
        if owner is None:
            raise RowRefused(f"Ägare: det finns ingen aktiv kostnadsbärare med koden eller namnet {owner_text[:60]}.")
    status_text = (cells.raw("status") or "").lower()
    status = _STATUS.get(status_text) if status_text else None
    if status_text and status is None:
        raise RowRefused(f"Status: {status_text[:30]} är ingen status Runda känner "
                         f"({', '.join(DEVICE_STATUS_LABELS.values())}).")
    in_service = cells.date("in_service_date")
    end = cells.date("expected_end_of_life")
    last_fu = cells.date("last_fu_date")
    try:
        interval = cells.number("fu_interval_days")
    except RowRefused:
        interval = -1.0
    if interval is not None and (interval != int(interval) or not 1 <= interval <= 3650):
        raise RowRefused("FU-intervall (dagar): skriv ett helt antal dagar, 1–3650.")
    made = cells.date("manufacturing_date")
    problems = identity_problems(made, "", in_service, today())
    if problems:
        raise RowRefused(f"{cells.title('manufacturing_date')}: {problems[0][1]}")
    lot = cells.text("lot_number", 60)
    return DeviceRow(line, number, article, serial, udi, owner, status, in_service, end, last_fu,
                     None if interval is None else int(interval), cells.date("next_fu_date"),
                     manufacturing_date=made, lot_number=lot)


def _patient(cells: Cells, line: int, lookups: Lookups) -> PatientRow:
    number, born, sex = personnummer(cells.raw("personal_number") or "")
    given = cells.text("given_name", 100)
    family = cells.text("family_name", 100)
    postal = (cells.raw("postal_code") or "").replace(" ", "")
    if postal and not re.fullmatch(r"\d{5}", postal):
        raise RowRefused("Postnummer: skriv fem siffror, till exempel 722 10.")
    bearer_text = cells.text("cost_bearer", 200)
    bearer = _code(lookups.cost_bearers, bearer_text)
    if bearer is None:
        raise RowRefused(f"Kommunkod: det finns ingen aktiv kostnadsbärare med koden eller namnet {bearer_text[:60]}.")
    unit_text = cells.text("care_unit", 200)
    unit = _code(lookups.care_units, unit_text)
    if unit is None:
        raise RowRefused(f"Vårdenhet: det finns ingen aktiv vårdenhet som heter {unit_text[:60]}.")
    latitude, longitude = cells.number("latitude"), cells.number("longitude")
    if (latitude is None) != (longitude is None):
        raise RowRefused("Ange både latitud och longitud, eller ingen av dem.")
    if latitude is not None and not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise RowRefused("Latitud och longitud ska vara grader, till exempel 59,6099 och 16,5448.")
    channel_text = (cells.raw("notice_channel") or "").lower()
    channel = NOTICE_CHANNEL_WORDS.get(channel_text) if channel_text else None
    if channel_text and channel is None:
        raise RowRefused(f"Avisering: skriv Brev, SMS, E-post eller Ingen, inte {channel_text[:20]}.")
    email = cells.text("email", 200)
    try:
        patients.check_notice_preference(channel, email)
    except DomainError as exc:
        raise RowRefused(f"{cells.title('email' if exc.field == 'email' else 'notice_channel')}: {exc.message}") from None
    return PatientRow(
        line, number, given, family, born.year, sex, unit, bearer,
        street=cells.text("street", 200), postal_code=f"{postal[:3]} {postal[3:]}" if postal else "",
        city=cells.text("city", 100), phone=cells.text("phone", 40), door_code=cells.text("door_code", 40),
        access_notes=cells.text("access_notes", 2000), protected_identity=cells.boolean("protected_identity"),
        latitude=latitude, longitude=longitude, notice_channel=channel, email=email)


def _loan(cells: Cells, line: int, lookups: Lookups) -> LoanLine:
    number = _individnummer(cells)
    person, _, _ = personnummer(cells.raw("personal_number") or "")
    return LoanLine(line, number, person, cells.date("from_date"))
