"""The QR stickers' tokens: their shape, the links they make, replacing a lost sticker, and the
device a token resolves to for the public pages.

`public_device` returns the device's category and the HMC's phone and nothing about the
patient; the individnummer it carries is only for sending staff on to the device card.
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass

from backend import db
from backend.db import Sql
from backend.devices import service as devices
from backend.faults.categories import checks_for, guide_for
from backend.faults.errors import NotFound
from backend.organisations.service import organisation_name, organisation_phone

TOKEN_BYTES = 16  # 128 random bits, 22 characters of base64url
_TOKEN = re.compile(r"[A-Za-z0-9_-]{22}")
# Reports through one sticker per hour, counted in the shared store (see routes.py).
REPORTS_PER_TOKEN_PER_HOUR = 20


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def looks_like_token(value: str) -> bool:
    """The shape of every token Runda hands out; anything else is not looked up at all."""
    return bool(_TOKEN.fullmatch(value or ""))


def device_link(origin: str, token: str) -> str:
    return f"{origin.rstrip('/')}/f/{token}"


def case_link(origin: str, status_token: str) -> str:
    return f"{origin.rstrip('/')}/arende/{status_token}"


def tel_href(phone: str) -> str:
    """A Swedish phone number as a tel: link a phone can call (021-17 30 00 -> tel:+4621173000)."""
    digits = re.sub(r"[^0-9+]", "", phone or "")
    if digits.startswith("00"):
        digits = "+" + digits[2:]
    elif digits.startswith("0"):
        digits = "+46" + digits[1:]
    return f"tel:{digits}"


async def ensure_tokens(organisation_id: int, device_ids: list[int]) -> dict[int, str]:
    """Each device's active token, created for the devices that have none yet."""
    ids = sorted(set(device_ids))
    if not ids:
        return {}
    rows = await db.fetch(
        "SELECT device, token FROM device_token WHERE device = ANY($1::int[]) AND replaced_at IS NULL", ids
    )
    tokens = {r["device"]: r["token"] for r in rows}
    missing = [i for i in ids if i not in tokens]
    if missing:
        # Only the organisation's own devices get a token; the others are left out.
        await db.execute(Sql(
            """
            INSERT INTO device_token (organisation, device, token)
            SELECT :org, t.device, t.token FROM unnest(:devices::int[], :tokens::text[]) AS t(device, token)
            JOIN LATERAL (:device) d ON d.device_organisation = :org
            ON CONFLICT (device) WHERE replaced_at IS NULL DO NOTHING
            """,
            org=organisation_id, devices=missing, tokens=[new_token() for _ in missing],
            device=devices.device_row(db.raw("t.device")),
        ))
        rows = await db.fetch(
            "SELECT device, token FROM device_token WHERE device = ANY($1::int[]) AND replaced_at IS NULL", missing
        )
        tokens.update({r["device"]: r["token"] for r in rows})
    return tokens


async def replace_device_token(organisation_id: int, individnummer: str) -> str:
    """A new sticker for a lost or damaged one: the old link stops working, the device stays."""
    async with db.transaction():
        # The device's row stays locked until the new token is in: two replacements queue.
        found = await devices.device_ids(organisation_id, [individnummer], lock=True) if individnummer else {}
        if not found:
            raise NotFound("Det finns inget hjälpmedel med det individnumret.", "individnummer")
        device_id = found[individnummer]
        await db.execute(
            "UPDATE device_token SET replaced_at = now() WHERE device = $1 AND replaced_at IS NULL", device_id
        )
        token = new_token()
        await db.execute(
            "INSERT INTO device_token (organisation, device, token) VALUES ($1, $2, $3)",
            organisation_id, device_id, token,
        )
    return token


@dataclass(frozen=True)
class PublicDevice:
    """What a sticker's token resolves to. Only the category and the HMC's phone are public;
    the individnummer is for sending staff on to the device card."""

    token_id: int
    device_id: int
    organisation_id: int
    individnummer: str
    category_code: str | None
    category_name: str
    hmc_name: str
    hmc_phone: str
    self_checks: tuple[str, ...] = ()  # the category's own, when it has them

    @property
    def hmc_phone_href(self) -> str:
        return tel_href(self.hmc_phone)

    @property
    def checks(self) -> tuple[str, ...]:
        return checks_for(self.category_code, self.self_checks)

    @property
    def problems(self) -> tuple[tuple[str, str], ...]:
        return guide_for(self.category_code).problems


async def public_device(token: str) -> PublicDevice | None:
    """The device behind an active token; None for a malformed, unknown or replaced one alike."""
    if not looks_like_token(token):
        return None
    row = await db.fetchrow(Sql(
        """
        SELECT t.id AS token_id, d.device_id, d.device_organisation, d.individnummer, d.category_code,
               coalesce(d.category_name, 'Hjälpmedel') AS category_name, d.category_self_checks,
               :hmc_name AS hmc_name, :hmc_phone AS hmc_phone
        FROM device_token t JOIN LATERAL (:device) d ON true
        WHERE t.token = :token AND t.replaced_at IS NULL
        """,
        token=token, device=devices.device_row(db.raw("t.device")),
        hmc_name=organisation_name(db.raw("d.device_organisation")),
        hmc_phone=organisation_phone(db.raw("d.device_organisation")),
    ))
    if row is None:
        return None
    return PublicDevice(row["token_id"], row["device_id"], row["device_organisation"], row["individnummer"],
                        row["category_code"], row["category_name"], row["hmc_name"], row["hmc_phone"],
                        tuple(json.loads(row["category_self_checks"] or "[]")))


async def example_report_link(origin: str) -> str | None:
    """A public fault-report link for one lent-out demo device (for `runda dev`)."""
    token = await db.fetchval(Sql(
        """
        SELECT t.token FROM device_token t JOIN LATERAL (:device) d ON true
        WHERE t.replaced_at IS NULL AND d.device_status = 'in_use' AND d.category_code = 'powered_wheelchair'
        ORDER BY t.device LIMIT 1
        """,
        device=devices.device_row(db.raw("t.device")),
    ))
    return device_link(origin, token) if token else None
