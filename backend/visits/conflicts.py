"""Resolving conflicts: a technician's submission that met a changed order, kept in full, is
applied to the order as it is now or dismissed, by a coordinator or by the technician.

Apply re-runs the visit action the submission was posted to (backend/visits/actions.py)
with the fields kept, against the order's current version, as the technician who did the work:
the rows it writes are theirs, the order's event and the conflict say who applied it. Records
of work (checklist answers, safety decisions, parts, time, report, notes, photos) may be applied
by a coordinator whoever has the order now and whatever its status: the work was done. A status
change (start, pause, complete, could not complete) is applied only while the order is still the
technician's and open, and only when the order's rules allow it now; otherwise it stays open
with the reason. The technician applies their own only while the order is theirs and open.

Dismiss keeps every field and the photo; only the resolution is recorded. A coordinator says
why (a required note: it is someone else's work); the technician letting go of their own
change need not. Either way a conflict is resolved once: its row is locked, and a second
resolution is refused with who resolved it and when.
"""

from __future__ import annotations

from datetime import datetime

from backend import db
from backend.accounts.service import Actor, staff_name_of
from backend.accounts.tables import Role
from backend.audit.service import record_patient_reads
from backend.errors import DomainError
from backend.photos import Photo, PhotoRejected, clean_photo
from backend.sync import service as sync
from backend.visits import page, recording
from backend.visits.actions import VisitAction, action_for_path, kept_fields
from backend.workdays import STOCKHOLM
from backend.workorders.service import STATUS_LABELS, NotAssigned, NotOpen, lock_order, record_event
from backend.workorders.tables import WorkOrderStatus

RESOLUTION_LABELS = {"applied": "Tillämpad", "dismissed": "Avfärdad"}


class ConflictError(DomainError):
    """A resolution was refused."""

    status = 400


class ConflictNotFound(ConflictError):
    status = 404

    def __init__(self) -> None:
        super().__init__("Konflikten finns inte.")


class AlreadyResolved(ConflictError):
    status = 409


class CannotApply(ConflictError):
    """The kept submission cannot be applied to the order as it is now; the conflict stays open."""

    status = 409


def _when(at: datetime) -> str:
    return f"{at.astimezone(STOCKHOLM):%Y-%m-%d %H:%M}"


# The kept message spoke to the technician on the phone; coordinators read the reason too.
_NEUTRAL = ((" sedan du öppnade sidan", ""), ("inte tilldelat dig (längre)", "inte längre tilldelat teknikern"))


def _reason(message: str) -> str:
    """Why it was kept, in one sentence that reads right to the coordinator and the technician."""
    reason = message.split(". ", 1)[0].rstrip(".")
    for said, neutral in _NEUTRAL:
        reason = reason.replace(said, neutral)
    return reason + "."


def _label(path: str) -> str:
    action = action_for_path(path)
    return action.label if action else path.rstrip("/").rsplit("/", 1)[-1]


# --- lists -------------------------------------------------------------------------------


def _listed(rows: list[dict]) -> list[dict]:
    return [{**r, "label": _label(r["path"]), "reason": _reason(r["message"]),
             "status_label": STATUS_LABELS[WorkOrderStatus(r["status"])]} for r in rows]


async def open_conflicts(organisation_id: int) -> list[dict]:
    """The organisation's open conflicts, newest first, for the coordinator (no patient data)."""
    return _listed(await sync.list_open_conflicts(organisation_id))


async def technicians_open_conflicts(actor: Actor) -> list[dict]:
    """The technician's own open conflicts on every order, newest first."""
    return _listed(await sync.list_open_conflicts(actor.organisation, actor.id))


async def count_open(organisation_id: int) -> int:
    return await sync.count_open_conflicts(organisation_id)


# --- one conflict ------------------------------------------------------------------------


def _may_see(actor: Actor, staff_user: int) -> bool:
    """Coordinators and admins see every conflict in their organisation, a technician their own."""
    return actor.role in (Role.coordinator, Role.admin) or (actor.role is Role.technician
                                                            and staff_user == actor.id)


def _visible(actor: Actor, conflict: dict | None) -> dict:
    if conflict is None or not _may_see(actor, conflict["staff_user"]):
        raise ConflictNotFound()
    conflict["label"] = _label(conflict["path"])
    conflict["reason"] = _reason(conflict["message"])
    conflict["action"] = action_for_path(conflict["path"])
    conflict["resolution_label"] = RESOLUTION_LABELS.get(conflict["resolution"] or "")
    return conflict


def why_not_applicable(actor: Actor, conflict: dict, order: dict, assignee_name: str | None) -> str | None:
    """Why the kept submission cannot be applied by `actor` to the order as it is now, in
    Swedish; None when it may be tried (the action's own rules still decide)."""
    action: VisitAction | None = conflict["action"]
    if action is None:
        return "Ändringen går inte att tillämpa här. Avfärda den och skriv vad som gjordes i stället."
    status = STATUS_LABELS[WorkOrderStatus(order["status"])]
    if actor.role is Role.technician:
        if order["assignee"] != actor.id:
            return ("Arbetsordern är inte längre tilldelad dig, så du kan inte tillämpa ändringen själv. "
                    "Samordnaren kan tillämpa den, eller så släpper du den.")
        if order["status"] not in recording.RECORDING_STATUSES:
            return (f"Arbetsordern har status ”{status}” och kan inte ändras av dig längre. "
                    "Samordnaren kan tillämpa ändringen, eller så släpper du den.")
        return None
    if action.changes_order and order["assignee"] != conflict["staff_user"]:
        now = f"tilldelad {assignee_name}" if assignee_name else "inte tilldelad någon"
        return (f"{action.label} går inte att tillämpa: arbetsordern är nu {now}, och en ändring av "
                f"besökets status gäller bara den tekniker som har besöket. Avfärda ändringen, eller planera "
                f"om arbetsordern till {conflict['technician_name']} först.")
    if action.changes_order and order["status"] not in recording.RECORDING_STATUSES:
        return f"{action.label} går inte att tillämpa: arbetsordern har nu status ”{status}”."
    return None


async def conflict_page(actor: Actor, conflict_id: int) -> dict:
    """A conflict side by side with the order as it is now: what was sent (every field by the
    name the technician knows it), the order's status, assignee, day, version, last change and
    its record. The patient's name shows to coordinators and admins and to the technician while
    the order is theirs, and then the read is audit-logged."""
    conflict = _visible(actor, await sync.find_conflict(actor.organisation, conflict_id))
    data = await page.order_page_data(actor, conflict["work_order"])
    order = data["order"]
    slug = conflict["action"].slug if conflict["action"] else ""
    conflict["kept"] = kept_fields(slug, conflict["fields"], data["checklist"])
    data["conflicts"] = [c for c in data["conflicts"] if c["id"] != conflict["id"]
                         and (actor.role is not Role.technician or c["staff_user"] == actor.id)]
    involved = actor.role is not Role.technician or order["assignee"] == actor.id
    if not involved:
        # Reassigned since: the technician sees what became of their work, not the patient or photos.
        for key in (*page.PATIENT_FIELDS, "patient"):
            order[key] = None
        data["record"]["photos"] = []
    elif order["patient"]:
        await record_patient_reads(actor, [order["patient"]], "sync_conflict")
    blocked = None if conflict["resolved_at"] else why_not_applicable(actor, conflict, order, order["assignee_name"])
    events = data["record"]["events"]
    return {**data, "conflict": conflict, "blocked": blocked, "involved": involved,
            "last_change": events[-1] if events else None}


async def kept_photo(actor: Actor, conflict_id: int) -> Photo:
    """The kept photo, for coordinators, admins and the technician who took it. Cleaned as a
    stored photo is (re-encoded, no EXIF position), so the kept bytes themselves never leave."""
    kept = await sync.kept_photo(actor.organisation, conflict_id)
    if kept is None or not _may_see(actor, kept[0]):
        raise ConflictNotFound()
    try:
        return await clean_photo(kept[1])
    except PhotoRejected:
        raise ConflictNotFound() from None


# --- resolving ---------------------------------------------------------------------------


async def _locked(actor: Actor, conflict_id: int) -> dict:
    """The conflict row-locked for this transaction, with its photo; refused once resolved."""
    conflict = _visible(actor, await sync.find_conflict(actor.organisation, conflict_id, with_photo=True, lock=True))
    if conflict["resolved_at"] is not None:
        raise AlreadyResolved(
            f"Konflikten är redan löst: {conflict['resolution_label'].lower()} av {conflict['resolved_by_name']} "
            f"{_when(conflict['resolved_at'])}. Inget mer har ändrats.")
    return conflict


async def _resolve(conflict: dict, actor: Actor, resolution: str, note: str) -> None:
    await sync.mark_resolved(conflict["id"], actor, resolution, note)


async def apply_conflict(actor: Actor, conflict_id: int, *, seen_version: int, note: str = "") -> int | None:
    """Carry out the kept submission against the order as it is now, in one transaction: the
    action's rows, the order's event and the resolution are written together or not at all.

    `seen_version` is the order's version on the page the resolver decided from; if the order
    changed again since, nothing is done. Returns the order's new version when it changed."""
    note = note.strip()[:2000]
    async with db.transaction():
        conflict = await _locked(actor, conflict_id)
        order = await lock_order(actor, conflict["work_order"], assigned=False)
        if order["version"] != seen_version:
            raise CannotApply("Arbetsordern har ändrats igen sedan du öppnade sidan. Se hur den ser ut nu och "
                              "välj igen.")
        assignee_name = await staff_name_of(order["assignee"])
        blocked = why_not_applicable(actor, conflict, order, assignee_name)
        if blocked:
            raise CannotApply(blocked)
        action: VisitAction = conflict["action"]
        technician = Actor(id=conflict["staff_user"], organisation=actor.organisation,
                           name=conflict["technician_name"], role=Role.technician, care_unit=None)
        form = dict(conflict["fields"])
        if action.changes_order:
            form["version"] = str(order["version"])
        # A kept completion waited for the phone's earlier changes; the person resolving it has
        # seen the order as it is and decides.
        form.pop("expected_writes", None)
        late = actor.role is not Role.technician and not action.changes_order
        photo = bytes(conflict["photo"]) if conflict["photo"] is not None else None
        try:
            new_version = await action.run(technician, order["id"], form, photo, late=late)
        except (NotAssigned, NotOpen) as exc:
            raise CannotApply(f"{action.label} går inte att tillämpa på arbetsordern som den är nu: "
                              f"{exc.message}") from None
        except DomainError as exc:
            raise CannotApply(f"{action.label} går inte att tillämpa som den skickades: {exc.message}") from None
        await record_event(order["id"], actor.id, "conflict_applied",
                           f"{action.label} från {conflict['technician_name']}, skickad "
                           f"{_when(conflict['created_at'])}")
        await _resolve(conflict, actor, "applied", note)
        return new_version if isinstance(new_version, int) else None


async def dismiss_conflict(actor: Actor, conflict_id: int, note: str = "") -> None:
    """Leave the kept submission unapplied; every field stays. A coordinator or admin says why."""
    note = note.strip()[:2000]
    if actor.role is not Role.technician and not note:
        raise ConflictError("Skriv varför ändringen avfärdas. Anteckningen sparas med konflikten.", "note")
    async with db.transaction():
        conflict = await _locked(actor, conflict_id)
        await _resolve(conflict, actor, "dismissed", note)
