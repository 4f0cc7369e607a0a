"""Recalls and field safety notices (säkerhetsmeddelanden): a coordinator enters the notice, Runda
finds every unit it names among the region's devices, creates one work order per unit in one step
(idempotently: never two for a unit and a notice), follows each unit's outcome and closes the
notice when every unit is settled, with a confirmation for the manufacturer.

No patient data is shown or exported: a unit is at a patient, in the depot or out of use, and the
holder's home municipality is counted (as the KPIs count it); names and addresses stay on the
device's and the order's own pages, behind their own access rules.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import asyncpg

from backend import db
from backend.accounts.service import Actor
from backend.db import Sql, raw
from backend.devices import service as devices
from backend.errors import DomainError, SeveralErrors
from backend.jobs import queue
from backend.jobs import service as jobs
from backend.organisations import service as organisations
from backend.patients import service as patients
from backend.recalls.selection import Criteria, SerialRange, SerialRangeError, undecidable
from backend.recalls.tables import RECALL_ACTION_LABELS, RecallAction
from backend.workorders import service as workorders

PAGE_SIZE = 100
# Up to this many units get their orders in the request; a notice naming more (a national recall
# names tens of thousands) has them made by the job queue, ORDER_BATCH at a time, with progress.
ORDERS_AT_ONCE = 300
ORDER_BATCH = 500
ORDERS_TASK = "recalls.create_orders"
MAX_LOTS = 100
EARLIEST_MANUFACTURING_DATE = date(1950, 1, 1)

# Where a unit is now: what the notice page counts and the manufacturer's confirmation says.
PLACEMENT_LABELS = {"patient": "Hos patient", "depot": "I förrådet", "out_of_use": "Ur bruk"}
# How far a unit has come. Every outcome but "open" settles it; a notice closes when all are.
OUTCOME_LABELS = {
    "done": "Åtgärdad",  # its order completed
    "not_reached": "Ej nådd",  # its order could not be done, or was makulerad with a reason
    "not_found": "Ej hittad",  # marked by a coordinator
    "condemned": "Utdömd",  # condemned before the notice reached it: no order is made
    "open": "Pågår",
}
SETTLED = ("done", "not_reached", "not_found", "condemned")


class RecallError(DomainError):
    """A change to a notice was refused; nothing was written."""


class RecallErrors(SeveralErrors, RecallError):
    """Several fields wrong at once."""


class RecallNotFound(Exception):
    pass


@dataclass(frozen=True)
class NoticeFields:
    """A notice as entered: which units (articles and the criteria) and what to do by when."""

    title: str
    manufacturer: str
    articles: tuple[int, ...]
    action: str
    deadline: date | None
    reference: str = ""
    serial_from: str = ""
    serial_to: str = ""
    made_from: date | None = None
    made_to: date | None = None
    lot_numbers: tuple[str, ...] = ()
    instructions: str = ""
    problems: tuple = field(default=())  # what the form could not read, shown with the rest


def _raise_any(errors: list[tuple[str | None, str]]) -> None:
    if len(errors) == 1:
        raise RecallError(errors[0][1], errors[0][0])
    if errors:
        raise RecallErrors(errors)


async def check(organisation_id: int, fields: NoticeFields, today: date) -> Criteria:
    """The units the notice names, or every wrong field refused at once (Swedish, by field)."""
    errors: list[tuple[str | None, str]] = list(fields.problems)
    wrong = {name for name, _ in errors}

    def refuse(name: str, message: str) -> None:
        if name not in wrong:
            errors.append((name, message))
            wrong.add(name)

    if not fields.title.strip():
        refuse("title", "Skriv meddelandets rubrik, som tillverkaren skrev den.")
    elif len(fields.title.strip()) > 200:
        refuse("title", "Rubriken får vara högst 200 tecken.")
    if not fields.manufacturer.strip():
        refuse("manufacturer", "Skriv tillverkarens namn.")
    elif len(fields.manufacturer.strip()) > 100:
        refuse("manufacturer", "Tillverkarens namn får vara högst 100 tecken.")
    if len(fields.reference.strip()) > 100:
        refuse("reference", "Tillverkarens referens får vara högst 100 tecken.")
    if not fields.articles:
        refuse("articles", "Välj minst en artikel som meddelandet gäller.")
    else:
        known = {a["id"] for a in await devices.articles_by_manufacturer(organisation_id)}
        if not set(fields.articles) <= known:
            refuse("articles", "Välj artiklarna ur artikelregistret.")
    serial_range = None
    serial_from, serial_to = fields.serial_from.strip(), fields.serial_to.strip()
    if len(serial_from) > 60 or len(serial_to) > 60:
        refuse("serial_from", "Ett serienummer får vara högst 60 tecken.")
    elif bool(serial_from) != bool(serial_to):
        refuse("serial_to" if serial_from else "serial_from",
               "Ange både första och sista serienumret i intervallet, eller inget av dem.")
    elif serial_from:
        try:
            serial_range = SerialRange.parse(serial_from, serial_to)
        except SerialRangeError as exc:
            refuse("serial_from", str(exc))
    for name, made in (("made_from", fields.made_from), ("made_to", fields.made_to)):
        if made is not None and made > today:
            refuse(name, "Tillverkningsdatumet kan inte ligga i framtiden.")
        elif made is not None and made < EARLIEST_MANUFACTURING_DATE:
            refuse(name, "Tillverkningsdatumet kan inte vara före 1950.")
    if fields.made_from and fields.made_to and fields.made_from > fields.made_to:
        refuse("made_to", "Tillverkningsperiodens slut kan inte vara före dess början.")
    if len(fields.lot_numbers) > MAX_LOTS:
        refuse("lot_numbers", f"Ange högst {MAX_LOTS} lotnummer. Dela upp meddelandet om det gäller fler.")
    elif any(len(lot) > 60 for lot in fields.lot_numbers):
        refuse("lot_numbers", "Ett lotnummer får vara högst 60 tecken.")
    if not (serial_from or fields.made_from or fields.made_to or fields.lot_numbers) and not wrong & {
            "serial_from", "serial_to", "made_from", "made_to", "lot_numbers"}:
        refuse("serial_from", "Ange vilka enheter som berörs: ett serienummerintervall, en tillverkningsperiod "
                              "eller lotnummer.")
    if fields.action not in {a.value for a in RecallAction}:
        refuse("action", "Välj vilken åtgärd meddelandet kräver.")
    if fields.deadline is None:
        refuse("deadline", "Ange när åtgärden ska vara klar.")
    elif fields.deadline < today:
        refuse("deadline", "Sista dagen för åtgärden har redan passerat.")
    if len(fields.instructions) > 4000:
        refuse("instructions", "Instruktionen får vara högst 4000 tecken.")
    _raise_any(errors)
    return Criteria(tuple(sorted(set(fields.articles))), serial_range, fields.made_from, fields.made_to,
                    fields.lot_numbers)


async def create_recall(actor: Actor, fields: NoticeFields, today: date) -> int:
    """Enter a notice; the units it names are found from then on (and get orders in one step)."""
    criteria = await check(actor.organisation, fields, today)
    async with db.transaction():
        recall_id = await db.fetchval(
            """
            INSERT INTO recall (organisation, title, reference, manufacturer, serial_from, serial_to, made_from,
                                made_to, lot_numbers, action, instructions, deadline, created_by)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id
            """,
            actor.organisation, fields.title.strip(), fields.reference.strip(), fields.manufacturer.strip(),
            fields.serial_from.strip(), fields.serial_to.strip(), fields.made_from, fields.made_to,
            list(fields.lot_numbers), fields.action, fields.instructions.strip(), fields.deadline, actor.id)
        await db.execute(
            "INSERT INTO recall_article (organisation, recall, article) SELECT $1, $2, unnest($3::int[])",
            actor.organisation, recall_id, list(criteria.articles))
    return recall_id


# --- reading ---------------------------------------------------------------------------------------


async def _recall(organisation_id: int, recall_id: int, *, lock: bool = False) -> dict:
    row = await db.fetchrow(
        "SELECT r.*, ARRAY(SELECT article FROM recall_article WHERE recall = r.id ORDER BY article) AS articles "
        "FROM recall r WHERE r.id = $1 AND r.organisation = $2" + (" FOR UPDATE" if lock else ""),
        recall_id, organisation_id)
    if row is None:
        raise RecallNotFound()
    return dict(row)


def _criteria(recall: dict) -> Criteria:
    serial_range = SerialRange.parse(recall["serial_from"], recall["serial_to"]) if recall["serial_from"] else None
    return Criteria(tuple(recall["articles"]), serial_range, recall["made_from"], recall["made_to"],
                    tuple(recall["lot_numbers"]))


def _affected(recall: dict) -> Sql:
    """Every unit the notice names, and every unit it has reached before (a unit whose serial
    number was corrected since stays on it), with where it is, its order and its outcome."""
    condition = Sql("((:named) OR d.id = ANY(ARRAY(SELECT device FROM recall_device WHERE recall = :recall)))",
                    named=_criteria(recall).condition(recall["organisation"]), recall=recall["id"])
    return Sql(
        """
        SELECT i.*, rd.work_order, rd.not_found_at, rd.not_found_note, w.number AS order_number,
               w.status AS order_status, w.outcome AS order_outcome, w.completed_at,
               :municipality AS municipality,
               CASE WHEN i.status = 'condemned' OR (i.status = 'out_of_use' AND i.holder IS NULL) THEN 'out_of_use'
                    WHEN i.holder IS NOT NULL THEN 'patient' ELSE 'depot' END AS placement,
               CASE WHEN w.status = 'completed' THEN 'done'
                    WHEN rd.not_found_at IS NOT NULL THEN 'not_found'
                    WHEN w.status IN ('not_completed', 'cancelled') THEN 'not_reached'
                    WHEN w.status IS NULL AND i.status = 'condemned' THEN 'condemned'
                    ELSE 'open' END AS outcome
        FROM (:identity) i
        LEFT JOIN recall_device rd ON rd.recall = :recall AND rd.device = i.device_id
        LEFT JOIN LATERAL (:order) w ON true
        LEFT JOIN LATERAL (:home) h ON true
        """,
        identity=devices.identity_where(condition), recall=recall["id"],
        order=workorders.order_outcome(raw("rd.work_order")),
        home=patients.equal_access_traits(raw("i.holder")),
        municipality=organisations.cost_bearer_name(raw("h.cost_bearer")))


def _labelled(row) -> dict:
    unit = dict(row)
    unit["placement_label"] = PLACEMENT_LABELS[unit["placement"]]
    unit["outcome_label"] = OUTCOME_LABELS[unit["outcome"]]
    if unit.get("order_status"):
        unit["order_status_label"] = workorders.STATUS_LABELS[unit["order_status"]]
    return unit


async def _counts(recall: dict) -> dict:
    # GROUPING(): a bit set for each column the row is not grouped by (placement 4, outcome 2, municipality 1).
    rows = await db.fetch(Sql(
        """
        SELECT placement, outcome, municipality, GROUPING(placement, outcome, municipality) AS grouped,
               count(*) AS units
        FROM (:affected) u GROUP BY GROUPING SETS ((placement), (outcome), (municipality), ())
        """, affected=_affected(recall)))
    counts = {"total": 0, "placement": {}, "outcome": {}, "municipality": []}
    for r in rows:
        if r["grouped"] == 7:
            counts["total"] = r["units"]
        elif r["grouped"] == 3:
            counts["placement"][r["placement"]] = r["units"]
        elif r["grouped"] == 5:
            counts["outcome"][r["outcome"]] = r["units"]
        else:
            counts["municipality"].append((r["municipality"] or "Ingen (i förrådet eller ur bruk)", r["units"]))
    counts["municipality"].sort(key=lambda m: (-m[1], m[0]))
    counts["settled"] = sum(counts["outcome"].get(o, 0) for o in SETTLED)
    counts["open"] = counts["outcome"].get("open", 0)
    counts["undecided"] = await _undecided(recall, count=True)
    counts["without_order"] = await db.fetchval(Sql(
        "SELECT count(*) FROM (:affected) u WHERE u.work_order IS NULL AND u.not_found_at IS NULL "
        "AND u.status <> 'condemned'", affected=_affected(recall)))
    return counts


async def _undecided(recall: dict, *, count: bool = False, limit: int = 50):
    """The units of the notice's articles that it can neither name nor rule out for want of data
    (no serial number, manufacturing date or lot): their number, or the first `limit` of them."""
    units = devices.identity_where(
        Sql(":undecidable AND NOT d.id = ANY(ARRAY(SELECT device FROM recall_device WHERE recall = :recall))",
            undecidable=undecidable(_criteria(recall), recall["organisation"]), recall=recall["id"]))
    if count:
        return await db.fetchval(Sql("SELECT count(*) FROM (:units) u", units=units))
    rows = await db.fetch(Sql(
        "SELECT u.device_id, u.individnummer, u.article_number, u.article_name, u.serial_number, u.lot_number, "
        "u.manufacturing_date FROM (:units) u ORDER BY u.individnummer LIMIT :limit", units=units, limit=limit))
    return [dict(r) for r in rows]


async def _describe(recall: dict) -> dict:
    articles = {a["id"]: a for a in await devices.articles_by_manufacturer(recall["organisation"])}
    recall["article_names"] = [f"{articles[a]['article_number']} {articles[a]['name']}" for a in recall["articles"]
                               if a in articles]
    recall["action_label"] = RECALL_ACTION_LABELS[RecallAction(recall["action"])]
    recall["criteria_text"] = criteria_text(recall)
    return recall


def criteria_text(recall: dict) -> str:
    """The units named, in words (the page, the PDF)."""
    parts = []
    if recall["serial_from"]:
        parts.append(f"serienummer {recall['serial_from']}–{recall['serial_to']}")
    if recall["made_from"] or recall["made_to"]:
        start = recall["made_from"].isoformat() if recall["made_from"] else "…"
        end = recall["made_to"].isoformat() if recall["made_to"] else "…"
        parts.append(f"tillverkade {start}–{end}")
    if recall["lot_numbers"]:
        parts.append("lot " + ", ".join(recall["lot_numbers"]))
    return " och ".join(parts)


async def recalls(organisation_id: int) -> list[dict]:
    """The organisation's notices, open ones first, newest first: with how many units they have
    reached and how many of those are settled."""
    rows = await db.fetch(Sql(
        """
        SELECT r.id, r.title, r.reference, r.manufacturer, r.action, r.deadline, r.created_at, r.closed_at,
               count(rd.id) AS reached,
               count(rd.id) FILTER (WHERE w.status = 'completed' OR rd.not_found_at IS NOT NULL
                                    OR w.status IN ('not_completed', 'cancelled')) AS settled
        FROM recall r LEFT JOIN recall_device rd ON rd.recall = r.id
        LEFT JOIN LATERAL (:order) w ON true
        WHERE r.organisation = :org
        GROUP BY r.id ORDER BY r.closed_at IS NOT NULL, r.created_at DESC, r.id DESC
        """, order=workorders.order_outcome(raw("rd.work_order")), org=organisation_id))
    return [{**dict(r), "action_label": RECALL_ACTION_LABELS[RecallAction(r["action"])]} for r in rows]


async def for_device(organisation_id: int, device_id: int) -> list[dict]:
    """The notices that have reached the device (its order made, or marked not found), newest
    first, for its register page: title, the manufacturer's reference, deadline, and whether the
    notice is closed."""
    rows = await db.fetch(
        "SELECT r.id, r.title, r.reference, r.deadline, r.closed_at FROM recall_device rd "
        "JOIN recall r ON r.id = rd.recall WHERE rd.device = $2 AND r.organisation = $1 "
        "ORDER BY r.created_at DESC, r.id DESC", organisation_id, device_id)
    return [dict(r) for r in rows]


async def notice(organisation_id: int, recall_id: int, page: int = 1) -> dict:
    """The notice, one page of the units it names (by individnummer) and the counts of all of them."""
    recall = await _describe(await _recall(organisation_id, recall_id))
    page = max(1, page)
    rows = await db.fetch(Sql(
        "SELECT * FROM (:affected) u ORDER BY u.individnummer LIMIT :limit OFFSET :offset",
        affected=_affected(recall), limit=PAGE_SIZE + 1, offset=(page - 1) * PAGE_SIZE))
    counts = await _counts(recall)
    undecided = await _undecided(recall) if counts["undecided"] else []
    progress = await orders_progress(organisation_id, recall_id) if recall["orders_queued_at"] else None
    return {"recall": recall, "units": [_labelled(r) for r in rows[:PAGE_SIZE]], "more": len(rows) > PAGE_SIZE,
            "progress": progress,
            "page": page, "counts": counts, "undecided": undecided,
            "may_close": recall["closed_at"] is None and counts["open"] == 0}


async def confirmation(organisation_id: int, recall_id: int) -> dict:
    """The notice and every unit with its identity and outcome, for the manufacturer: no patient
    data at all (not the municipality either)."""
    recall = await _describe(await _recall(organisation_id, recall_id))
    rows = await db.fetch(Sql(
        """
        SELECT u.individnummer, u.serial_number, u.lot_number, u.manufacturing_date, u.udi, u.article_number,
               u.article_name, u.placement, u.outcome, u.order_number, u.completed_at, u.not_found_note,
               u.status, u.holder, u.device_id
        FROM (:affected) u ORDER BY u.individnummer
        """, affected=_affected(recall)))
    units = []
    for row in rows:
        unit = _labelled(row)
        unit.pop("holder")  # only `placement` says where it was
        units.append(unit)
    return {"recall": recall, "units": units, "counts": await _counts(recall),
            "centre": await db.fetchval(Sql("SELECT :name", name=organisations.organisation_name(
                Sql(":org", org=organisation_id))))}


# --- acting on a notice ------------------------------------------------------------------------------


def _order_description(recall: dict, at_patient: bool) -> str:
    reference = f" {recall['reference']}" if recall["reference"] else ""
    if recall["action"] == RecallAction.pickup.value:
        text = (f"Hämtning och karantän enligt säkerhetsmeddelande{reference} från {recall['manufacturer']}: "
                f"{recall['title']}.")
        text += (" Hämta hjälpmedlet hos brukaren, lämna ersättning vid behov, och ställ det i karantän på HMC."
                 if at_patient else " Hjälpmedlet finns på HMC: ställ det i karantän.")
    else:
        text = (f"Kontroll enligt säkerhetsmeddelande{reference} från {recall['manufacturer']}: {recall['title']}."
                + (" Utförs hos brukaren." if at_patient else " Hjälpmedlet finns på HMC."))
    if recall["instructions"]:
        text += f"\n\n{recall['instructions']}"
    return text


@dataclass(frozen=True)
class OrdersStarted:
    made: int  # orders made in the request
    queued: int  # units whose orders the job queue makes


async def create_orders(actor: Actor, recall_id: int) -> OrdersStarted:
    """One work order (teknisk översyn, due by the notice's deadline) for every unit the notice names
    that has none yet, at the patient or at the HMC. Up to ORDERS_AT_ONCE units get theirs now; more
    are handed to the job queue (`make_queued_orders`), and the notice shows how far it has come.
    Run twice, or by two coordinators at once, it makes no second order for a unit: the notice's row
    is locked for each batch, and the database holds one row per notice and unit."""
    async with db.transaction():
        recall = await _recall(actor.organisation, recall_id, lock=True)
        if recall["closed_at"] is not None:
            raise RecallError("Säkerhetsmeddelandet är stängt. Inga fler arbetsordrar skapas för det.")
        if recall["orders_queued_at"] is not None and await _job_live(recall):
            raise RecallError("Arbetsordrarna skapas redan i bakgrunden. Vänta tills det är klart.")
        # Condemned units get no order (nothing to check or fetch); units condemned later keep theirs.
        await db.execute(Sql(
            """
            INSERT INTO recall_device (organisation, recall, device)
            SELECT :org, :recall, i.device_id FROM (:named) i WHERE i.status <> 'condemned'
            ON CONFLICT (recall, device) DO NOTHING
            """, org=actor.organisation, recall=recall_id,
            named=devices.identity_where(_criteria(recall).condition(actor.organisation))))
        waiting = await db.fetchval(
            "SELECT count(*) FROM recall_device WHERE recall = $1 AND work_order IS NULL AND not_found_at IS NULL",
            recall_id)
        if waiting <= ORDERS_AT_ONCE:
            await _clear_queued(recall_id)  # a stopped job's leftovers, if any, are made now
            return OrdersStarted(made=await _order_batch(recall, actor.id, ORDERS_AT_ONCE), queued=0)
        job = await queue.defer(ORDERS_TASK, recall_id=recall_id, organisation_id=actor.organisation,
                                actor_id=actor.id)
        await db.execute("UPDATE recall SET orders_queued_at = now(), orders_queued_by = $2, orders_job = $3 "
                         "WHERE id = $1", recall_id, actor.id, job)
        return OrdersStarted(made=0, queued=waiting)


async def _job_live(recall: dict) -> bool:
    """The notice's orders job will still run (it has not failed, been cancelled or pruned)."""
    return recall["orders_job"] is not None and not await db.fetchval(
        Sql("SELECT :stopped", stopped=jobs.stopped_sql(recall["orders_job"])))


async def _clear_queued(recall_id: int) -> None:
    await db.execute("UPDATE recall SET orders_queued_at = NULL, orders_queued_by = NULL, orders_job = NULL "
                     "WHERE id = $1", recall_id)


async def _order_batch(recall: dict, actor_id: int | None, limit: int) -> int:
    """Orders for up to `limit` of the notice's units that have none (in the caller's transaction,
    with the notice's row locked); how many were made."""
    waiting = await db.fetch(Sql(
        """
        SELECT rd.id, i.device_id, i.holder FROM recall_device rd JOIN LATERAL (:identity) i ON true
        WHERE rd.recall = :recall AND rd.work_order IS NULL AND rd.not_found_at IS NULL
        ORDER BY i.individnummer LIMIT :limit
        """, identity=devices.identity_where(Sql("d.id = rd.device")), recall=recall["id"], limit=limit))
    for unit in waiting:
        order = await workorders.create_work_order(
            organisation_id=recall["organisation"], type=workorders.WorkOrderType.technical_review.value,
            device_id=unit["device_id"], description=_order_description(recall, unit["holder"] is not None),
            channel=workorders.Channel.hmc.value, actor_id=actor_id, finish_by=recall["deadline"])
        await db.execute("UPDATE recall_device SET work_order = $2 WHERE id = $1", unit["id"], order["id"])
    return len(waiting)


async def make_queued_orders(organisation_id: int, recall_id: int, actor_id: int | None,
                             batch_size: int = ORDER_BATCH) -> int:
    """The job: the notice's remaining orders, a batch per transaction, so a worker killed midway
    leaves whole batches behind and the retried job goes on from there; how many it made. A notice
    closed or gone meanwhile stops it."""
    made = 0
    while True:
        async with db.transaction():
            try:
                recall = await _recall(organisation_id, recall_id, lock=True)
            except RecallNotFound:
                return made
            batch = 0 if recall["closed_at"] is not None else await _order_batch(recall, actor_id, batch_size)
            made += batch
            if batch < batch_size:
                await _clear_queued(recall_id)
                return made


async def orders_progress(organisation_id: int, recall_id: int) -> dict:
    """How far the job queue has come with the notice's orders: units with an order of all reached;
    `stopped` when its job failed or was cancelled before it was done (the orders can be asked
    for again: those already made are not made twice)."""
    recall = await _recall(organisation_id, recall_id)
    live = recall["orders_queued_at"] is not None and await _job_live(recall)
    row = await db.fetchrow(
        "SELECT count(*) FILTER (WHERE work_order IS NOT NULL OR not_found_at IS NOT NULL) AS done, count(*) AS total "
        "FROM recall_device WHERE recall = $1", recall_id)
    total = row["total"] or 0
    return {"recall_id": recall_id, "running": live, "stopped": recall["orders_queued_at"] is not None and not live,
            "done": row["done"],
            "total": total, "percent": 100 if not total else round(100 * row["done"] / total)}


async def mark_not_found(actor: Actor, recall_id: int, device_id: int, note: str) -> None:
    """The unit could not be found (ej hittad): it is settled so. Its order, if any, stays as it is
    (makulera it on the order's page); an order completed after all counts as done."""
    if len(note) > 2000:
        raise RecallError("Anteckningen får vara högst 2000 tecken.", "note")
    async with db.transaction():
        recall = await _recall(actor.organisation, recall_id, lock=True)
        if recall["closed_at"] is not None:
            raise RecallError("Säkerhetsmeddelandet är stängt.")
        named = await db.fetchval(Sql("SELECT count(*) FROM (:affected) u WHERE u.device_id = :device",
                                      affected=_affected(recall), device=device_id))
        if not named:
            raise RecallError("Hjälpmedlet berörs inte av säkerhetsmeddelandet.", "device")
        try:
            await db.execute(
                """
                INSERT INTO recall_device (organisation, recall, device, not_found_at, not_found_by, not_found_note)
                VALUES ($1, $2, $3, now(), $4, $5)
                ON CONFLICT (recall, device) DO UPDATE
                SET not_found_at = now(), not_found_by = $4, not_found_note = $5
                """, actor.organisation, recall_id, device_id, actor.id, note.strip())
        except asyncpg.ForeignKeyViolationError:
            raise RecallError("Hjälpmedlet finns inte.", "device") from None


async def close(actor: Actor, recall_id: int, note: str) -> None:
    """Close the notice once every unit is settled (done, not reached, not found or condemned)."""
    if len(note) > 4000:
        raise RecallError("Anteckningen får vara högst 4000 tecken.", "closing_note")
    async with db.transaction():
        recall = await _recall(actor.organisation, recall_id, lock=True)
        if recall["closed_at"] is not None:
            raise RecallError("Säkerhetsmeddelandet är redan stängt.")
        open_units = await db.fetchval(Sql("SELECT count(*) FROM (:affected) u WHERE u.outcome = 'open'",
                                           affected=_affected(recall)))
        if open_units:
            raise RecallError(f"{open_units} hjälpmedel är inte klara än: varje hjälpmedel behöver en avslutad "
                              "eller makulerad arbetsorder, eller markeras som ej hittat.", "closing_note")
        await db.execute("UPDATE recall SET closed_at = now(), closed_by = $2, closing_note = $3 WHERE id = $1",
                         recall_id, actor.id, note.strip())
