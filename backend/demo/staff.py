"""The demo region's staff: the named demo people first, then technicians by district and
workshop, prescribers in every care unit, consultants, coordinators and admins."""

from __future__ import annotations

import random
from dataclasses import dataclass

from backend.demo import names as N
from backend.demo.common import Draw, Weighted, scaled

STAFF = {"technician": 12, "consultant": 5, "prescriber": 60, "coordinator": 3, "admin": 2}
# The districts technicians drive: six sectors of Västerås, five groups of smaller municipalities.
DISTRICT_MUNICIPALITIES: list[tuple[str, ...]] = [("Västerås",)] * 6 + [
    ("Köping", "Kungsör"), ("Arboga",), ("Sala",), ("Fagersta", "Norberg", "Skinnskatteberg"),
    ("Hallstahammar", "Surahammar"),
]
DISTRICTS = len(DISTRICT_MUNICIPALITIES)


@dataclass
class Staff:
    rows: list[dict]
    technicians: list[int]  # staff indices; the first is the demo technician
    prescribers_by_unit: dict[int, list[int]]  # care unit index -> staff indices
    workshop: list[int]  # technicians in the HMC's workshop
    district_techs: list[list[int]]  # district -> the field technicians who drive it

    def areas(self, municipality_cb: dict[str, int]) -> list[dict]:
        """The technicians' areas (staff_area rows): each field technician covers the
        municipalities of the districts they drive; the workshop's have none."""
        covered: dict[int, set[int]] = {}
        for district, techs in enumerate(self.district_techs):
            for t in techs:
                covered.setdefault(t, set()).update(municipality_cb[m] for m in DISTRICT_MUNICIPALITIES[district])
        return [{"staff_user": t, "cost_bearer": c} for t in sorted(covered) for c in sorted(covered[t])]


def build_staff(draw: Draw, care_units: list[dict]) -> Staff:
    rng = draw.rng
    staff = []
    used = set(N.DEMO_PEOPLE.values())
    counts = {role: scaled(n, draw.scale, 1) for role, n in STAFF.items()}
    counts["technician"] = max(2, counts["technician"])
    counts["prescriber"] = max(len(care_units), counts["prescriber"])
    # Prescribers: every unit gets one; the first (the demo person) works in
    # Hemsjukvården Västerås Norr, which has many patients; the rest follow the load.
    first_unit = next(i for i, u in enumerate(care_units) if u["name"] == "Hemsjukvården Västerås Norr")
    unit_order = [first_unit] + [i for i in range(len(care_units)) if i != first_unit]
    unit_weight = Weighted(
        (i, (4.0 if u["_municipality"] == "Västerås" else 1.5) if u["_kind"] == "municipal" else 1.0)
        for i, u in enumerate(care_units)
    )
    technicians: list[int] = []
    prescribers_by_unit: dict[int, list[int]] = {}
    for role in ("technician", "consultant", "prescriber", "coordinator", "admin"):
        for k in range(counts[role]):
            name = N.DEMO_PEOPLE[role] if k == 0 else _person_name(rng, used)
            unit = None
            if role == "prescriber":
                unit = unit_order[k] if k < len(unit_order) else unit_weight.pick(rng)
                prescribers_by_unit.setdefault(unit, []).append(len(staff))
            if role == "technician":
                technicians.append(len(staff))
            staff.append({"name": name, "role": role, "care_unit": unit,
                          "user_handle": rng.randbytes(16), "active": True})
    # The last technicians work in the HMC's workshop; the others drive a district each.
    n_workshop = max(1, round(len(technicians) / 12))
    workshop = technicians[-n_workshop:]
    field = technicians[:-n_workshop]
    district_techs = [[t for j, t in enumerate(field) if j % DISTRICTS == d] or [field[d % len(field)]]
                      for d in range(DISTRICTS)]
    draw.progress(f"staff {len(staff)}/{len(staff)}")
    return Staff(staff, technicians, prescribers_by_unit, workshop, district_techs)


def _person_name(rng: random.Random, used: set[str]) -> str:
    female = Weighted(N.YOUNGER_FEMALE_NAMES)
    male = Weighted(N.YOUNGER_MALE_NAMES)
    family = Weighted(N.FAMILY_NAMES)
    while True:
        given = (female if rng.random() < 0.7 else male).pick(rng)  # care staff: mostly women
        name = f"{given} {family.pick(rng)}"
        if name not in used:
            used.add(name)
            return name
