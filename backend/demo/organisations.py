"""The demo region's cost bearers (municipalities and the region's own) and care units."""

from __future__ import annotations

from dataclasses import dataclass

from backend.demo import names as N
from backend.demo.common import Draw


@dataclass
class Organisations:
    cost_bearers: list[dict]
    care_units: list[dict]
    municipality_cb: dict[str, int]  # municipality -> index of its cost bearer
    units_by: dict[tuple[str, str], list[int]]  # (unit kind, municipality) -> care unit indices


def build_organisations(draw: Draw) -> Organisations:
    """Västmanland's municipalities and regional cost bearers, and their care units, each
    with a phone number of its own in the municipality's area code."""
    rng = draw.rng
    cost_bearers = []
    municipality_cb: dict[str, int] = {}
    area_codes: dict[str, str] = {}
    for name, code, _, area in N.MUNICIPALITIES:
        municipality_cb[name] = len(cost_bearers)
        area_codes[name] = area
        cost_bearers.append({"name": name, "kind": "municipality", "code": code})
    region_cb = {}
    for code, name in N.REGIONAL_COST_BEARERS:
        region_cb[code] = len(cost_bearers)
        cost_bearers.append({"name": name, "kind": "region", "code": code})

    care_units = []
    used_phones: set[str] = set()

    def phone(municipality: str) -> str:
        area = area_codes[municipality]
        while True:
            if area == "021":
                number = f"021-17 {rng.randint(10, 99)} {rng.randint(10, 99)}"
            else:
                number = f"{area}-{rng.randint(10, 99)} {rng.randint(100, 999)}"
            if number not in used_phones:
                used_phones.add(number)
                return number

    for name, _, _, _ in N.MUNICIPALITIES:
        for unit in N.municipal_care_units(name):
            care_units.append({"cost_bearer": municipality_cb[name], "name": unit,
                               "phone": phone(name), "_municipality": name, "_kind": "municipal"})
    for cb_code, unit, municipality, kind in N.REGIONAL_CARE_UNITS:
        care_units.append({"cost_bearer": region_cb[cb_code], "name": unit,
                           "phone": phone(municipality), "_municipality": municipality,
                           "_kind": kind})
    units_by: dict[tuple[str, str], list[int]] = {}
    for i, u in enumerate(care_units):
        units_by.setdefault((u["_kind"], u["_municipality"]), []).append(i)
    draw.progress(f"cost bearers {len(cost_bearers)}, care units {len(care_units)}")
    return Organisations(cost_bearers, care_units, municipality_cb, units_by)
