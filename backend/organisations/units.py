"""The organisation's care units (vårdenheter) and cost bearers (kostnadsbärare, the
municipalities and the region's own units): lists with search and paging, add, change,
deactivate and reactivate.

A row that anything names (a patient, a prescriber, an order, a log entry) is never deleted:
deleting is refused with a message, and the row is deactivated instead, keeping its history.
Every change is written in one transaction with its change-history row.
"""

from __future__ import annotations

import re
from typing import Mapping

import asyncpg

from backend import db
from backend.changes import service as changes
from backend.organisations.register import (
    PAGE_SIZE,
    NotFound,
    RegisterError,
    phone_number,
    raise_any,
    required_text,
    search_pattern,
    status_filter,
)

KIND_LABELS = {"municipality": "Kommun", "region": "Region"}

_CODE = re.compile(r"^[0-9A-Za-zÅÄÖåäö][0-9A-Za-zÅÄÖåäö._\-]*$")


# --- cost bearers ---------------------------------------------------------------------------------


def _bearer_name(row: Mapping) -> str:
    return f"{row['name']} ({row['code']})"


async def list_cost_bearers(organisation_id: int, *, search: str = "", status: str = "active",
                            page: int = 1) -> tuple[list[dict], bool]:
    """One page of cost bearers by name (name or code matching `search`), and whether more follow."""
    status = status_filter(status)
    rows = await db.fetch(
        """
        SELECT id, name, kind, code, active FROM cost_bearer
        WHERE organisation = $1 AND (name ILIKE $2 OR code ILIKE $2)
          AND ($3 = 'all' OR active = ($3 = 'active'))
        ORDER BY lower(name), id LIMIT $4 OFFSET $5
        """,
        organisation_id, search_pattern(search), status, PAGE_SIZE + 1, (max(page, 1) - 1) * PAGE_SIZE,
    )
    found = [{**dict(r), "kind_label": KIND_LABELS.get(r["kind"], r["kind"])} for r in rows[:PAGE_SIZE]]
    return found, len(rows) > PAGE_SIZE


async def cost_bearer(organisation_id: int, cost_bearer_id: int) -> dict | None:
    row = await db.fetchrow("SELECT id, name, kind, code, active FROM cost_bearer WHERE id = $1 AND organisation = $2",
                            cost_bearer_id, organisation_id)
    return {**dict(row), "kind_label": KIND_LABELS.get(row["kind"], row["kind"])} if row else None


async def cost_bearer_choices(organisation_id: int, including: int | None = None) -> list[dict]:
    """The active cost bearers to choose from, and the one `including` names even if inactive
    (a care unit keeps its cost bearer when that is deactivated)."""
    rows = await db.fetch(
        "SELECT id, name, code, active FROM cost_bearer WHERE organisation = $1 AND (active OR id = $2) "
        "ORDER BY lower(name), id",
        organisation_id, including,
    )
    return [dict(r) for r in rows]


def _check_cost_bearer(name: str, kind: str, code: str) -> tuple[str, str, str]:
    errors: list = []
    name = required_text(name, "name", 200, "Ange kostnadsbärarens namn.", errors)
    if kind not in KIND_LABELS:
        errors.append(("kind", "Välj kommun eller region."))
    code = required_text(code, "code", 20, "Ange en kod, till exempel kommunkoden 1980.", errors)
    if code and len(code) <= 20 and not _CODE.match(code):
        errors.append(("code", "Koden får bara innehålla bokstäver, siffror, punkt, bindestreck och understreck."))
    raise_any(errors)
    return name, kind, code


async def _code_taken(organisation_id: int, code: str, other_than: int | None) -> bool:
    return bool(await db.fetchval(
        "SELECT 1 FROM cost_bearer WHERE organisation = $1 AND lower(code) = lower($2) AND id IS DISTINCT FROM $3",
        organisation_id, code, other_than))


def _code_in_use(code: str) -> RegisterError:
    return RegisterError(f"Det finns redan en kostnadsbärare med koden {code}.", "code")


async def create_cost_bearer(organisation_id: int, *, name: str, kind: str, code: str, actor_id: int | None,
                             actor_name: str) -> int:
    name, kind, code = _check_cost_bearer(name, kind, code)
    try:
        async with db.transaction():
            if await _code_taken(organisation_id, code, None):
                raise _code_in_use(code)
            bearer_id = await db.fetchval(
                "INSERT INTO cost_bearer (organisation, name, kind, code) VALUES ($1, $2, $3, $4) RETURNING id",
                organisation_id, name, kind, code)
            await changes.record(organisation_id, "cost_bearer", bearer_id, "created", actor=actor_id,
                                 actor_name=actor_name, after={"name": name, "kind": kind, "code": code, "active": True})
    except asyncpg.UniqueViolationError:  # the same code added at the same moment
        raise _code_in_use(code) from None
    return bearer_id


async def update_cost_bearer(organisation_id: int, cost_bearer_id: int, *, name: str, kind: str, code: str,
                             actor_id: int | None, actor_name: str) -> None:
    name, kind, code = _check_cost_bearer(name, kind, code)
    try:
        async with db.transaction():
            before = await db.fetchrow(
                "SELECT name, kind, code FROM cost_bearer WHERE id = $1 AND organisation = $2 FOR UPDATE",
                cost_bearer_id, organisation_id)
            if before is None:
                raise NotFound()
            if await _code_taken(organisation_id, code, cost_bearer_id):
                raise _code_in_use(code)
            await db.execute("UPDATE cost_bearer SET name = $2, kind = $3, code = $4 WHERE id = $1",
                             cost_bearer_id, name, kind, code)
            await changes.record(organisation_id, "cost_bearer", cost_bearer_id, "changed", actor=actor_id,
                                 actor_name=actor_name, before=dict(before),
                                 after={"name": name, "kind": kind, "code": code})
    except asyncpg.UniqueViolationError:
        raise _code_in_use(code) from None


# Per register: its row as the history keeps it (locked), and the writes that (de)activate and
# delete it. Written out per table, so each query names its table.
_ROWS = {
    "cost_bearer": dict(
        lock="SELECT name, kind, code, active FROM cost_bearer WHERE id = $1 AND organisation = $2 FOR UPDATE",
        activate="UPDATE cost_bearer SET active = $2 WHERE id = $1",
        delete="DELETE FROM cost_bearer WHERE id = $1"),
    "care_unit": dict(
        lock="SELECT name, phone, active FROM care_unit WHERE id = $1 AND organisation = $2 FOR UPDATE",
        activate="UPDATE care_unit SET active = $2 WHERE id = $1",
        delete="DELETE FROM care_unit WHERE id = $1"),
}


async def _set_active(register: str, organisation_id: int, entity_id: int, active: bool,
                      actor_id: int | None, actor_name: str) -> None:
    sql = _ROWS[register]
    async with db.transaction():
        before = await db.fetchrow(sql["lock"], entity_id, organisation_id)
        if before is None:
            raise NotFound()
        if before["active"] == active:
            return  # already so (a second click): nothing to record
        await db.execute(sql["activate"], entity_id, active)
        await changes.record(organisation_id, register, entity_id, "reactivated" if active else "deactivated",
                             actor=actor_id, actor_name=actor_name, before={"active": before["active"]},
                             after={"active": active})


async def _delete(register: str, organisation_id: int, entity_id: int, in_use: str,
                  actor_id: int | None, actor_name: str) -> None:
    """Delete a row nothing names; a row something names (a patient, an order, a log entry…: the
    database's foreign keys know them all) is refused with `in_use`, and nothing is written."""
    sql = _ROWS[register]
    async with db.transaction():
        before = await db.fetchrow(sql["lock"], entity_id, organisation_id)
        if before is None:
            raise NotFound()
        try:
            async with db.savepoint():
                await db.execute(sql["delete"], entity_id)
        except asyncpg.ForeignKeyViolationError:
            raise RegisterError(in_use) from None
        await changes.record(organisation_id, register, entity_id, "deleted", actor=actor_id, actor_name=actor_name,
                             before=dict(before))


async def set_cost_bearer_active(organisation_id: int, cost_bearer_id: int, active: bool, *, actor_id: int | None,
                                 actor_name: str) -> None:
    """Deactivated: no longer offered for new care units; everything that names it keeps it."""
    await _set_active("cost_bearer", organisation_id, cost_bearer_id, active, actor_id, actor_name)


async def delete_cost_bearer(organisation_id: int, cost_bearer_id: int, *, actor_id: int | None,
                             actor_name: str) -> None:
    """Only a cost bearer nothing names (one added by mistake); else deactivate it."""
    await _delete("cost_bearer", organisation_id, cost_bearer_id,
                  "Kostnadsbäraren används av vårdenheter, patienter eller hjälpmedel och kan inte tas bort. "
                  "Inaktivera den i stället.", actor_id, actor_name)


# --- care units -----------------------------------------------------------------------------------


async def list_care_units(organisation_id: int, *, search: str = "", status: str = "active",
                          page: int = 1) -> tuple[list[dict], bool]:
    """One page of care units by name (name or cost bearer matching `search`), with their cost
    bearer, and whether more follow."""
    status = status_filter(status)
    rows = await db.fetch(
        """
        SELECT u.id, u.name, u.phone, u.active, b.name AS cost_bearer_name, b.code AS cost_bearer_code
        FROM care_unit u JOIN cost_bearer b ON b.id = u.cost_bearer
        WHERE u.organisation = $1 AND (u.name ILIKE $2 OR b.name ILIKE $2 OR b.code ILIKE $2)
          AND ($3 = 'all' OR u.active = ($3 = 'active'))
        ORDER BY lower(u.name), u.id LIMIT $4 OFFSET $5
        """,
        organisation_id, search_pattern(search), status, PAGE_SIZE + 1, (max(page, 1) - 1) * PAGE_SIZE,
    )
    return [dict(r) for r in rows[:PAGE_SIZE]], len(rows) > PAGE_SIZE


async def care_unit(organisation_id: int, care_unit_id: int) -> dict | None:
    row = await db.fetchrow(
        """
        SELECT u.id, u.name, u.phone, u.active, u.cost_bearer, b.name AS cost_bearer_name,
               b.code AS cost_bearer_code
        FROM care_unit u JOIN cost_bearer b ON b.id = u.cost_bearer
        WHERE u.id = $1 AND u.organisation = $2
        """,
        care_unit_id, organisation_id)
    return dict(row) if row else None


async def _check_care_unit(organisation_id: int, care_unit_id: int | None, name: str, phone: str,
                           cost_bearer_id: int | None, current_bearer: int | None) -> tuple[str, str, dict]:
    errors: list = []
    name = required_text(name, "name", 200, "Ange vårdenhetens namn.", errors)
    phone = phone_number(phone, "phone", errors, required=False)
    bearer = None
    if cost_bearer_id is None:
        errors.append(("cost_bearer", "Välj kostnadsbärare."))
    else:
        bearer = await db.fetchrow("SELECT id, name, code, active FROM cost_bearer WHERE id = $1 AND organisation = $2",
                                   cost_bearer_id, organisation_id)
        if bearer is None:
            errors.append(("cost_bearer", "Välj kostnadsbärare."))
        elif not bearer["active"] and bearer["id"] != current_bearer:
            errors.append(("cost_bearer", f"{bearer['name']} är inaktiv. Välj en aktiv kostnadsbärare."))
    if name and len(name) <= 200 and await db.fetchval(
            "SELECT 1 FROM care_unit WHERE organisation = $1 AND lower(name) = lower($2) AND id IS DISTINCT FROM $3",
            organisation_id, name, care_unit_id):
        errors.append(("name", f"Det finns redan en vårdenhet som heter {name}."))
    raise_any(errors)
    return name, phone, dict(bearer)


async def create_care_unit(organisation_id: int, *, name: str, phone: str, cost_bearer_id: int | None,
                           actor_id: int | None, actor_name: str) -> int:
    async with db.transaction():
        name, phone, bearer = await _check_care_unit(organisation_id, None, name, phone, cost_bearer_id, None)
        unit_id = await db.fetchval(
            "INSERT INTO care_unit (organisation, cost_bearer, name, phone) VALUES ($1, $2, $3, $4) RETURNING id",
            organisation_id, bearer["id"], name, phone)
        await changes.record(organisation_id, "care_unit", unit_id, "created", actor=actor_id, actor_name=actor_name,
                             after={"name": name, "phone": phone, "cost_bearer": _bearer_name(bearer), "active": True})
    return unit_id


async def update_care_unit(organisation_id: int, care_unit_id: int, *, name: str, phone: str,
                           cost_bearer_id: int | None, actor_id: int | None, actor_name: str) -> None:
    """Rename, change the phone number or the cost bearer. Its patients, orders and history keep
    pointing at the same unit, so they show the new name."""
    async with db.transaction():
        before = await db.fetchrow(
            """
            SELECT u.name, u.phone, u.cost_bearer AS bearer_id, b.name AS bearer_name, b.code AS bearer_code
            FROM care_unit u JOIN cost_bearer b ON b.id = u.cost_bearer
            WHERE u.id = $1 AND u.organisation = $2 FOR UPDATE OF u
            """,
            care_unit_id, organisation_id)
        if before is None:
            raise NotFound()
        name, phone, bearer = await _check_care_unit(organisation_id, care_unit_id, name, phone, cost_bearer_id,
                                                     before["bearer_id"])
        await db.execute("UPDATE care_unit SET name = $2, phone = $3, cost_bearer = $4 WHERE id = $1",
                         care_unit_id, name, phone, bearer["id"])
        await changes.record(
            organisation_id, "care_unit", care_unit_id, "changed", actor=actor_id, actor_name=actor_name,
            before={"name": before["name"], "phone": before["phone"],
                    "cost_bearer": f"{before['bearer_name']} ({before['bearer_code']})"},
            after={"name": name, "phone": phone, "cost_bearer": _bearer_name(bearer)})


async def set_care_unit_active(organisation_id: int, care_unit_id: int, active: bool, *, actor_id: int | None,
                               actor_name: str) -> None:
    """Deactivated: not offered for new invitations or prescribers; its patients, staff and
    history keep it."""
    await _set_active("care_unit", organisation_id, care_unit_id, active, actor_id, actor_name)


async def delete_care_unit(organisation_id: int, care_unit_id: int, *, actor_id: int | None,
                           actor_name: str) -> None:
    """Only a care unit nothing names (one added by mistake); else deactivate it."""
    await _delete("care_unit", organisation_id, care_unit_id,
                  "Vårdenheten har personal, patienter, arbetsordrar eller loggade händelser och kan inte tas bort. "
                  "Inaktivera den i stället.", actor_id, actor_name)
