"""The technician's actions on a visit, each run from the form fields it was submitted with.

One table (the last segment of `/besok/<order id>/<slug>` → action) serves both the visit
routes and applying a submission that was kept as a conflict (backend/visits/conflicts.py),
so a late write meets exactly the rules a live one does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Awaitable, Protocol

from backend.accounts.service import Actor
from backend.forms import FormError, FormErrors, decimal, integer, text
from backend.maintenance import service as maintenance
from backend.maintenance.service import Answer, ChecklistError
from backend.photos import clean_photo
from backend.visits import recording as visits
from backend.workorders import service
from backend.workorders.service import WorkOrderError


class Run(Protocol):
    def __call__(self, actor: Actor, order_id: int, form: dict, photo: bytes | None, *,
                 late: bool = False) -> Awaitable[int | None]: ...


@dataclass(frozen=True)
class VisitAction:
    slug: str
    label: str  # what the outbox and the conflict pages call it
    changes_order: bool  # a status change named against the order's version; else a record appended
    anchor: str  # the part of the visit page it belongs to ({item}: the form's item)
    notice: str  # the visit page's notice after it is done (visit_routes.NOTICES)
    run: Run  # returns the order's new version when it changed the order

    def anchor_for(self, form: dict) -> str:
        return self.anchor.format(item=text(form, "item", 60))


# Field names as the technician knows them, for showing back what was sent.
FIELD_LABELS = {
    "outcome": "Resultat", "reason": "Anledning", "detail": "Mer om varför",
    "message_to_orderer": "Meddelande till beställaren", "article": "Artikel", "quantity": "Antal",
    "minutes": "Minuter", "fault_found": "Fel som hittades", "action_taken": "Åtgärd som gjordes",
    "note": "Anteckning", "caption": "Bildtext", "item": "Punkt",
    "follow_up": "Vad behöver följas upp",
}


def version_in(form: dict) -> int:
    try:
        return int(text(form, "version"))
    except ValueError:
        raise FormError("Sidan saknar arbetsorderns version. Ladda om sidan och försök igen.") from None


def version_or_none(form: dict) -> int | None:
    try:
        return int(text(form, "version"))
    except ValueError:
        return None


def checklist_answers(form: dict, checklist: maintenance.Checklist) -> list[Answer]:
    """The checklist form: item-<key> is the answer, -value the measurement, -comment the comment.
    Items left unanswered are skipped, so a checklist can be saved part by part; an answer to an
    item the checklist no longer has is refused rather than dropped."""
    known = {f"item-{i.key}{suffix}" for i in checklist.items for suffix in ("", "-value", "-comment")}
    if any(name.startswith("item-") and name not in known and text(form, name) for name in form):
        raise ChecklistError("Checklistan har ändrats. Ladda om sidan och fyll i igen.")
    answers, errors = [], []
    for item in checklist.items:
        name = f"item-{item.key}"
        choice = text(form, name)
        if not choice:
            continue
        try:
            value = decimal(form, f"{name}-value", "Skriv mätvärdet som ett tal, till exempel 24,5.",
                            required=False) if item.measurement else None
        except FormError as exc:
            errors.append((exc.field, exc.message))
            continue
        answers.append(Answer(item.key, choice, value, text(form, f"{name}-comment", 1000)))
    if errors:
        raise FormErrors(errors)
    return answers


def checklist_decisions(form: dict, checklist: maintenance.Checklist) -> dict[str, tuple[str, str]]:
    """Decisions made in the checklist itself (decision-<key>) for safety items failed in it, so
    that a technician without signal can fill in the whole checklist in one go."""
    found = {}
    for item in checklist.items:
        name = f"decision-{item.key}"
        if item.safety_critical and text(form, f"item-{item.key}") == "fail" and text(form, name):
            found[item.key] = (text(form, name), text(form, f"{name}-comment", 1000))
    return found


def expected_writes(form: dict) -> int | None:
    """How many earlier changes to the visit the phone made before completing it (the outbox fills it in)."""
    value = text(form, "expected_writes")
    return int(value) if value.isdigit() else None


# --- changes to the order (late does not apply: they follow the order's rules as it is) ---


async def _start(actor: Actor, order_id: int, form: dict, photo: bytes | None, *, late: bool = False) -> int:
    return await visits.start_visit(actor, order_id, version_in(form))


async def _pause(actor: Actor, order_id: int, form: dict, photo: bytes | None, *, late: bool = False) -> int:
    return await visits.pause_visit(actor, order_id, version_in(form), text(form, "reason", 500))


async def _complete(actor: Actor, order_id: int, form: dict, photo: bytes | None, *, late: bool = False) -> int:
    return await visits.complete_visit(actor, order_id, version_in(form), text(form, "outcome"),
                                       expected_writes(form), follow_up=text(form, "follow_up", 2000))


async def _not_completed(actor: Actor, order_id: int, form: dict, photo: bytes | None, *,
                         late: bool = False) -> int:
    return await visits.could_not_complete(actor, order_id, version_in(form), text(form, "reason"),
                                           text(form, "detail", 1000), text(form, "message_to_orderer", 2000))


# --- records appended to the order (late: recorded whoever has the order now, see visits) ---


async def _checklist(actor: Actor, order_id: int, form: dict, photo: bytes | None, *, late: bool = False) -> None:
    checklist = await maintenance.checklist_for_order(order_id)
    if checklist is None:
        raise WorkOrderError("Det finns ingen checklista för den här arbetsordern.")
    await visits.save_checklist(actor, order_id, checklist_answers(form, checklist),
                                checklist_decisions(form, checklist), late=late)


async def _safety_decision(actor: Actor, order_id: int, form: dict, photo: bytes | None, *,
                           late: bool = False) -> None:
    item = text(form, "item", 60)
    await visits.decide_on_safety_item(actor, order_id, item, text(form, f"decision-{item}"),
                                       text(form, f"decision-{item}-comment", 1000), late=late)


async def _part(actor: Actor, order_id: int, form: dict, photo: bytes | None, *, late: bool = False) -> None:
    await visits.add_part(actor, order_id, text(form, "article", 300),
                          integer(form, "quantity", "Antalet ska vara ett heltal från 1 till 999."), late=late)


async def _time(actor: Actor, order_id: int, form: dict, photo: bytes | None, *, late: bool = False) -> None:
    await visits.add_time(actor, order_id, integer(form, "minutes", "Skriv tiden i hela minuter, till exempel 45."),
                          late=late)


async def _report(actor: Actor, order_id: int, form: dict, photo: bytes | None, *, late: bool = False) -> None:
    report = visits.RepairReport(text(form, "fault_found", 2000), text(form, "action_taken", 2000))
    await visits.add_report(actor, order_id, report, late=late)


async def _note(actor: Actor, order_id: int, form: dict, photo: bytes | None, *, late: bool = False) -> None:
    await visits.add_note(actor, order_id, text(form, "note", 2000), late=late)


async def _photo(actor: Actor, order_id: int, form: dict, photo: bytes | None, *, late: bool = False) -> None:
    if photo is None:
        raise FormError("Välj en bild att ladda upp.", "photo")
    await visits.add_photo(actor, order_id, await clean_photo(photo), text(form, "caption", 300), late=late)


ACTIONS: dict[str, VisitAction] = {a.slug: a for a in (
    VisitAction("starta", "Påbörjat/fortsatt besök", True, "status", "startad", _start),
    VisitAction("pausa", "Paus", True, "status", "pausad", _pause),
    VisitAction("slutfor", "Slutfört besök", True, "slutfor", "klar", _complete),
    VisitAction("ej-utford", "Besök som inte kunde utföras", True, "ej-utford", "ej-utford", _not_completed),
    VisitAction("checklista", "Checklista", False, "checklista", "checklista", _checklist),
    VisitAction("sakerhetsbeslut", "Beslut om säkerhetspunkt", False, "beslut-{item}", "beslut", _safety_decision),
    VisitAction("delar", "Reservdel", False, "delar", "del", _part),
    VisitAction("tid", "Tid", False, "tid", "tid", _time),
    VisitAction("rapport", "Rapport", False, "rapport", "rapport", _report),
    VisitAction("anteckning", "Anteckning", False, "anteckning", "anteckning", _note),
    VisitAction("foton", "Foto", False, "foton", "foto", _photo),
)}

ACTION_LABELS = {slug: action.label for slug, action in ACTIONS.items()}
# A later domain's visit action's own field names and choices, by slug (see `register`).
_FIELD_LABELS_OF: dict[str, dict[str, str]] = {}
_CHOICES_OF: dict[str, dict[str, dict[str, str]]] = {}


def register(action: VisitAction, *, field_labels: dict[str, str] | None = None,
             choices: dict[str, dict[str, str]] | None = None) -> None:
    """A visit action of a domain above this one (deviations' avvikelse): posted to
    `/besok/<order>/<slug>` by its own route, and known here so that the outbox names it and a
    submission of it kept as a conflict is shown in words and can be applied like any other."""
    ACTIONS[action.slug] = action
    ACTION_LABELS[action.slug] = action.label
    _FIELD_LABELS_OF[action.slug] = dict(field_labels or {})
    _CHOICES_OF[action.slug] = dict(choices or {})


def action_for_path(path: str) -> VisitAction | None:
    """The action a kept submission was posted to, by its URL's last segment."""
    return ACTIONS.get(path.rstrip("/").rsplit("/", 1)[-1])


def kept_fields(slug: str, form: dict, checklist: maintenance.Checklist | None = None) -> list[tuple[str, str]]:
    """What was sent, each field under the name the technician knows it by and its value in words
    (checklist items by their text, choices by their label); the version is left out."""
    shown: list[tuple[str, str]] = []
    choices = {"outcome": {o.value: label for o, label in service.OUTCOME_LABELS.items()},
               **_CHOICES_OF.get(slug, {})}
    labels = {**FIELD_LABELS, **_FIELD_LABELS_OF.get(slug, {})}
    if slug == "ej-utford":
        choices["reason"] = {r.value: label for r, label in service.NOT_COMPLETED_LABELS.items()}
    item = text(form, "item", 60)
    for name, value in form.items():
        value = text(form, name)
        if name == "version" or not value:
            continue
        if name == f"decision-{item}":
            shown.append(("Beslut", maintenance.DECISION_LABELS.get(value, value)))
        elif name == f"decision-{item}-comment":
            shown.append(("Kommentar till beslutet", value))
        elif name.startswith("item-") or name == "item":
            shown.append(_checklist_field(name, value, checklist))
        else:
            shown.append((labels.get(name, name), choices.get(name, {}).get(value, value)))
    return shown


def _checklist_field(name: str, value: str, checklist: maintenance.Checklist | None) -> tuple[str, str]:
    for i in checklist.items if checklist else ():
        if name == "item" and value == i.key:
            return FIELD_LABELS["item"], i.text
        if name == f"item-{i.key}":
            return i.text, maintenance.ANSWER_LABELS.get(value, value)
        if name == f"item-{i.key}-value":
            return f"{i.text}: mätvärde", f"{value} {i.measurement.unit if i.measurement else ''}".strip()
        if name == f"item-{i.key}-comment":
            return f"{i.text}: kommentar", value
    if name == "item":
        return FIELD_LABELS["item"], value
    return name.removeprefix("item-"), maintenance.ANSWER_LABELS.get(value, value)
