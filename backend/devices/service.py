"""Devices, their articles and categories: finding a device, its card, the parts list, its status
and FU dates, and the queries other domains build on."""

from __future__ import annotations

import json
from datetime import date

from backend import db
from backend.db import Sql, raw
from backend.accounts.service import Actor
from backend.audit.service import record_patient_reads
from backend.devices import schedules
from backend.devices.tables import DEVICE_STATUS_LABELS, DeviceStatus
from backend.organisations import service as organisations
from backend.patients import service as patients
from backend.patients.service import CareRelation


class DeviceNotFound(Exception):
    pass


def normalise_individnummer(text: str) -> str:
    return "".join(text.split()).upper()


async def device_card(actor: Actor, individnummer: str, care_relation: CareRelation | None = None) -> dict:
    """The device on its card, and its holder's name for those who may see the patient (that read
    is audit-logged; `care_relation` as in patients.scope). The card's history of orders is the
    work-order domain's (workorders.service.device_history)."""
    device = await db.fetchrow(Sql(
        """
        SELECT d.*, a.name AS article_name, a.article_number, a.manufacturer,
               k.name AS category_name, k.iso_code, :fu_interval AS fu_interval_days, :owner_name AS owner_name,
               :schedules AS fu_schedules,
               (SELECT json_build_object('id', p.id, 'given_name', p.given_name, 'family_name', p.family_name)
                FROM (:holder) p) AS holder_brief
        FROM device d JOIN article a ON a.id = d.article
        LEFT JOIN device_category k ON k.id = a.category
        WHERE d.organisation = :org AND d.individnummer = :number
        """,
        owner_name=organisations.cost_bearer_name(raw("d.owner")),
        holder=patients.visible_names(actor, raw("d.holder"), care_relation),
        fu_interval=schedules.fu_interval_sql(raw("d.id"), raw("d.article"), raw("a.category")),
        schedules=schedules.effective_schedules_json(raw("d.id")),
        org=actor.organisation, number=normalise_individnummer(individnummer),
    ))
    if device is None:
        raise DeviceNotFound()
    card = {k: v for k, v in device.items() if k != "holder_brief"}
    holder = json.loads(device["holder_brief"]) if device["holder_brief"] else None
    if holder:
        await record_patient_reads(actor, [holder["id"]], "device_card")
    card["device_status_label"] = DEVICE_STATUS_LABELS[DeviceStatus(card["status"])]
    card["fu_schedules"] = [{**s, "level_label": schedules.LEVEL_LABELS[s["level"]]}
                            for s in json.loads(card["fu_schedules"])]
    return {"device": card, "holder": holder}


async def spare_parts(organisation_id: int) -> list[dict]:
    """The active articles that are spare parts (no device category), for the parts list on a
    visit. (A part queued offline before its article was deactivated is still taken: see
    spare_part_id.)"""
    rows = await db.fetch(
        "SELECT id, article_number, name, manufacturer FROM article "
        "WHERE organisation = $1 AND category IS NULL AND active ORDER BY name, manufacturer",
        organisation_id,
    )
    return [dict(r) for r in rows]


async def set_status(device_id: int, status: str) -> str:
    """Change a device's status (joins the caller's transaction); returns the status it had."""
    DeviceStatus(status)
    return await db.fetchval(
        "UPDATE device d SET status = $2 FROM device old WHERE d.id = $1 AND old.id = d.id RETURNING old.status",
        device_id, status,
    )


async def set_fu_dates(device_id: int, last: date, next_due: date | None) -> None:
    """Record a completed FU and when the next one is due (joins the caller's transaction)."""
    await db.execute("UPDATE device SET last_fu_date = $2, next_fu_date = $3 WHERE id = $1", device_id, last, next_due)


# --- queries other domains place in theirs ---------------------------------------------

_DEVICE_COLUMNS = """
d.id AS device_id, d.organisation AS device_organisation, d.individnummer, d.serial_number,
d.status AS device_status, d.holder, d.owner, d.in_service_date, d.expected_end_of_life, d.last_fu_date,
d.next_fu_date, a.id AS article_id, a.name AS article_name, a.article_number, a.manufacturer,
a.category AS category_id, k.code AS category_code, k.name AS category_name, k.iso_code,
k.self_checks AS category_self_checks, :fu_interval AS fu_interval_days
"""


def _fu_interval() -> Sql:
    # The columns' aliases: d (device), a (article).
    return schedules.fu_interval_sql(raw("d.id"), raw("d.article"), raw("a.category"))


def device_row(device: Sql) -> Sql:
    """The device `device` (an id expression of the caller's query) with its article and category,
    as a row source: `JOIN LATERAL (:device) d ON true`. Columns: device_id, device_organisation,
    individnummer, serial_number, device_status, holder, owner, in_service_date,
    expected_end_of_life, last_fu_date, next_fu_date, article_id, article_name, article_number,
    manufacturer, category_id, category_code, category_name, iso_code, category_self_checks (the
    category's own public self-checks, [] for the built-in ones), fu_interval_days (the interval of
    the device's "fu" checklist schedule, see devices.schedules; NULL when it has none)."""
    return Sql(f"SELECT {_DEVICE_COLUMNS} FROM device d JOIN article a ON a.id = d.article "
               "LEFT JOIN device_category k ON k.id = a.category WHERE d.id = :device", device=device,
               fu_interval=_fu_interval())


def devices_where(condition: Sql) -> Sql:
    """Every device (with article and category, the columns of `device_row`) for which
    `condition` holds; `condition` may use the aliases d (device), a (article), k (category)."""
    return Sql(f"SELECT {_DEVICE_COLUMNS} FROM device d JOIN article a ON a.id = d.article "
               "LEFT JOIN device_category k ON k.id = a.category WHERE :condition", condition=condition,
               fu_interval=_fu_interval())


async def held_by(patient_id: int) -> list[dict]:
    """The devices the patient holds, by category (no access check: the caller's)."""
    rows = await db.fetch(
        """
        SELECT d.individnummer, d.status, d.next_fu_date, a.name AS article_name, k.name AS category_name
        FROM device d JOIN article a ON a.id = d.article LEFT JOIN device_category k ON k.id = a.category
        WHERE d.holder = $1 ORDER BY k.name, d.individnummer
        """,
        patient_id,
    )
    return [dict(r) for r in rows]


def article_row(article: Sql) -> Sql:
    """The article (article_number, name, manufacturer, category), as a row source."""
    return Sql("SELECT article_number, name, manufacturer, category FROM article WHERE id = :article", article=article)


async def spare_part_id(organisation_id: int, article_number: str) -> int | None:
    """The spare part (an article without a device category) with this article number."""
    return await db.fetchval(
        "SELECT id FROM article WHERE organisation = $1 AND article_number = $2 AND category IS NULL",
        organisation_id, article_number)


async def device_ids(organisation_id: int, individnummer: list[str], *, lock: bool = False) -> dict[str, int]:
    """The organisation's devices with these individnummer: individnummer -> id (unknown ones are
    left out). With `lock`, their rows stay locked until the caller's transaction ends, so that
    changes made for one device queue behind each other."""
    rows = await db.fetch(
        "SELECT id, individnummer FROM device WHERE organisation = $1 AND individnummer = ANY($2::text[])"
        + (" FOR UPDATE" if lock else ""),
        organisation_id, list(individnummer),
    )
    return {r["individnummer"]: r["id"] for r in rows}


async def counts_by_category(organisation_id: int, today: date) -> list[dict]:
    """Per device category, most devices first: how many devices, how many on loan, how many with
    their FU overdue on `today`."""
    rows = await db.fetch(
        """
        SELECT k.name, k.iso_code, count(d.id) AS devices,
               count(d.id) FILTER (WHERE d.holder IS NOT NULL) AS on_loan,
               count(d.id) FILTER (WHERE d.next_fu_date < $2) AS fu_overdue
        FROM device_category k LEFT JOIN article a ON a.category = k.id LEFT JOIN device d ON d.article = a.id
        WHERE k.organisation = $1 GROUP BY k.id ORDER BY count(d.id) DESC
        """,
        organisation_id, today,
    )
    return [dict(r) for r in rows]


# --- replaced labels (the device register, backend/devices/register.py) -----------------------


async def current_individnummer(organisation_id: int, individnummer: str) -> str | None:
    """The device's individnummer now, when `individnummer` is a label it had before (its label was
    replaced: the device kept its identity, and an old number still leads to it); None otherwise."""
    return await db.fetchval(
        "SELECT d.individnummer FROM device_label l JOIN device d ON d.id = l.device "
        "WHERE l.organisation = $1 AND l.individnummer = $2",
        organisation_id, normalise_individnummer(individnummer))


def category_of(device: Sql) -> Sql:
    """The device's category id (its article's; NULL when it has none), as a scalar subquery."""
    return Sql("(SELECT a_co.category FROM device d_co JOIN article a_co ON a_co.id = d_co.article "
               "WHERE d_co.id = :device)", device=device)


def category_name(category: Sql) -> Sql:
    """The category's name (a scalar subquery; NULL when `category` is)."""
    return Sql("(SELECT name FROM device_category WHERE id = :category)", category=category)


def devices_lent_to_sql(patient: Sql) -> Sql:
    """The devices that are or were lent to the patient (any loan), as a subquery of ids: the
    access-log review's care relation through a fault report on one of them."""
    return Sql("SELECT dl_r.device FROM device_loan dl_r WHERE dl_r.patient = :patient", patient=patient)


# --- a device's identity (deviations and recalls) ------------------------------------------


async def identity(organisation_id: int, device_id: int) -> dict | None:
    """The device's identity as a manufacturer knows it (for a deviation report or a recall):
    device_id, individnummer, serial_number, udi, lot_number, manufacturing_date (None: unknown),
    article_id, article_number, article_name, manufacturer, category_name, status, holder (the
    patient's id, None in the depot). None when the organisation has no such device. No patient
    data is read, so nothing is audit-logged; the caller decides who may see the holder."""
    row = await db.fetchrow(
        """
        SELECT d.id AS device_id, d.individnummer, d.serial_number, d.udi, d.lot_number,
               d.manufacturing_date, a.id AS article_id, a.article_number, a.name AS article_name,
               a.manufacturer, k.name AS category_name, d.status, d.holder
        FROM device d JOIN article a ON a.id = d.article LEFT JOIN device_category k ON k.id = a.category
        WHERE d.organisation = $1 AND d.id = $2
        """,
        organisation_id, device_id,
    )
    return dict(row) if row else None


def identity_where(condition: Sql) -> Sql:
    """Every device for which `condition` holds (it may use the aliases d, a, k: device, article,
    category), with the columns of `identity` and `organisation`, as a row source: the devices a
    recall names, say. No patient data: `holder` is an id."""
    return Sql(
        """
        SELECT d.id AS device_id, d.organisation, d.individnummer, d.serial_number, d.udi, d.lot_number,
               d.manufacturing_date, a.id AS article_id, a.article_number, a.name AS article_name,
               a.manufacturer, k.name AS category_name, d.status, d.holder
        FROM device d JOIN article a ON a.id = d.article LEFT JOIN device_category k ON k.id = a.category
        WHERE :condition
        """, condition=condition)


async def articles_by_manufacturer(organisation_id: int) -> list[dict]:
    """Every device article (one with a category), active or not, by manufacturer and name: what a
    recall may name (a recalled article may since have left the assortment)."""
    rows = await db.fetch(
        "SELECT a.id, a.article_number, a.name, a.manufacturer, a.active FROM article a "
        "WHERE a.organisation = $1 AND a.category IS NOT NULL ORDER BY a.manufacturer, a.name, a.article_number",
        organisation_id)
    return [dict(r) for r in rows]
