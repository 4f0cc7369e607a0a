"""Work-order rules: types, service-level clocks and their state; the lists people plan from."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Mapping

from backend import db
from backend.accounts.service import Actor
from backend.accounts.tables import Role
from backend.workdays import STOCKHOLM, add_working_days, working_days_between
from backend.workorders.tables import Channel, NotCompletedReason, Outcome, WorkOrderStatus, WorkOrderType

TYPE_LABELS = {
    WorkOrderType.repair_hmc: "AU på HMC",
    WorkOrderType.repair_on_site: "AU hos brukare",
    WorkOrderType.quick_service: "Snabbservice",
    WorkOrderType.urgent_repair: "Akut AU",
    WorkOrderType.technical_review: "Teknisk översyn",
    WorkOrderType.maintenance: "FU",
    WorkOrderType.installation: "Installation/anpassning",
    WorkOrderType.fitting: "Utprovning",
}

STATUS_LABELS = {
    WorkOrderStatus.new: "Ny",
    WorkOrderStatus.planned: "Planerad",
    WorkOrderStatus.in_progress: "Pågår",
    WorkOrderStatus.paused: "Pausad",
    WorkOrderStatus.not_completed: "Ej utförd",
    WorkOrderStatus.completed: "Klar",
    WorkOrderStatus.cancelled: "Makulerad",
}

OUTCOME_LABELS = {
    Outcome.fixed: "Åtgärdat",
    Outcome.needs_follow_up: "Behöver uppföljning",
    Outcome.taken_to_workshop: "Taget till verkstaden",
    Outcome.replacement_left: "Ersättningshjälpmedel lämnat",
    Outcome.condemned: "Utdömt",
}

NOT_COMPLETED_LABELS = {
    NotCompletedReason.not_home: "Brukaren var inte hemma",
    NotCompletedReason.unreachable: "Gick inte att nå brukaren",
    NotCompletedReason.declined: "Brukaren tackade nej till besöket",
    NotCompletedReason.other: "Annat skäl",
}

# What happened to an order (work_order_event.kind), as the history shows it.
EVENT_LABELS = {
    "created": "Registrerad",
    "planned": "Planerad",
    "reordered": "Ny plats i dagens ordning",
    "started": "Påbörjad",
    "paused": "Pausad",
    "completed": "Slutförd",
    "not_completed": "Kunde inte utföras",
    "cancelled": "Makulerad",
    "safety_decision": "Beslut om underkänd säkerhetspunkt",
    "device_status": "Hjälpmedlets status ändrad",
    "fu_done": "FU registrerad",
    "conflict_applied": "Teknikerns sparade ändring tillämpad",
}

OPEN_STATUSES = frozenset(
    {WorkOrderStatus.new, WorkOrderStatus.planned, WorkOrderStatus.in_progress,
     WorkOrderStatus.paused, WorkOrderStatus.not_completed}
)

# Working days from receipt to start and to finish, per type (Västra Götaland's published
# rules). An organisation overrides any of them in organisation.clocks. Urgent repair's
# 8 working hours is kept as "finished by the next working day" at day resolution.
DEFAULT_CLOCKS: dict[str, dict[str, int]] = {
    WorkOrderType.repair_hmc: {"start": 3, "finish": 10},
    WorkOrderType.repair_on_site: {"start": 3, "finish": 10},
    WorkOrderType.quick_service: {"finish": 3},
    WorkOrderType.urgent_repair: {"finish": 1},
    WorkOrderType.technical_review: {"start": 10},
    WorkOrderType.maintenance: {},
    WorkOrderType.installation: {"start": 3},
    WorkOrderType.fitting: {"start": 15},
}

# The HMC is measured on repairs completed within 5 working days (target 88 %).
REPAIR_KPI_WORKING_DAYS = 5
REPAIR_TYPES = frozenset(
    {WorkOrderType.repair_hmc, WorkOrderType.repair_on_site, WorkOrderType.quick_service,
     WorkOrderType.urgent_repair}
)


@dataclass(frozen=True)
class DueDates:
    start: date | None
    finish: date | None


def clocks_for(organisation_clocks: Mapping[str, Mapping[str, int]] | None) -> dict[str, dict[str, int]]:
    merged = {str(k.value if hasattr(k, "value") else k): dict(v) for k, v in DEFAULT_CLOCKS.items()}
    for type_name, clock in (organisation_clocks or {}).items():
        merged.setdefault(type_name, {}).update(clock)
    return merged


def due_dates(order_type: str, received_on: date, clocks: Mapping[str, Mapping[str, int]]) -> DueDates:
    clock = clocks.get(str(order_type), {})
    start = add_working_days(received_on, clock["start"]) if "start" in clock else None
    finish = add_working_days(received_on, clock["finish"]) if "finish" in clock else None
    return DueDates(start=start, finish=finish)


def sla_state(status: str, start_due: date | None, finish_due: date | None, started: bool, today: date) -> str:
    """'on_time', 'due_today' or 'overdue' for an open order; 'closed' otherwise."""
    if status not in OPEN_STATUSES:
        return "closed"
    due = finish_due if (started or start_due is None) else start_due
    if due is None:
        return "on_time"
    if due < today:
        return "overdue"
    if due == today:
        return "due_today"
    return "on_time"


SLA_LABELS = {"on_time": "I tid", "due_today": "Förfaller idag", "overdue": "Försenad", "closed": "Avslutad"}


def repair_within_kpi(received_on: date, completed_on: date) -> bool:
    return working_days_between(received_on, completed_on) <= REPAIR_KPI_WORKING_DAYS


class WorkOrderError(Exception):
    """A rule refused the change; `message` is Swedish and meant for the person acting."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class WorkOrderNotFound(WorkOrderError):
    def __init__(self) -> None:
        super().__init__("Arbetsordern finns inte.")


class VersionConflict(WorkOrderError):
    """Someone changed the order since the page was opened; nothing was written."""

    def __init__(self, changed_by: str | None, changed_at: datetime | None) -> None:
        who = f" av {changed_by}" if changed_by else ""
        when = f" {changed_at.astimezone(STOCKHOLM):%Y-%m-%d %H:%M}" if changed_at else ""
        super().__init__(
            f"Arbetsordern har ändrats{who}{when} sedan du öppnade sidan. Det du skrev finns kvar nedan: "
            "kontrollera läget och skicka igen.")


class NotAssigned(WorkOrderError):
    """The order is not (or no longer) this technician's."""

    def __init__(self) -> None:
        super().__init__("Besöket är inte tilldelat dig (längre). Kontakta samordnaren.")


class WritesMissing(WorkOrderError):
    """The phone sent its completion before changes it made to the visit earlier had arrived."""

    def __init__(self, missing: int) -> None:
        super().__init__(
            f"{missing} {'ändring' if missing == 1 else 'ändringar'} som telefonen gjorde på besöket "
            "har inte kommit fram. Besöket slutförs först när allt har kommit fram.")


class NotOpen(WorkOrderError):
    def __init__(self, status: str) -> None:
        super().__init__(f"Arbetsordern är {STATUS_LABELS[WorkOrderStatus(status)].lower()} och kan inte ändras.")


# --- changing an order: lock it, check the version it was based on, apply ----------------


async def lock_order(actor: Actor, work_order_id: int, *, assigned: bool = True) -> dict:
    """The order, row-locked for this transaction; refused unless it is the technician's
    (assigned=False: whoever has it now, for work recorded after the fact)."""
    row = await db.fetchrow(
        """
        SELECT w.id, w.type, w.status, w.version, w.assignee, w.planned_date, w.device, w.organisation, w.number,
               w.patient, w.updated_at, k.fu_interval_days, d.status AS device_status
        FROM work_order w JOIN device d ON d.id = w.device JOIN article a ON a.id = d.article
        LEFT JOIN device_category k ON k.id = a.category
        WHERE w.id = $1 AND w.organisation = $2 FOR UPDATE OF w
        """,
        work_order_id, actor.organisation,
    )
    if row is None:
        raise WorkOrderNotFound()
    if assigned and actor.role is Role.technician and row["assignee"] != actor.id:
        raise NotAssigned()
    return dict(row)


async def check_version(order: dict, version: int) -> None:
    if order["version"] != version:
        last = await db.fetchrow(
            "SELECT e.at, s.name FROM work_order_event e LEFT JOIN staff_user s ON s.id = e.staff_user "
            "WHERE e.work_order = $1 ORDER BY e.id DESC LIMIT 1",
            order["id"],
        )
        raise VersionConflict(last["name"] if last else None, last["at"] if last else order["updated_at"])


async def apply_change(order: dict, assignments: str, *args: object) -> int:
    """Apply `assignments` to the locked order and bump its version; returns the new version."""
    return await db.fetchval(
        f"UPDATE work_order SET {assignments}, version = version + 1, updated_at = now() WHERE id = $1 "
        "RETURNING version",
        order["id"], *args,
    )


# --- creating orders -----------------------------------------------------------------


async def next_number(organisation_id: int, year: int) -> str:
    """The next AO-<year>-<n>: a counter row per organisation and year, taken under its row lock.

    The first number of a year continues from the highest already stored (demo data and
    imports load numbers directly)."""
    last = await db.fetchval(
        "UPDATE work_order_counter SET last_number = last_number + 1 "
        "WHERE organisation = $1 AND year = $2 RETURNING last_number",
        organisation_id, year,
    )
    if last is None:
        await db.execute(
            """
            INSERT INTO work_order_counter (organisation, year, last_number)
            SELECT $1, $2::int, coalesce(max(substring(number FROM '[0-9]+$')::int), 0)
            FROM work_order WHERE organisation = $1 AND number LIKE 'AO-' || $2::int || '-%'
            ON CONFLICT (organisation, year) DO NOTHING
            """,
            organisation_id, year,
        )
        return await next_number(organisation_id, year)
    return f"AO-{year}-{last:06d}"


async def create_work_order(*, organisation_id: int, type: str, device_id: int, description: str,
                            channel: str, actor_id: int | None = None, orderer_id: int | None = None,
                            care_unit_id: int | None = None, patient_id: int | None = None,
                            follow_up_of: int | None = None, received_at: datetime | None = None,
                            site_contact: str = "") -> dict:
    """A new order (status new) with its service-level due dates fixed from the organisation's
    clocks. The patient defaults to the device's current holder. Joins a surrounding transaction."""
    WorkOrderType(type), Channel(channel)  # a programming error, not user input, if these fail
    received_at = received_at or datetime.now(STOCKHOLM)
    org_clocks = await db.fetchval("SELECT clocks FROM organisation WHERE id = $1", organisation_id)
    if isinstance(org_clocks, str):
        org_clocks = json.loads(org_clocks)
    due = due_dates(type, received_at.astimezone(STOCKHOLM).date(), clocks_for(org_clocks))
    number = await next_number(organisation_id, received_at.astimezone(STOCKHOLM).year)
    row = await db.fetchrow(
        """
        INSERT INTO work_order (organisation, number, type, status, channel, device, patient, care_unit, orderer,
                                description, received_at, start_due, finish_due, follow_up_of, site_contact, updated_at)
        SELECT $1, $2, $3, 'new', $4, d.id, coalesce($6, d.holder), $7, $8, $9, $10, $11, $12, $13, $14, now()
        FROM device d WHERE d.id = $5 AND d.organisation = $1
        RETURNING id, number, version
        """,
        organisation_id, number, type, channel, device_id, patient_id, care_unit_id, orderer_id, description,
        received_at, due.start, due.finish, follow_up_of, site_contact,
    )
    if row is None:
        raise WorkOrderError("Hjälpmedlet finns inte.")
    await record_event(row["id"], actor_id, "created", TYPE_LABELS[WorkOrderType(type)])
    return dict(row)


async def record_event(work_order_id: int, actor_id: int | None, kind: str, detail: str = "") -> None:
    await db.execute(
        "INSERT INTO work_order_event (work_order, staff_user, kind, detail) VALUES ($1, $2, $3, $4)",
        work_order_id, actor_id, kind, detail,
    )


# --- lists ---------------------------------------------------------------------------

PAGE_SIZE = 50


async def order_counts(organisation_id: int) -> list[dict]:
    """Open work orders by type and status, for the coordinator's board."""
    rows = await db.fetch(
        """
        SELECT type, status, count(*) AS n FROM work_order
        WHERE organisation = $1 AND status = ANY($2::text[]) GROUP BY type, status
        """,
        organisation_id, [s.value for s in OPEN_STATUSES],
    )
    return [dict(r) for r in rows]


async def open_orders(organisation_id: int, *, status: str | None, type: str | None, page: int,
                      today: date) -> list[dict]:
    """Open orders without patient data: the number, device and clocks are enough to plan."""
    rows = await db.fetch(
        """
        SELECT w.id, w.number, w.type, w.status, w.received_at, w.planned_date, w.window_start, w.window_end,
               w.start_due, w.finish_due, w.started_at, d.individnummer, k.name AS category_name,
               s.name AS assignee_name
        FROM work_order w JOIN device d ON d.id = w.device JOIN article a ON a.id = d.article
        LEFT JOIN device_category k ON k.id = a.category LEFT JOIN staff_user s ON s.id = w.assignee
        WHERE w.organisation = $1 AND w.status = ANY($2::text[])
          AND ($3::text IS NULL OR w.status = $3) AND ($4::text IS NULL OR w.type = $4)
        ORDER BY coalesce(w.start_due, w.finish_due, w.planned_date) NULLS LAST, w.id
        LIMIT $5 OFFSET $6
        """,
        organisation_id, [s.value for s in OPEN_STATUSES], status, type, PAGE_SIZE, (page - 1) * PAGE_SIZE,
    )
    return [_with_labels(dict(r), today) for r in rows]


def _with_labels(order: dict, today: date) -> dict:
    order["type_label"] = TYPE_LABELS[WorkOrderType(order["type"])]
    order["status_label"] = STATUS_LABELS[WorkOrderStatus(order["status"])]
    state = sla_state(order["status"], order.get("start_due"), order.get("finish_due"),
                      order.get("started_at") is not None, today)
    order["sla"], order["sla_label"] = state, SLA_LABELS[state]
    return order


async def technician_day(actor_id: int, organisation_id: int, day: date, today: date) -> list[dict]:
    """The technician's visits on `day` in planned order, with what is needed at the door."""
    rows = await db.fetch(
        """
        SELECT w.id, w.number, w.type, w.status, w.description, w.planned_date, w.window_start, w.window_end,
               w.start_due, w.finish_due, w.started_at, w.patient, w.version,
               d.individnummer, k.name AS category_name, a.name AS article_name,
               p.given_name, p.family_name, p.street, p.postal_code, p.city, p.phone, p.door_code,
               p.access_notes, p.protected_identity
        FROM work_order w JOIN device d ON d.id = w.device JOIN article a ON a.id = d.article
        LEFT JOIN device_category k ON k.id = a.category LEFT JOIN patient p ON p.id = w.patient
        WHERE w.assignee = $1 AND w.organisation = $2 AND w.planned_date = $3 AND w.status <> 'cancelled'
        ORDER BY w.route_position NULLS LAST, w.window_start, w.id
        """,
        actor_id, organisation_id, day,
    )
    visits = []
    for row in rows:
        visit = _with_labels(dict(row), today)
        if visit["protected_identity"]:
            # skyddade personuppgifter: no address, door code or notes in a list.
            for key in ("street", "postal_code", "city", "door_code", "access_notes"):
                visit[key] = None
        visits.append(visit)
    return visits


async def day_ahead(actor_id: int, organisation_id: int, day: date) -> list[str]:
    """Every page the technician's visits on `day` need without signal: the day itself, each
    visit (with its checklist and the device's history), each device's card, the visit's
    photos and the parts list. The phone fetches and keeps them (see day.js)."""
    row = await db.fetchrow(
        """
        WITH day AS (
            SELECT w.id, d.individnummer, row_number() OVER (
                       ORDER BY w.route_position NULLS LAST, w.window_start, w.id) AS position
            FROM work_order w JOIN device d ON d.id = w.device
            WHERE w.assignee = $1 AND w.organisation = $2 AND w.planned_date = $3 AND w.status <> 'cancelled')
        SELECT coalesce((SELECT array_agg(id ORDER BY position) FROM day), '{}') AS orders,
               coalesce((SELECT array_agg(DISTINCT individnummer) FROM day), '{}') AS devices,
               coalesce((SELECT array_agg(ph.id ORDER BY ph.id) FROM work_photo ph JOIN day ON day.id = ph.work_order),
                        '{}') AS photos
        """,
        actor_id, organisation_id, day,
    )
    return (["/min-dag", "/besok/reservdelar"]
            + [f"/besok/{order_id}" for order_id in row["orders"]]
            + [f"/enheter/{number}" for number in row["devices"]]
            + [f"/foton/{photo_id}" for photo_id in row["photos"]])


async def next_day_with_visits(actor_id: int, after: date) -> date | None:
    return await db.fetchval(
        "SELECT min(planned_date) FROM work_order WHERE assignee = $1 AND planned_date > $2 "
        "AND status <> 'cancelled'",
        actor_id, after,
    )


# --- for fault reports ---


async def orders_by_id(work_order_ids: list[int]) -> dict[int, dict]:
    """How far each order has come (status, planned and completion dates), by id: one query."""
    if not work_order_ids:
        return {}
    rows = await db.fetch(
        "SELECT id, number, type, status, planned_date, completed_at, cancelled_at FROM work_order "
        "WHERE id = ANY($1::int[])",
        sorted(set(work_order_ids)),
    )
    return {r["id"]: {**dict(r), "type_label": TYPE_LABELS[WorkOrderType(r["type"])],
                      "status_label": STATUS_LABELS[WorkOrderStatus(r["status"])]} for r in rows}


async def device_history(device_id: int, limit: int = 10) -> list[dict]:
    """A device's latest orders, newest first, for the coordinator deciding what a report needs."""
    rows = await db.fetch(
        """
        SELECT w.number, w.type, w.status, w.description, w.received_at, w.completed_at, w.outcome
        FROM work_order w WHERE w.device = $1 ORDER BY w.received_at DESC LIMIT $2
        """,
        device_id, limit,
    )
    return [{**dict(r), "type_label": TYPE_LABELS[WorkOrderType(r["type"])],
             "status_label": STATUS_LABELS[WorkOrderStatus(r["status"])],
             "outcome_label": OUTCOME_LABELS[Outcome(r["outcome"])] if r["outcome"] else None} for r in rows]


async def attach_report_photo(work_order_id: int, actor_id: int, *, content: bytes, content_type: str,
                              width: int, height: int, caption: str) -> None:
    """The reporter's photo goes with the order, so the technician sees it with the visit's own."""
    await db.execute(
        "INSERT INTO work_photo (work_order, content, content_type, width, height, caption, added_by) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7)",
        work_order_id, content, content_type, width, height, caption, actor_id,
    )
