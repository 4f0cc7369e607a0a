"""The rules of a deviation that need no database: its labels, the MDR art. 87 deadlines, the
errors, and reading what people give (the event, the device's identity, the coordinator's case).
service.py is the domain's face and re-exports what routes and tests use."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from backend.errors import DomainError, SeveralErrors
from backend.forms import date_field, text
from backend.workdays import today

# The visit form's fields as the technician knows them (a submission kept as a conflict is shown so).
FIELD_LABELS = {"occurred_on": "Datum", "description": "Vad hände", "consequence": "Följd för brukaren",
                "serious": "Allvarlig skada", "keep_device": "Sparas för utredning",
                "deviation_caption": "Text till fotot"}
CONSEQUENCE_LABELS = {
    "none": "Ingen",
    "near_miss": "Kunde ha lett till skada (tillbud)",
    "harm": "Skada",
}

# MDR art. 87: a serious incident is reported within these days of the centre becoming aware.
CLASSIFICATION_LABELS = {
    "not_serious": "Inte allvarlig händelse",
    "other_serious": "Allvarlig händelse",
    "death_or_serious_deterioration": "Dödsfall eller oväntad allvarlig försämring av hälsotillståndet",
    "public_health_threat": "Allvarligt hot mot folkhälsan",
}
DEADLINE_DAYS = {"public_health_threat": 2, "death_or_serious_deterioration": 10, "other_serious": 15}
SERIOUS = tuple(DEADLINE_DAYS)

STATUS_LABELS = {"new": "Ny", "investigating": "Under utredning", "reported": "Rapporterad", "closed": "Avslutad"}

IDENTITY_FIELDS = ("manufacturer", "trade_name", "article_number", "serial_number", "lot_number", "udi")
IDENTITY_LIMITS = {"manufacturer": 200, "trade_name": 200, "article_number": 100, "serial_number": 100,
                   "lot_number": 100, "udi": 200}


class DeviationError(DomainError):
    """A deviation refused as given; nothing was written."""


class DeviationErrors(SeveralErrors, DeviationError):
    pass


class DeviationChanged(DeviationError):
    def __init__(self) -> None:
        super().__init__("Ärendet har ändrats av någon annan sedan du öppnade det. Ladda om sidan och gör "
                         "ändringen igen.")


class DeviationNotFound(Exception):
    """No such deviation in the actor's organisation (or not theirs to see)."""


# --- what people give ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Event:
    """What happened: when, what, and the consequence for the patient."""

    occurred_on: date
    description: str
    consequence: str  # none | near_miss | harm
    serious_harm: bool | None  # for harm only: allvarlig ja/nej


@dataclass(frozen=True)
class Identity:
    """The device as the manufacturer knows it."""

    manufacturer: str = ""
    trade_name: str = ""
    article_number: str = ""
    serial_number: str = ""
    lot_number: str = ""
    udi: str = ""
    manufacturing_date: date | None = None


def collect(errors: list, read):
    """`read()`, or None with its refusals added to `errors`: a form reports every wrong field at once."""
    try:
        return read()
    except DomainError as exc:
        errors.extend(exc.errors)
        return None


def read_event(form: dict, errors: list, on: date) -> Event | None:
    """The event's fields (occurred_on, description, consequence, serious), each refusal added to
    `errors`; None when any was refused."""
    before = len(errors)
    occurred = collect(errors, lambda: date_field(form, "occurred_on", "Skriv datumet som 2026-03-01."))
    if occurred is not None and occurred > on:
        errors.append(("occurred_on", "Händelsen kan inte ha inträffat i framtiden."))
    description = collect(errors, lambda: text(form, "description", 4000))
    if description == "":
        errors.append(("description", "Beskriv vad som hände."))
    consequence = collect(errors, lambda: text(form, "consequence", 20))
    if consequence is not None and consequence not in CONSEQUENCE_LABELS:
        errors.append(("consequence", "Välj vilken följd händelsen fick för brukaren."))
    serious = collect(errors, lambda: text(form, "serious", 5))
    serious_harm = None
    if consequence == "harm":
        if serious not in ("ja", "nej"):
            errors.append(("serious", "Svara om skadan var allvarlig."))
        serious_harm = serious == "ja"
    if len(errors) > before:
        return None
    return Event(occurred, description, consequence, serious_harm)


def read_identity(form: dict, errors: list) -> Identity | None:
    before = len(errors)
    values = {name: collect(errors, lambda name=name: text(form, name, IDENTITY_LIMITS[name]))
              for name in IDENTITY_FIELDS}
    made = collect(errors, lambda: date_field(form, "manufacturing_date", "Skriv tillverkningsdatumet som "
                                               "2021-03-01, eller lämna det tomt.", required=False))
    if made is not None and made > today():
        errors.append(("manufacturing_date", "Tillverkningsdatumet kan inte vara i framtiden."))
    if len(errors) > before:
        return None
    return Identity(**values, manufacturing_date=made)


def keeps_device(form: dict) -> bool:
    return text(form, "keep_device", 5) == "ja"


def refuse_any(errors: list) -> None:
    if errors:
        raise DeviationErrors(errors)


def reporting_deadline(classification: str | None, aware_on: date) -> date | None:
    """The last day to report a serious incident (MDR art. 87), counted in calendar days from the
    day the centre became aware; None for what is not a serious incident (or not classified)."""
    days = DEADLINE_DAYS.get(classification or "")
    return aware_on + timedelta(days=days) if days else None


@dataclass(frozen=True)
class CaseUpdate:
    event: Event
    aware_on: date
    identity: Identity
    classification: str | None
    investigation: str
    status: str
    authority_reference: str
    manufacturer_reference: str


def read_case(form: dict) -> tuple[int, CaseUpdate]:
    """The case form: the version it was based on and every field, or DeviationErrors."""
    errors: list = []
    on = today()
    try:
        version = int(text(form, "version", 12))
    except ValueError:
        raise DeviationError("Sidan saknar ärendets version. Ladda om sidan och försök igen.") from None
    event = read_event(form, errors, on)
    aware = collect(errors, lambda: date_field(form, "aware_on", "Skriv datumet som 2026-03-01."))
    if aware is not None and aware > on:
        errors.append(("aware_on", "Datumet kan inte vara i framtiden."))
    elif aware is not None and event is not None and aware < event.occurred_on:
        errors.append(("aware_on", "HMC kan inte ha fått kännedom om händelsen innan den inträffade."))
    identity = read_identity(form, errors)
    classification = collect(errors, lambda: text(form, "classification", 40))
    if classification and classification not in CLASSIFICATION_LABELS:
        errors.append(("classification", "Välj en klassificering i listan."))
    status = collect(errors, lambda: text(form, "status", 20))
    if status is not None and status not in STATUS_LABELS:
        errors.append(("status", "Välj status."))
    elif status in ("reported", "closed") and not classification:
        errors.append(("classification", "Klassificera händelsen innan ärendet rapporteras eller avslutas."))
    investigation = collect(errors, lambda: text(form, "investigation", 8000)) or ""
    authority = collect(errors, lambda: text(form, "authority_reference", 60)) or ""
    maker = collect(errors, lambda: text(form, "manufacturer_reference", 60)) or ""
    if status == "closed" and classification in SERIOUS and not authority:
        errors.append(("authority_reference", "En allvarlig händelse avslutas först när Läkemedelsverkets "
                                              "diarienummer är antecknat."))
    refuse_any(errors)
    return version, CaseUpdate(event, aware, identity, classification or None, investigation, status, authority,
                               maker)
