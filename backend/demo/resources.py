"""The demo region's technicians as planning resources: the field technicians of the smaller
municipalities start from home in their district's main town, those of Västerås from the HMC's
depot; every fourth starts and ends half an hour earlier, ceiling lifts need a skill that half of them have,
and the technician of the long northern district drives a car with a daily limit. The workshop's
technicians have no rows: the defaults (the depot, 07:30–16:00) are theirs.

`build_resources` is pure; `load_resources` copies the rows in inside load_demo's transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time

from backend.demo import names as N
from backend.demo.planning import HMC_LOCATION
from backend.demo.staff import DISTRICT_MUNICIPALITIES

RESTRICTED_CODES = ("ceiling_lift",)  # Taklyft: mounted in the ceiling, electrical work
DRIVE_LIMITED_TOWN = "Fagersta"  # the longest district: a leased car with a daily limit
DRIVE_LIMIT_KM = 250
# The organisation's own default times on site (minutes), beside the built-in ones.
DURATIONS = [("maintenance", None, 40), ("maintenance", "ceiling_lift", 60), ("installation", "ceiling_lift", 150),
             ("repair_on_site", "powered_wheelchair", 75)]


MUNICIPALITY_ORDER = [m for district in DISTRICT_MUNICIPALITIES for m in district]


@dataclass
class ResourceRows:
    resources: list[dict]  # technician_resource, staff_user as a staff index
    hours: list[dict]  # technician_hours
    skills: list[dict]  # technician_skill: staff index, category index
    restricted: list[int]  # skill_category: category indices
    durations: list[dict]  # visit_duration: type, category index or None, minutes


def _town(municipality: str) -> N.Town:
    return next(t for t in N.TOWNS if t.name == municipality)


def build_resources(staff: list[dict], staff_areas: list[dict], cost_bearers: list[dict],
                    categories: list[dict]) -> ResourceRows:
    covered: dict[int, list[str]] = {}
    for area in staff_areas:
        covered.setdefault(area["staff_user"], []).append(cost_bearers[area["cost_bearer"]]["name"])
    code_index = {c["code"]: i for i, c in enumerate(categories)}
    restricted = [code_index[c] for c in RESTRICTED_CODES if c in code_index]
    rows = ResourceRows([], [], [], restricted, [])
    for n, (who, municipalities) in enumerate(sorted(covered.items())):
        # The district's main municipality first (Köping before Kungsör), as the districts list them.
        outside = sorted((m for m in municipalities if m != "Västerås"), key=MUNICIPALITY_ORDER.index)
        # A technician covering every municipality (a small demo) starts at the depot too.
        if outside and len(municipalities) <= 3:
            town = _town(outside[0])
            label, place = f"Hemma i {town.name}", (town.latitude, town.longitude)
        else:
            label, place = "HMC Västerås", HMC_LOCATION
        early = n % 4 == 1
        rows.resources.append({
            "staff_user": who, "start_label": label, "start_latitude": place[0], "start_longitude": place[1],
            "lunch_earliest": time(11, 30) if not early else time(11), "lunch_latest": time(13),
            "lunch_minutes": 30 if n % 3 else 45,
            "max_drive_km": DRIVE_LIMIT_KM if outside and outside[0] == DRIVE_LIMITED_TOWN else None,
        })
        for weekday in range(5):
            starts, ends = (time(7), time(15, 30)) if early else (time(7, 30), time(16))
            rows.hours.append({"staff_user": who, "weekday": weekday, "starts": starts, "ends": ends})
        if n % 2 == 0:
            rows.skills += [{"staff_user": who, "device_category": c} for c in restricted]
    for type_, code, minutes in DURATIONS:
        if code is None or code in code_index:
            rows.durations.append({"type": type_, "device_category": code_index.get(code) if code else None,
                                   "minutes": minutes})
    return rows


async def load_resources(conn, org_id: int, rows: ResourceRows, bases: dict[str, int]) -> dict[str, int]:
    """Copy the rows in (inside the caller's transaction); returns rows per table."""
    staff, category = bases["staff_user"], bases["device_category"]
    await conn.copy_records_to_table(
        "technician_resource",
        columns=["staff_user", "start_label", "start_latitude", "start_longitude", "lunch_earliest", "lunch_latest",
                 "lunch_minutes", "max_drive_km"],
        records=[(staff + r["staff_user"], r["start_label"], r["start_latitude"], r["start_longitude"],
                  r["lunch_earliest"], r["lunch_latest"], r["lunch_minutes"], r["max_drive_km"])
                 for r in rows.resources])
    await conn.copy_records_to_table(
        "technician_hours", columns=["staff_user", "weekday", "starts", "ends"],
        records=[(staff + h["staff_user"], h["weekday"], h["starts"], h["ends"]) for h in rows.hours])
    await conn.copy_records_to_table(
        "technician_skill", columns=["staff_user", "device_category"],
        records=[(staff + s["staff_user"], category + s["device_category"]) for s in rows.skills])
    await conn.copy_records_to_table(
        "skill_category", columns=["organisation", "device_category"],
        records=[(org_id, category + c) for c in rows.restricted])
    await conn.copy_records_to_table(
        "visit_duration", columns=["organisation", "type", "device_category", "minutes"],
        records=[(org_id, d["type"], category + d["device_category"] if d["device_category"] is not None else None,
                  d["minutes"]) for d in rows.durations])
    return {"technician_resource": len(rows.resources), "technician_hours": len(rows.hours),
            "technician_skill": len(rows.skills), "skill_category": len(rows.restricted),
            "visit_duration": len(rows.durations)}
