"""The organisation register's rules: the HMC's name and public phone number and its
work-order clocks; the errors and field checks the register's other parts share (`units.py`:
care units and cost bearers; `hours.py`: opening hours and calendar overrides).

Every change is checked here (Swedish messages naming the field) and written in one transaction
with its change-history row (backend/changes). Who acts is given as an id and a name, since
accounts sit above this domain.
"""

from __future__ import annotations

import json
import re
from typing import Mapping

from backend import db
from backend.changes import service as changes
from backend.errors import DomainError, SeveralErrors

PAGE_SIZE = 50
STATUS_FILTERS = ("active", "inactive", "all")  # which rows a register's list shows

# The clocks' bounds: whole working days, at most three months of them.
CLOCK_MAX = 60
CLOCK_KEYS = ("start", "finish")

_PHONE = re.compile(r"^\+?[0-9][0-9 ()\-]*$")


class RegisterError(DomainError):
    """A change to the organisation register was refused; nothing was written."""


class RegisterErrors(SeveralErrors, RegisterError):
    """Several fields wrong at once: each field shows its own, the summary lists them all."""


class NotFound(RegisterError):
    def __init__(self) -> None:
        super().__init__("Finns inte i registret.")


def raise_any(errors: list[tuple[str | None, str]]) -> None:
    if len(errors) == 1:
        raise RegisterError(errors[0][1], errors[0][0])
    if errors:
        raise RegisterErrors(errors)


def required_text(value: str, field: str, limit: int, missing: str, errors: list) -> str:
    value = value.strip()
    if not value:
        errors.append((field, missing))
    elif len(value) > limit:
        errors.append((field, f"Högst {limit} tecken."))
    return value


def phone_number(value: str, field: str, errors: list, *, required: bool) -> str:
    value = " ".join(value.split())
    if not value:
        if required:
            errors.append((field, "Ange ett telefonnummer."))
        return value
    digits = sum(c.isdigit() for c in value)
    if len(value) > 40 or not _PHONE.match(value) or not 5 <= digits <= 15:
        errors.append((field, "Skriv telefonnumret med siffror, till exempel 021-17 30 00."))
    return value


def search_pattern(search: str) -> str:
    """A search text as an ILIKE pattern that matches it anywhere, its own % and _ taken literally."""
    escaped = search.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def status_filter(status: str) -> str:
    return status if status in STATUS_FILTERS else "active"


# --- the HMC: name and public phone number ------------------------------------------------------


async def update_details(organisation_id: int, *, name: str, phone: str, actor_id: int | None,
                         actor_name: str) -> None:
    """The HMC's name and the phone number its public pages show."""
    errors: list = []
    name = required_text(name, "name", 200, "Ange hjälpmedelscentralens namn.", errors)
    phone = phone_number(phone, "phone", errors, required=True)
    raise_any(errors)
    async with db.transaction():
        before = await db.fetchrow("SELECT name, phone FROM organisation WHERE id = $1 FOR UPDATE", organisation_id)
        if before is None:
            raise NotFound()
        await db.execute("UPDATE organisation SET name = $2, phone = $3 WHERE id = $1", organisation_id, name, phone)
        await changes.record(organisation_id, "organisation", organisation_id, "changed", actor=actor_id,
                             actor_name=actor_name, before=dict(before), after={"name": name, "phone": phone})


# --- work-order clocks ----------------------------------------------------------------------------


def clock_field(order_type: str, key: str) -> str:
    """The form field (and error key) of one clock: `repair_hmc_start`."""
    return f"{order_type}_{key}"


def _stored_clocks(value: object) -> dict:
    if isinstance(value, str):
        value = json.loads(value)
    return value if isinstance(value, dict) else {}


def _flat(clocks: Mapping[str, Mapping[str, int]]) -> dict[str, int]:
    return {f"{order_type}.{key}": value for order_type, clock in clocks.items() for key, value in clock.items()}


def read_clocks(entered: Mapping[str, Mapping[str, str]],
                defaults: Mapping[str, Mapping[str, int]]) -> dict[str, dict[str, int]]:
    """The organisation's own clocks from what the admin typed: for each type of `defaults`, a
    start and a finish in whole working days, 0–60; empty means the default. A finish before the
    start (each as it will apply, own or default) is refused. Every wrong field is named at once."""
    errors: list = []
    own: dict[str, dict[str, int]] = {}
    for order_type, default in defaults.items():
        typed = entered.get(order_type, {})
        for key in CLOCK_KEYS:
            value = str(typed.get(key, "") or "").strip()
            if not value:
                continue
            field = clock_field(order_type, key)
            if not value.isascii() or not value.isdigit():
                errors.append((field, "Ange ett helt antal arbetsdagar, till exempel 3."))
            elif int(value) > CLOCK_MAX:
                errors.append((field, f"Ange mellan 0 och {CLOCK_MAX} arbetsdagar."))
            else:
                own.setdefault(order_type, {})[key] = int(value)
        if any(field == clock_field(order_type, k) for field, _ in errors for k in CLOCK_KEYS):
            continue
        start = own.get(order_type, {}).get("start", default.get("start"))
        finish = own.get(order_type, {}).get("finish", default.get("finish"))
        if start is not None and finish is not None and finish < start:
            errors.append((clock_field(order_type, "finish"),
                           f"Klar inom kan inte vara färre dagar än påbörjad inom ({start} arbetsdagar)."))
    raise_any(errors)
    return own


async def set_clocks(organisation_id: int, entered: Mapping[str, Mapping[str, str]],
                     defaults: Mapping[str, Mapping[str, int]], *, actor_id: int | None, actor_name: str) -> None:
    """Replace the organisation's own clocks (organisation.clocks) with what the admin typed.
    New work orders take their due dates from them; orders already made keep theirs."""
    own = read_clocks(entered, defaults)
    async with db.transaction():
        stored = await db.fetchval("SELECT clocks FROM organisation WHERE id = $1 FOR UPDATE", organisation_id)
        if stored is None:
            raise NotFound()
        await db.execute("UPDATE organisation SET clocks = $2::jsonb WHERE id = $1", organisation_id, json.dumps(own))
        await changes.record(organisation_id, "organisation", organisation_id, "changed", actor=actor_id,
                             actor_name=actor_name, before=_flat(_stored_clocks(stored)), after=_flat(own))
