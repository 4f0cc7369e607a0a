"""Coordinators' triage: the queue of new reports, one report with its device and holder
(audit-logged), and turning it into a work order or answering and closing it."""

from __future__ import annotations

from backend import db
from backend.accounts.service import Actor
from backend.audit.service import record_patient_reads
from backend.db import Sql
from backend.devices.service import device_row
from backend.faults.categories import problem_labels
from backend.faults.errors import AlreadyHandled, FaultError, NotFound
from backend.faults.reporting import BRING_IN, REPLACEMENT, USABLE, describe_for_work_order, site_contact_for
from backend.patients.service import PatientNotVisible, patient_brief, visible_names
from backend.visits import service as visits
from backend.workorders import service as workorders
from backend.workorders.tables import WorkOrderType

QUEUE_LIMIT = 200
HISTORY_LIMIT = 10  # the device's latest orders, beside the report
# What a coordinator turns a report into; urgency makes it akut AU whatever the type.
TRIAGE_TYPES = (WorkOrderType.repair_on_site, WorkOrderType.repair_hmc, WorkOrderType.quick_service,
                WorkOrderType.technical_review)


async def triage_queue(actor: Actor) -> list[dict]:
    """New reports, those whose device cannot be used at all first; the holders' names are
    shown, so each is an audited read."""
    rows = await db.fetch(Sql(
        """
        SELECT r.id, r.number, r.received_at, r.problems, r.description, r.usable, r.needs_replacement,
               r.channel, d.individnummer, d.holder, d.category_code,
               coalesce(d.category_name, 'Hjälpmedel') AS category_name, p.given_name, p.family_name
        FROM fault_report r JOIN LATERAL (:device) d ON true LEFT JOIN LATERAL (:holder) p ON true
        WHERE r.organisation = :org AND r.status = 'new'
        ORDER BY (r.usable = 'no') DESC, r.received_at, r.id
        LIMIT :limit
        """,
        org=actor.organisation, limit=QUEUE_LIMIT, device=device_row(db.raw("r.device")),
        holder=visible_names(actor, db.raw("d.holder")),
    ))
    reports = []
    for row in rows:
        report = dict(row)
        report["problem_labels"] = problem_labels(report["category_code"], report["problems"])
        report["usable_label"] = USABLE[report["usable"]]
        reports.append(report)
    await record_patient_reads(actor, [r["holder"] for r in reports if r["holder"]], "fault_queue")
    return reports


async def _report_row(organisation_id: int, report_id: int, *, lock: bool = False) -> dict:
    row = await db.fetchrow(Sql(
        f"""
        SELECT r.*, d.individnummer, d.holder, d.device_status, d.category_code,
               coalesce(d.category_name, 'Hjälpmedel') AS category_name, d.article_name
        FROM fault_report r JOIN LATERAL (:device) d ON true
        WHERE r.id = :report AND r.organisation = :org {'FOR UPDATE OF r' if lock else ''}
        """,
        report=report_id, org=organisation_id, device=device_row(db.raw("r.device")),
    ))
    if row is None:
        raise NotFound()
    return dict(row)


async def triage_report(actor: Actor, report_id: int) -> dict:
    """One report with its device, the device's holder and recent history; the holder's read is audited."""
    report = await _report_row(actor.organisation, report_id)
    patient = None
    if report["holder"] is not None:
        try:
            patient = await patient_brief(actor, report["holder"], "fault_triage")
        except PatientNotVisible:
            patient = None
    report["problem_labels"] = problem_labels(report["category_code"], report["problems"])
    report["usable_label"] = USABLE[report["usable"]]
    report["can_bring_in_label"] = BRING_IN[report["can_bring_in"]]
    report["needs_replacement_label"] = REPLACEMENT[report["needs_replacement"]]
    report["has_photo"] = report.pop("photo") is not None
    orders = await workorders.orders_by_id([report["work_order"]] if report["work_order"] else [])
    return {"report": report, "patient": patient, "order": orders.get(report["work_order"]),
            "history": await workorders.device_history(report["device"], limit=HISTORY_LIMIT)}


def default_type(report: dict) -> str:
    """A device that can be brought in is repaired at the HMC; otherwise on site."""
    return WorkOrderType.repair_hmc.value if report["can_bring_in"] == "yes" else WorkOrderType.repair_on_site.value


async def triage_to_work_order(actor: Actor, report_id: int, *, type: str, urgent: bool, note: str = "") -> dict:
    """Turn a new report into a repair work order (channel web), the clock starting when the
    report came in. The report links to the order; its photo goes with it."""
    if type not in {t.value for t in TRIAGE_TYPES}:
        raise FaultError("Välj typ av arbetsorder.", "type")
    if len(note) > 1000:
        raise FaultError("Anteckningen får vara högst 1000 tecken.", "note")
    order_type = WorkOrderType.urgent_repair.value if urgent else type
    async with db.transaction():
        report = await _report_row(actor.organisation, report_id, lock=True)
        if report["status"] != "new":
            raise AlreadyHandled()
        order = await workorders.create_work_order(
            organisation_id=actor.organisation, type=order_type, device_id=report["device"],
            description=describe_for_work_order(report, report["category_code"], urgent=urgent, note=note),
            site_contact=site_contact_for(report),
            channel="web", actor_id=actor.id, received_at=report["received_at"],
        )
        if report["photo"] is not None:
            await visits.attach_report_photo(
                order["id"], actor.id, content=report["photo"], content_type=report["photo_content_type"],
                width=report["photo_width"], height=report["photo_height"],
                caption=f"Foto från felanmälan {report['number']}",
            )
        await db.execute(
            "UPDATE fault_report SET status = 'ordered', work_order = $2, handled_by = $3, handled_at = now() "
            "WHERE id = $1",
            report_id, order["id"], actor.id,
        )
    return order


async def close_report(actor: Actor, report_id: int, answer: str) -> str:
    """Answer the reporter and close without an order; the answer shows on their status page."""
    if len(answer) < 5:
        raise FaultError("Skriv ett svar till den som anmälde.", "answer")
    if len(answer) > 1000:
        raise FaultError("Svaret får vara högst 1000 tecken.", "answer")
    async with db.transaction():
        report = await _report_row(actor.organisation, report_id, lock=True)
        if report["status"] != "new":
            raise AlreadyHandled()
        await db.execute(
            "UPDATE fault_report SET status = 'closed', answer = $2, handled_by = $3, handled_at = now() "
            "WHERE id = $1",
            report_id, answer, actor.id,
        )
    return report["number"]


async def report_photo(actor: Actor, report_id: int) -> tuple[bytes, str]:
    """The report's photo; the read is audited against the device's holder, as the report's is."""
    row = await db.fetchrow(Sql(
        "SELECT r.photo, r.photo_content_type, d.holder FROM fault_report r JOIN LATERAL (:device) d ON true "
        "WHERE r.id = :report AND r.organisation = :org AND r.photo IS NOT NULL",
        report=report_id, org=actor.organisation, device=device_row(db.raw("r.device")),
    ))
    if row is None:
        raise NotFound()
    if row["holder"] is not None:
        await record_patient_reads(actor, [row["holder"]], "fault_report_photo")
    return row["photo"], row["photo_content_type"]
