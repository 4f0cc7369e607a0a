"""The registers' change history (who, when, before -> after), kept by every register.

A register calls `record` inside the transaction that makes the change, so a change and its
history row are written together or not at all. `history` reads them back for the register's
page. Values are kept as the register gives them (text, numbers, booleans, ISO dates); the
page labels the fields.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Mapping

from backend import db


@dataclass(frozen=True)
class Change:
    action: str
    actor_name: str
    at: datetime
    fields: dict[str, tuple[Any, Any]]  # field -> (before, after)


def _plain(value: Any) -> Any:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if hasattr(value, "value") and isinstance(getattr(value, "value"), str):  # an Enum member
        return value.value
    return value


def difference(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> dict[str, list]:
    """The fields whose value differs, as {field: [before, after]}; a missing side is None."""
    before, after = before or {}, after or {}
    fields = list(dict.fromkeys([*before, *after]))
    changed = {}
    for field in fields:
        old, new = _plain(before.get(field)), _plain(after.get(field))
        if old != new:
            changed[field] = [old, new]
    return changed


async def record(organisation: int, register: str, entity: int, action: str, *,
                 actor: int | None, actor_name: str,
                 before: Mapping[str, Any] | None = None, after: Mapping[str, Any] | None = None) -> bool:
    """Keep one change of a register row. A "changed" that changes nothing is not kept
    (returns False), so saving a form unchanged leaves no noise in the history."""
    fields = difference(before, after)
    if action == "changed" and not fields:
        return False
    await db.execute(
        """
        INSERT INTO register_change (organisation, register, entity, action, actor, actor_name, changes, at)
        VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, now())
        """,
        organisation, register, entity, action, actor, actor_name, json.dumps(fields),
    )
    return True


async def history(organisation: int, register: str, entity: int, limit: int = 100) -> list[Change]:
    """The row's changes, newest first."""
    rows = await db.fetch(
        """
        SELECT action, actor_name, at, changes FROM register_change
        WHERE organisation = $1 AND register = $2 AND entity = $3
        ORDER BY at DESC, id DESC LIMIT $4
        """,
        organisation, register, entity, limit,
    )
    changes = []
    for row in rows:
        fields = row["changes"]
        fields = json.loads(fields) if isinstance(fields, str) else fields
        changes.append(Change(row["action"], row["actor_name"], row["at"],
                              {field: tuple(pair) for field, pair in fields.items()}))
    return changes
