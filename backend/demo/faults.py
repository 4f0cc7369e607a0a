"""Demo fault reports: a QR token for every device, and a handful of new reports waiting in
the coordinators' triage queue. Drawn from their own random stream, so adding them changed
nothing else in the demo region."""

from __future__ import annotations

import base64
import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Awaitable, Callable
from zoneinfo import ZoneInfo

from backend.demo import catalogue as C
from backend.demo import names as N
from backend.faults.categories import GUIDES

TZ = ZoneInfo("Europe/Stockholm")
NEW_REPORTS = 8  # a handful, whatever the scale


@dataclass
class FaultRows:
    tokens: list[str]  # one per device, in the region's device order
    reports: list[dict]  # device is an index into the region's devices


def _token(rng: random.Random) -> str:
    return base64.urlsafe_b64encode(rng.randbytes(16)).rstrip(b"=").decode()


def build_faults(region, seed: int, today: date) -> FaultRows:
    rng = random.Random(f"fault-reports-{seed}")
    tokens = [_token(rng) for _ in region.devices]
    candidates = [i for i, d in enumerate(region.devices)
                  if d["holder"] is not None and d["status"] == "in_use" and d["_cat"] in GUIDES]
    weights = [C.CATEGORY_BY_CODE[region.devices[i]["_cat"]].fault_weight for i in candidates]
    chosen: list[int] = []
    while candidates and len(chosen) < min(NEW_REPORTS, len(candidates)):
        pick = rng.choices(candidates, weights)[0]
        if pick not in chosen:
            chosen.append(pick)
    female, male = dict(N.YOUNGER_FEMALE_NAMES), dict(N.YOUNGER_MALE_NAMES)
    family = [name for name, _ in N.FAMILY_NAMES]
    reports = []
    for k, device in enumerate(chosen):
        code = region.devices[device]["_cat"]
        problems = [c for c, _ in GUIDES[code].problems if c != "other"]
        given = rng.choice(list(female) if rng.random() < 0.6 else list(male))
        received = datetime.combine(today - timedelta(days=1 + k % 3), time(7 + rng.randint(0, 11), rng.randint(0, 59)),
                                    TZ)
        usable = rng.choice(("no", "partly", "partly", "yes"))
        elsewhere = rng.random() < 0.15
        reports.append({
            "device": device, "status_token": _token(rng), "submission_key": _token(rng),
            "problems": sorted(rng.sample(problems, rng.choice((1, 1, 2))), key=problems.index),
            "description": rng.choice(C.FAULTS[code]) if rng.random() < 0.7 else "",
            "where_on_device": rng.choice(("", "", "Vänster sida", "Höger sida", "Fram", "Bak")),
            "usable": usable, "can_bring_in": rng.choice(("no", "no", "yes")),
            "needs_replacement": "yes" if usable == "no" and rng.random() < 0.6 else rng.choice(("no", "unsure")),
            "at_usual_place": not elsewhere,
            "address": f"{rng.choice(N.COMMON_STREETS)} {rng.randint(1, 40)}, Västerås" if elsewhere else "",
            "door_code": f"{rng.randint(1000, 9999)}" if elsewhere and rng.random() < 0.5 else "",
            "contact_name": f"{given} {rng.choice(family)}",
            "contact_phone": f"{N.FICTION_MOBILE_PREFIX} {rng.randint(*N.FICTION_MOBILE_RANGE):02d}",
            "call_times": rng.choice(("", "Förmiddagar", "Efter klockan 13", "Vardagar 9–16")),
            "received_at": received,
        })
    reports.sort(key=lambda r: r["received_at"])
    return FaultRows(tokens, reports)


ReserveIds = Callable[..., Awaitable[int]]
_REPORT_COLUMNS = ["status_token", "submission_key", "problems", "description", "where_on_device", "usable",
                   "can_bring_in", "needs_replacement", "at_usual_place", "address", "door_code", "contact_name",
                   "contact_phone", "call_times", "received_at"]


async def load_faults(conn, org_id: int, rows: FaultRows, bases: dict[str, int],
                      reserve_ids: ReserveIds) -> dict[str, int]:
    """Copy the tokens and reports in (inside the caller's transaction); returns rows per table."""
    token_base = await reserve_ids(conn, "device_token", len(rows.tokens)) if rows.tokens else 0
    await conn.copy_records_to_table(
        "device_token", columns=["id", "organisation", "device", "token"],
        records=[(token_base + i, org_id, bases["device"] + i, token) for i, token in enumerate(rows.tokens)])
    report_base = await reserve_ids(conn, "fault_report", len(rows.reports)) if rows.reports else 0
    await conn.copy_records_to_table(
        "fault_report",
        columns=["id", "organisation", "number", "device", "device_token", "channel", "status", *_REPORT_COLUMNS],
        records=[(report_base + i, org_id, f"FA-{r['received_at'].year}-{report_base + i:06d}",
                  bases["device"] + r["device"], token_base + r["device"], "web", "new",
                  *(r[c] for c in _REPORT_COLUMNS))
                 for i, r in enumerate(rows.reports)])
    return {"device_token": len(rows.tokens), "fault_report": len(rows.reports)}
