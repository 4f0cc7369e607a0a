"""Prescribers order a repair for their own unit's patients' devices from the device card, with
the same questions as the public report plus the work-order type, and follow their orders."""

from __future__ import annotations

from datetime import datetime

from backend import db
from backend.accounts.service import Actor, staff_name
from backend.db import Sql
from backend.devices.service import device_row, devices_where
from backend.faults.categories import guide_for
from backend.faults.errors import NotFound
from backend.faults.reporting import (
    REPORT_COLUMNS,
    ReportInput,
    checked_answers,
    describe_for_work_order,
    report_dict,
    report_values,
    site_contact_for,
    stage_of,
)
from backend.faults.tokens import new_token
from backend.patients.service import PatientNotVisible, may_see, patient_brief
from backend.visits import service as visits
from backend.workdays import STOCKHOLM
from backend.workorders import service as workorders
from backend.workorders.tables import WorkOrderType

# What a prescriber may order from the device card (PRODUCT.md: who orders which type).
PRESCRIBER_TYPES = (WorkOrderType.repair_on_site, WorkOrderType.repair_hmc, WorkOrderType.urgent_repair,
                    WorkOrderType.technical_review, WorkOrderType.installation)


async def _device_for_prescriber(actor: Actor, individnummer: str) -> dict:
    row = await db.fetchrow(Sql(
        """
        SELECT d.device_id AS id, d.individnummer, d.holder, d.category_code,
               coalesce(d.category_name, 'Hjälpmedel') AS category_name, d.article_name
        FROM (:devices) d
        """,
        devices=devices_where(Sql("d.organisation = :org AND d.individnummer = :number",
                                  org=actor.organisation, number=individnummer)),
    ))
    if row is None or row["holder"] is None:
        raise NotFound()
    return dict(row)


async def repair_order_target(actor: Actor, individnummer: str) -> dict:
    """The device a prescriber orders a repair for, and its holder: one of their own unit's
    patients (else NotFound). The holder's name is shown, so the read is audited."""
    device = await _device_for_prescriber(actor, individnummer)
    try:
        patient = await patient_brief(actor, device["holder"], "repair_order")
    except PatientNotVisible:
        raise NotFound() from None
    device["problems"] = guide_for(device["category_code"]).problems
    return {"device": device, "patient": patient}


async def order_repair(actor: Actor, individnummer: str, data: ReportInput, *, type: str, submission_key: str,
                       photo_bytes: bytes | None = None) -> dict:
    """A prescriber orders a repair for their patient's device: the report and its work order
    (channel prescriber) at once. A resend of the same form gives the same order."""
    device = await _device_for_prescriber(actor, individnummer)
    if not await may_see(actor, device["holder"]):
        raise NotFound()
    extra = [] if type in {t.value for t in PRESCRIBER_TYPES} else [("type", "Välj typ av arbetsorder.")]
    photo = await checked_answers(data, device["category_code"], submission_key, photo_bytes, extra)
    async with db.transaction():
        # Two taps on the button queue here; the second finds the first's order.
        await db.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", submission_key)
        existing = await db.fetchrow(Sql(
            "SELECT r.work_order AS id, :number AS number FROM fault_report r "
            "WHERE r.submission_key = :key AND r.device = :device AND r.work_order IS NOT NULL",
            key=submission_key, device=device["id"], number=workorders.order_number(db.raw("r.work_order")),
        ))
        if existing is not None:
            return dict(existing)
        report_id = await db.fetchval("SELECT nextval(pg_get_serial_sequence('fault_report', 'id'))")
        number = f"FA-{datetime.now(STOCKHOLM).year}-{report_id:06d}"
        report = {**report_dict(data), "number": number, "channel": "prescriber"}
        order = await workorders.create_work_order(
            organisation_id=actor.organisation, type=type, device_id=device["id"],
            description=describe_for_work_order(report, device["category_code"],
                                                urgent=type == WorkOrderType.urgent_repair),
            site_contact=site_contact_for(report),
            channel="prescriber", actor_id=actor.id, orderer_id=actor.id, care_unit_id=actor.care_unit,
        )
        if photo is not None:
            await visits.attach_report_photo(
                order["id"], actor.id, content=photo.content, content_type=photo.content_type,
                width=photo.width, height=photo.height, caption=f"Foto från beställningen {number}",
            )
        await db.execute(
            f"""
            INSERT INTO fault_report (id, number, organisation, device, channel, status, status_token, submission_key,
                                      ordered_by, care_unit, work_order, handled_by, handled_at, {REPORT_COLUMNS})
            VALUES ($1, $2, $3, $4, 'prescriber', 'ordered', $5, $6, $7, $8, $9, $7, now(),
                    $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25)
            """,
            report_id, number, actor.organisation, device["id"], new_token(), submission_key, actor.id,
            actor.care_unit, order["id"], *report_values(data, photo),
        )
    return order


async def repair_orders(actor: Actor, limit: int = 100) -> list[dict]:
    """The repairs the prescriber's unit ordered in Runda, newest first, with their status.
    No patient data: the device and the order say enough."""
    rows = await db.fetch(Sql(
        """
        SELECT r.number AS report_number, r.received_at, r.work_order, r.status, r.answer, r.handled_at,
               d.individnummer, coalesce(d.category_name, 'Hjälpmedel') AS category_name,
               :ordered_by_name AS ordered_by_name
        FROM fault_report r JOIN LATERAL (:device) d ON true
        WHERE r.organisation = :org AND r.care_unit = :unit AND r.channel = 'prescriber'
        ORDER BY r.received_at DESC, r.id DESC LIMIT :limit
        """,
        org=actor.organisation, unit=actor.care_unit, limit=limit, device=device_row(db.raw("r.device")),
        ordered_by_name=staff_name(db.raw("r.ordered_by")),
    ))
    orders = await workorders.orders_by_id([r["work_order"] for r in rows if r["work_order"]])
    result = []
    for row in rows:
        item = dict(row)
        item["order"] = orders.get(item["work_order"])
        item["stage"] = stage_of(item, item["order"])
        result.append(item)
    return result
