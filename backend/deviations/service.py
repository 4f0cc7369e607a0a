"""Deviations (avvikelser): a negative event or near-miss with a device, raised by a technician
from a visit (through the outbox, like every field write) or by a coordinator from a work order or
a device, and completed by a coordinator into the report for Läkemedelsverket and the manufacturer
(HSLF-FS 2021:52 ch. 5; MDR art. 87).

The device's identity is copied from the register when the deviation is raised (a snapshot the
case corrects). Keeping the device for investigation takes it out of use through the register and
orders its pick-up through work orders. The patient is the case's only (read is audit-logged),
never the report's: see report.py.
"""

from __future__ import annotations

import json
from datetime import date, timedelta

from backend import db
from backend.accounts.service import Actor, staff_name
from backend.accounts.tables import Role
from backend.audit.service import record_patient_reads
from backend.db import Sql, raw
from backend.devices import register
from backend.devices import service as devices
from backend.devices.tables import DeviceStatus
from backend.deviations.report import report_content as report
from backend.deviations.rules import (
    CLASSIFICATION_LABELS,
    CONSEQUENCE_LABELS,
    DEADLINE_DAYS,
    FIELD_LABELS,
    IDENTITY_FIELDS,
    SERIOUS,
    STATUS_LABELS,
    CaseUpdate,
    DeviationChanged,
    DeviationError,
    DeviationErrors,
    DeviationNotFound,
    Event,
    Identity,
    collect,
    keeps_device,
    read_case,
    read_event,
    read_identity,
    refuse_any,
    reporting_deadline,
)
from backend.forms import text
from backend.patients import service as patients
from backend.photos import Photo, clean_photo
from backend.visits import actions as visit_actions
from backend.workdays import today
from backend.workorders import service as workorders
from backend.workorders.service import NotAssigned, WorkOrderNotFound
from backend.workorders.tables import Channel, WorkOrderType

__all__ = [  # the face: what routes, reports and tests use
    "CLASSIFICATION_LABELS", "CONSEQUENCE_LABELS", "DEADLINE_DAYS", "IDENTITY_FIELDS", "SERIOUS", "STATUS_LABELS",
    "CaseUpdate", "DeviationChanged", "DeviationError", "DeviationErrors", "DeviationNotFound", "Event", "Identity",
    "keeps_device", "read_case", "read_event", "read_identity", "refuse_any", "reporting_deadline",
    "add_photo", "case", "device_identity", "identity_of", "kpi_deviations", "list_deviations", "order_for_deviation",
    "photo", "raise_deviation", "raise_from_visit", "report", "update_case",
]

LIST_LIMIT = 500

# --- raising one ---------------------------------------------------------------------------------


async def order_for_deviation(actor: Actor, work_order_id: int, *, assigned: bool = True) -> dict:
    """The order a deviation is raised from: its number, device and patient. A technician may
    raise one only on their own orders (NotAssigned), unless `assigned` is False: one kept as a
    conflict and applied afterwards by a coordinator, to the order whoever has it now."""
    row = await db.fetchrow(Sql(
        "SELECT w.id, w.number, w.assignee, w.second_assignee, w.device, w.patient FROM (:order) w",
        order=workorders.order_row(work_order_id, actor.organisation)))
    if row is None:
        raise WorkOrderNotFound()
    if assigned and actor.role is Role.technician and actor.id not in (row["assignee"], row["second_assignee"]):
        raise NotAssigned()
    return dict(row)


async def device_identity(actor: Actor, device_id: int) -> dict:
    found = await devices.identity(actor.organisation, device_id)
    if found is None:
        raise DeviationError("Hjälpmedlet finns inte i registret.", "device")
    return found


def identity_of(registered: dict) -> Identity:
    """The register's identity of the device, as the deviation's starting snapshot."""
    return Identity(registered["manufacturer"] or "", registered["article_name"] or "",
                    registered["article_number"] or "", registered["serial_number"] or "",
                    registered.get("lot_number") or "", registered["udi"] or "", registered.get("manufacturing_date"))


async def raise_deviation(actor: Actor, *, device_id: int, event: Event, keep_device: bool,
                          work_order_id: int | None = None, patient_id: int | None = None,
                          identity: Identity | None = None, photo: Photo | None = None, caption: str = "") -> dict:
    """Record a deviation on the device (from the order, when raised from one), with the device's
    identity (the register's, unless given) and a photo. Keeping the device for investigation takes
    it out of use and, when it is with a patient, orders its pick-up (a technical review, there
    being no pick-up type). Joins a surrounding transaction; returns id, number, pickup_order."""
    async with db.transaction():
        registered = await device_identity(actor, device_id)
        identity = identity or identity_of(registered)
        patient_id = patient_id or registered["holder"]
        row = await db.fetchrow(
            """
            INSERT INTO deviation (organisation, number, work_order, device, patient, raised_by, occurred_on, aware_on,
                                   description, consequence, serious_harm, device_kept, manufacturer, trade_name,
                                   article_number, serial_number, lot_number, udi, manufacturing_date,
                                   individnummer, category_name, updated_by)
            VALUES ($1, '', $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20,
                    $5)
            RETURNING id
            """,
            actor.organisation, work_order_id, device_id, patient_id, actor.id, event.occurred_on, today(),
            event.description, event.consequence, event.serious_harm, keep_device, identity.manufacturer,
            identity.trade_name, identity.article_number, identity.serial_number, identity.lot_number, identity.udi,
            identity.manufacturing_date, registered["individnummer"], registered["category_name"] or "",
        )
        number = await db.fetchval(
            "UPDATE deviation SET number = 'AV-' || to_char(raised_at AT TIME ZONE 'Europe/Stockholm', 'YYYY') "
            "|| '-' || lpad(id::text, 5, '0') WHERE id = $1 RETURNING number", row["id"])
        if photo is not None:
            await add_photo(actor, row["id"], photo, caption)
        pickup = None
        if keep_device:
            pickup = await _keep_for_investigation(actor, device_id, number, registered)
            if pickup is not None:
                await db.execute("UPDATE deviation SET pickup_order = $2 WHERE id = $1", row["id"], pickup["id"])
        return {"id": row["id"], "number": number, "pickup_order": pickup}


async def _keep_for_investigation(actor: Actor, device_id: int, number: str, registered: dict) -> dict | None:
    """Out of use through the register (its history says who and when); a pick-up order when the
    device is with a patient (in the depot it is already at hand)."""
    if registered["status"] != DeviceStatus.condemned.value:
        await register.change_status(actor, device_id, DeviceStatus.out_of_use.value)
    if registered["holder"] is None:
        return None
    return await workorders.create_work_order(
        organisation_id=actor.organisation, type=WorkOrderType.technical_review.value, device_id=device_id,
        description=f"Hämtning för utredning – avvikelse {number}. Hjälpmedlet är taget ur bruk: hämta in det "
                    "och spara det oförändrat tills utredningen är klar.",
        channel=Channel.hmc.value, actor_id=actor.id)


async def raise_from_visit(actor: Actor, work_order_id: int, form: dict, photo: Photo | None, *,
                           late: bool = False) -> dict:
    """A technician's deviation from a visit (through the outbox): the order's device and patient,
    the register's identity of the device. `late`: kept as a conflict, applied by a coordinator."""
    errors: list = []
    event = read_event(form, errors, today())
    keep = keeps_device(form)
    caption = collect(errors, lambda: text(form, "deviation_caption", 300)) or ""
    refuse_any(errors)
    order = await order_for_deviation(actor, work_order_id, assigned=not late)
    return await raise_deviation(actor, device_id=order["device"], event=event, keep_device=keep,
                                 work_order_id=order["id"], patient_id=order["patient"], photo=photo, caption=caption)


async def add_photo(actor: Actor, deviation_id: int, photo: Photo, caption: str = "") -> int:
    return await db.fetchval(
        "INSERT INTO deviation_photo (deviation, content, content_type, width, height, caption, added_by) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        deviation_id, photo.content, photo.content_type, photo.width, photo.height, caption, actor.id)


# --- the coordinator's case ----------------------------------------------------------------------


async def update_case(actor: Actor, deviation_id: int, version: int, update: CaseUpdate) -> int:
    """Complete the case: the event, the identity, the classification, the references and the
    status (reported_at stamped the first time it is reported, closed_at while it is closed).
    Refused when the case changed since the page was read; returns the new version."""
    e, i = update.event, update.identity
    async with db.transaction():
        current = await db.fetchrow("SELECT version FROM deviation WHERE id = $1 AND organisation = $2 FOR UPDATE",
                                    deviation_id, actor.organisation)
        if current is None:
            raise DeviationNotFound()
        if current["version"] != version:
            raise DeviationChanged()
        return await db.fetchval(
            """
            UPDATE deviation SET occurred_on = $2, description = $3, consequence = $4, serious_harm = $5,
                   aware_on = $6, manufacturer = $7, trade_name = $8, article_number = $9, serial_number = $10,
                   lot_number = $11, udi = $12, manufacturing_date = $13, classification = $14, investigation = $15,
                   status = $16::text, authority_reference = $17, manufacturer_reference = $18,
                   reported_at = CASE WHEN $16::text IN ('reported', 'closed') THEN coalesce(reported_at, now())
                                      ELSE reported_at END,
                   closed_at = CASE WHEN $16::text = 'closed' THEN coalesce(closed_at, now()) END,
                   version = version + 1, updated_at = now(), updated_by = $19
            WHERE id = $1 RETURNING version
            """,
            deviation_id, e.occurred_on, e.description, e.consequence, e.serious_harm, update.aware_on,
            i.manufacturer, i.trade_name, i.article_number, i.serial_number, i.lot_number, i.udi,
            i.manufacturing_date, update.classification, update.investigation, update.status,
            update.authority_reference, update.manufacturer_reference, actor.id)


def _is_serious(row: dict) -> bool:
    if row["classification"]:
        return row["classification"] in SERIOUS
    return bool(row["serious_harm"])


def _shown(row: dict) -> dict:
    found = dict(row)
    found["status_label"] = STATUS_LABELS[found["status"]]
    found["consequence_label"] = CONSEQUENCE_LABELS[found["consequence"]]
    if found["consequence"] == "harm":
        found["consequence_label"] += ", allvarlig" if found["serious_harm"] else ", inte allvarlig"
    found["classification_label"] = CLASSIFICATION_LABELS.get(found["classification"] or "", "")
    found["serious"] = _is_serious(found)
    found["deadline"] = reporting_deadline(found["classification"], found["aware_on"])
    found["deadline_days"] = DEADLINE_DAYS.get(found["classification"] or "")
    # Late: a serious incident not yet reported after its last day.
    found["late"] = bool(found["deadline"] and found["status"] in ("new", "investigating")
                         and today() > found["deadline"])
    return found


async def list_deviations(actor: Actor, *, status: str | None = None, month: date | None = None) -> list[dict]:
    """The organisation's deviations (of one status, raised in one month), serious ones first
    (classified serious, or an unclassified one with serious harm), then newest first. No patient
    data, so nothing is audit-logged."""
    month_end = (month.replace(day=28) + timedelta(days=4)).replace(day=1) if month else None
    rows = await db.fetch(
        """
        SELECT id, number, status, raised_at, occurred_on, aware_on, consequence, serious_harm, classification,
               trade_name, manufacturer, individnummer, device_kept
        FROM deviation
        WHERE organisation = $1 AND ($2::text IS NULL OR status = $2)
          AND ($3::date IS NULL OR raised_at >= ($3::date::timestamp AT TIME ZONE 'Europe/Stockholm'))
          AND ($4::date IS NULL OR raised_at < ($4::date::timestamp AT TIME ZONE 'Europe/Stockholm'))
        ORDER BY CASE WHEN classification IS NOT NULL THEN classification = ANY($5::text[])
                      ELSE coalesce(serious_harm, false) END DESC, raised_at DESC, id DESC
        LIMIT $6
        """,
        actor.organisation, status, month, month_end, list(SERIOUS), LIST_LIMIT)
    return [_shown(r) for r in rows]


async def case(actor: Actor, deviation_id: int) -> dict:
    """One deviation with its photos, orders and who raised it, and the patient's name when the
    actor may see it (a read of patient data: audit-logged)."""
    row = await db.fetchrow(Sql(
        """
        SELECT dv.*, :raised_by AS raised_by_name, :order_number AS order_number, :pickup_number AS pickup_number,
               pn.given_name AS patient_given_name, pn.family_name AS patient_family_name,
               (SELECT coalesce(json_agg(json_build_object('id', ph.id, 'caption', ph.caption, 'width', ph.width,
                                                           'height', ph.height) ORDER BY ph.id), '[]')
                FROM deviation_photo ph WHERE ph.deviation = dv.id)::text AS photos
        FROM deviation dv LEFT JOIN LATERAL (:names) pn ON true
        WHERE dv.id = :id AND dv.organisation = :org
        """,
        raised_by=staff_name(raw("dv.raised_by")), order_number=workorders.order_number(raw("dv.work_order")),
        pickup_number=workorders.order_number(raw("dv.pickup_order")),
        names=patients.visible_names(actor, raw("dv.patient")), id=deviation_id, org=actor.organisation))
    if row is None:
        raise DeviationNotFound()
    found = _shown(row)
    found["photos"] = json.loads(found["photos"])
    if found["patient_given_name"] is not None:
        await record_patient_reads(actor, [found["patient"]], "deviation")
    return found


async def photo(actor: Actor, deviation_id: int, photo_id: int) -> tuple[bytes, str]:
    row = await db.fetchrow(
        "SELECT ph.content, ph.content_type FROM deviation_photo ph JOIN deviation dv ON dv.id = ph.deviation "
        "WHERE ph.id = $1 AND ph.deviation = $2 AND dv.organisation = $3", photo_id, deviation_id, actor.organisation)
    if row is None:
        raise DeviationNotFound()
    return bytes(row["content"]), row["content_type"]


# --- deviations per month, for the service levels ------------------------------------------------


async def for_device(organisation_id: int, device_id: int, limit: int = 50) -> list[dict]:
    """The device's deviations, newest first, for its register page: number, when it was raised,
    the consequence and the status in words. No patient data."""
    rows = await db.fetch(
        "SELECT id, number, raised_at, consequence, status FROM deviation WHERE organisation = $1 AND device = $2 "
        "ORDER BY raised_at DESC, id DESC LIMIT $3", organisation_id, device_id, limit)
    return [{**dict(r), "consequence_label": CONSEQUENCE_LABELS.get(r["consequence"], r["consequence"]),
             "status_label": STATUS_LABELS.get(r["status"], r["status"])} for r in rows]


async def kpi_deviations(organisation_id: int, since: date) -> list[dict]:
    """Every deviation raised on or after `since` (a Swedish date): its id, the day it was raised
    and whether it is serious (as the list sorts them), for the KPI summary (reports.facts)."""
    rows = await db.fetch(
        """
        SELECT id, (raised_at AT TIME ZONE 'Europe/Stockholm')::date AS raised_on,
               CASE WHEN classification IS NOT NULL THEN classification = ANY($3::text[])
                    ELSE coalesce(serious_harm, false) END AS serious
        FROM deviation WHERE organisation = $1 AND raised_at >= ($2::date::timestamp AT TIME ZONE 'Europe/Stockholm')
        """,
        organisation_id, since, list(SERIOUS))
    return [dict(r) for r in rows]



# --- the visit's action ----------------------------------------------------------------------------


async def _raise_kept(actor: Actor, work_order_id: int, form: dict, photo: bytes | None, *,
                      late: bool = False) -> None:
    """A deviation kept as a conflict (sent after the order was reassigned, say), applied from the
    conflict pages as the technician's: the same rules as from the visit."""
    await raise_from_visit(actor, work_order_id, form, await clean_photo(photo) if photo else None, late=late)


# The visit's action table knows the deviation too: the outbox names it, and the conflict pages
# show a kept one in words and can apply it.
visit_actions.register(
    visit_actions.VisitAction("avvikelse", "Avvikelse", False, "avvikelse", "avvikelse", _raise_kept),
    field_labels=FIELD_LABELS, choices={"consequence": CONSEQUENCE_LABELS})
