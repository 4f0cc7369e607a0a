"""The demo region: a deterministic Region Västmanland, loaded with COPY in one transaction.

`build_region` draws every row in Python from one `random.Random(seed)` (same seed,
scale and day give the same data); `load_demo` reserves id ranges, turns the rows into
records and copies them in. Sizes follow docs/PRODUCT.md (HMC Västmanland, 2025).
"""

from __future__ import annotations

import heapq
import json
import math
import random
import time
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from datetime import time as clock
from typing import Callable, Iterable, Sequence
from zoneinfo import ZoneInfo

import holidays

from backend import db
from backend.demo import catalogue as C
from backend.demo.faults import build_faults, load_faults
from backend.demo.fittings import build_fittings, load_fittings
from backend.demo import names as N
from backend.piccolo_conf import DB
from backend.workorders.service import clocks_for

TZ = ZoneInfo("Europe/Stockholm")
MAX_SCALE = 40

ORGANISATION_NAME = "Hjälpmedelscentrum Västmanland"
ORGANISATION_SLUG = "vastmanland"
ORGANISATION_PHONE = "021-17 30 00"
HMC_LOCATION = (59.6162, 16.4981)  # the HMC's depot in Västerås: where routes start

PATIENTS = 23_000
ORDERS_PER_YEAR = 15_000  # technical work orders (AU and FU together)
FU_SHARE = 0.45  # share of those that are FU
HISTORY_DAYS = 730
# Why a visit could not be done, and what the technician left for the orderer.
NOT_COMPLETED = [
    ("not_home", "Brukaren var inte hemma vid besöket. Ring hjälpmedelscentralen för en ny tid."),
    ("unreachable", "Vi har sökt brukaren tre gånger utan svar. Kontakta oss när brukaren kan nås."),
    ("declined", "Brukaren tackade nej till besöket och vill avvakta."),
]
STAFF = {"technician": 12, "consultant": 5, "prescriber": 60, "coordinator": 3, "admin": 2}
DISTRICTS = 11  # six sectors of Västerås, five groups of smaller municipalities
OVERDUE_FU_SHARE = 0.02  # the HMC caught up with its FU backlog in 2025
PROTECTED_SHARE = 0.007

# Working days from receipt to completion for repairs: 82 % within 5 (2025 outcome).
REPAIR_DELAYS = [(0, 4), (1, 14), (2, 17), (3, 17), (4, 16), (5, 14), (6, 4), (7, 3), (8, 3),
                 (9, 2), (10, 2), (12, 1.5), (15, 1.5), (20, 1)]
AU_TYPES = [("repair_on_site", 55), ("repair_hmc", 17), ("quick_service", 9), ("urgent_repair", 6),
            ("technical_review", 7), ("installation", 6)]
INSTALLED_CATEGORIES = {"ceiling_lift", "care_bed", "bed_lift", "powered_wheelchair",
                        "communication_device", "standing_aid", "mobile_lift"}
WORKSHOP_TYPES = {"repair_hmc", "quick_service"}


@dataclass(frozen=True)
class DemoSummary:
    organisation_id: int
    counts: dict[str, int]  # table name -> rows inserted
    seconds: float


class DemoAlreadyLoaded(RuntimeError):
    """The demo organisation exists already; delete it first."""


# --- Rules that are easy to get wrong, kept small for unit tests ---------------------


def luhn_digit(digits: str) -> int:
    """The check digit of a personnummer's first nine digits (modulus 10, weights 2 and 1)."""
    total = 0
    for i, ch in enumerate(digits):
        v = int(ch) * (2 if i % 2 == 0 else 1)
        total += v - 9 if v > 9 else v
    return (10 - total % 10) % 10


def personnummer(born: date, birth_number: int) -> str:
    """'YYYYMMDD-NNNC': birth number NNN (odd for men, even for women) and check digit C."""
    core = f"{born:%y%m%d}{birth_number:03d}"
    return f"{born:%Y%m%d}-{birth_number:03d}{luhn_digit(core)}"


def personnummer_is_valid(value: str) -> bool:
    if len(value) != 13 or value[8] != "-" or not (value[:8] + value[9:]).isdigit():
        return False
    try:
        date(int(value[:4]), int(value[4:6]), int(value[6:8]))
    except ValueError:
        return False
    return luhn_digit(value[2:8] + value[9:12]) == int(value[12])


class WorkCalendar:
    """Swedish working days: no weekends, public holidays or de facto holidays (julafton…)."""

    def __init__(self, first: date, last: date) -> None:
        off = holidays.country_holidays(
            "SE", categories=("public", "de_facto"), years=range(first.year, last.year + 1)
        )
        span = (last - first).days + 1
        self.days = [
            d for d in (first + timedelta(n) for n in range(span)) if d.weekday() < 5 and d not in off
        ]

    def is_working(self, d: date) -> bool:
        i = bisect_left(self.days, d)
        return i < len(self.days) and self.days[i] == d

    def on_or_after(self, d: date) -> date:
        return self.days[bisect_left(self.days, d)]

    def on_or_before(self, d: date) -> date:
        return self.days[bisect_right(self.days, d) - 1]

    def add(self, d: date, n: int) -> date:
        """The n-th working day after d (n = 0: d itself, or the next working day)."""
        if n <= 0:
            return self.on_or_after(d)
        return self.days[bisect_right(self.days, d) + n - 1]

    def subtract(self, d: date, n: int) -> date:
        """The n-th working day before d."""
        return self.days[bisect_left(self.days, d) - n]

    def between(self, first: date, end: date) -> list[date]:
        """Working days in [first, end)."""
        return self.days[bisect_left(self.days, first) : bisect_left(self.days, end)]

    def count_after(self, first: date, last: date) -> int:
        """Working days after `first` up to and including `last`."""
        return bisect_right(self.days, last) - bisect_right(self.days, first)


class Weighted:
    """A fixed weighted choice, drawn with a given rng."""

    def __init__(self, items: Iterable[tuple[object, float]]) -> None:
        self.values: list = []
        self.cum: list[float] = []
        total = 0.0
        for value, weight in items:
            if weight > 0:
                total += weight
                self.values.append(value)
                self.cum.append(total)
        self.total = total

    def pick(self, rng: random.Random):
        return self.values[bisect_right(self.cum, rng.random() * self.total)]


def _sample(rng: random.Random, pool: Sequence[int], weight: Callable[[int], float], k: int) -> list[int]:
    """k distinct members of pool, weighted, without replacement (exponential keys)."""
    if k <= 0 or not pool:
        return []
    keyed = []
    for i in pool:
        w = weight(i)
        if w > 0:
            keyed.append((-math.log(1.0 - rng.random()) / w, i))
    return [i for _, i in heapq.nsmallest(k, keyed)]


def _add_years(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February
        return d.replace(year=d.year + years, day=28)


def _at(d: date, minutes: int) -> datetime:
    return datetime.combine(d, clock(minutes // 60, minutes % 60), TZ)


def _scaled(n: float, scale: float, minimum: int = 0) -> int:
    return max(minimum, round(n * scale))


# --- Building the region -------------------------------------------------------------


@dataclass
class Region:
    """All rows, with foreign keys as 0-based indices into the referenced list."""

    cost_bearers: list[dict]
    care_units: list[dict]
    staff: list[dict]
    patients: list[dict]
    categories: list[dict]
    articles: list[dict]
    devices: list[dict]
    checklists: list[dict]
    work_orders: list[dict]
    target_day: date
    checklist_answers: list[dict]
    safety_decisions: list[dict]  # the first planned working day (today, or the next working day)


class _Builder:
    def __init__(self, scale: float, seed: int, today: date, progress: Callable[[str], None]) -> None:
        self.rng = random.Random(seed)
        self.scale = scale
        self.today = today
        self.progress = progress
        self.cal = WorkCalendar(today - timedelta(days=HISTORY_DAYS + 400), today + timedelta(days=400))
        self.target_day = self.cal.on_or_after(today)
        self.clocks = clocks_for(None)

    # -- organisations, units, staff

    def build(self) -> Region:
        self._cost_bearers_and_units()
        self._staff()
        self._patients()
        self._catalogue()
        self._devices()
        self._work_orders()
        answers, decisions = self._fu_results()
        return Region(
            self.cost_bearers, self.care_units, self.staff, self.patients, self.categories,
            self.articles, self.devices, self.checklists, self.work_orders, self.target_day,
            answers, decisions,
        )

    def _cost_bearers_and_units(self) -> None:
        rng = self.rng
        self.cost_bearers = []
        self.municipality_cb: dict[str, int] = {}
        self.area_codes: dict[str, str] = {}
        for name, code, _, area in N.MUNICIPALITIES:
            self.municipality_cb[name] = len(self.cost_bearers)
            self.area_codes[name] = area
            self.cost_bearers.append({"name": name, "kind": "municipality", "code": code})
        region_cb = {}
        for code, name in N.REGIONAL_COST_BEARERS:
            region_cb[code] = len(self.cost_bearers)
            self.cost_bearers.append({"name": name, "kind": "region", "code": code})

        self.care_units = []
        used_phones: set[str] = set()

        def phone(municipality: str) -> str:
            area = self.area_codes[municipality]
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
                self.care_units.append({"cost_bearer": self.municipality_cb[name], "name": unit,
                                        "phone": phone(name), "_municipality": name, "_kind": "municipal"})
        for cb_code, unit, municipality, kind in N.REGIONAL_CARE_UNITS:
            self.care_units.append({"cost_bearer": region_cb[cb_code], "name": unit,
                                    "phone": phone(municipality), "_municipality": municipality,
                                    "_kind": kind})
        self.units_by = {}
        for i, u in enumerate(self.care_units):
            self.units_by.setdefault((u["_kind"], u["_municipality"]), []).append(i)
        self.progress(f"cost bearers {len(self.cost_bearers)}, care units {len(self.care_units)}")

    def _person_name(self, used: set[str]) -> str:
        rng = self.rng
        female = Weighted(N.YOUNGER_FEMALE_NAMES)
        male = Weighted(N.YOUNGER_MALE_NAMES)
        family = Weighted(N.FAMILY_NAMES)
        while True:
            given = (female if rng.random() < 0.7 else male).pick(rng)  # care staff: mostly women
            name = f"{given} {family.pick(rng)}"
            if name not in used:
                used.add(name)
                return name

    def _staff(self) -> None:
        rng = self.rng
        self.staff = []
        used = set(N.DEMO_PEOPLE.values())
        counts = {role: _scaled(n, self.scale, 1) for role, n in STAFF.items()}
        counts["technician"] = max(2, counts["technician"])
        counts["prescriber"] = max(len(self.care_units), counts["prescriber"])
        # Prescribers: every unit gets one; the first (the demo person) works in
        # Hemsjukvården Västerås Norr, which has many patients; the rest follow the load.
        first_unit = next(i for i, u in enumerate(self.care_units) if u["name"] == "Hemsjukvården Västerås Norr")
        unit_order = [first_unit] + [i for i in range(len(self.care_units)) if i != first_unit]
        unit_weight = Weighted(
            (i, (4.0 if u["_municipality"] == "Västerås" else 1.5) if u["_kind"] == "municipal" else 1.0)
            for i, u in enumerate(self.care_units)
        )
        self.technicians: list[int] = []
        self.prescribers_by_unit: dict[int, list[int]] = {}
        for role in ("technician", "consultant", "prescriber", "coordinator", "admin"):
            for k in range(counts[role]):
                name = N.DEMO_PEOPLE[role] if k == 0 else self._person_name(used)
                unit = None
                if role == "prescriber":
                    unit = unit_order[k] if k < len(unit_order) else unit_weight.pick(rng)
                    self.prescribers_by_unit.setdefault(unit, []).append(len(self.staff))
                if role == "technician":
                    self.technicians.append(len(self.staff))
                self.staff.append({"name": name, "role": role, "care_unit": unit,
                                   "user_handle": rng.randbytes(16), "active": True})
        # The last technicians work in the HMC's workshop; the others drive a district each.
        n_workshop = max(1, round(len(self.technicians) / 12))
        self.workshop = self.technicians[-n_workshop:]
        field = self.technicians[:-n_workshop]
        self.district_techs = [[t for j, t in enumerate(field) if j % DISTRICTS == d] or [field[d % len(field)]]
                               for d in range(DISTRICTS)]
        self.progress(f"staff {len(self.staff)}/{len(self.staff)}")

    # -- patients

    def _patients(self) -> None:
        rng = self.rng
        n = _scaled(PATIENTS, self.scale, 1)
        municipality = Weighted((name, pop) for name, _, pop, _ in N.MUNICIPALITIES)
        towns = {name: Weighted((t, t.weight) for t in N.TOWNS if t.municipality == name)
                 for name, _, _, _ in N.MUNICIPALITIES}
        ages = Weighted([((2, 17), 3), ((18, 44), 6), ((45, 64), 14), ((65, 74), 17), ((75, 84), 30),
                         ((85, 94), 25), ((95, 102), 5)])
        older_f, older_m = Weighted(N.OLDER_FEMALE_NAMES), Weighted(N.OLDER_MALE_NAMES)
        young_f, young_m = Weighted(N.YOUNGER_FEMALE_NAMES), Weighted(N.YOUNGER_MALE_NAMES)
        family = Weighted(N.FAMILY_NAMES)
        notes = Weighted(N.ACCESS_NOTES)
        postal: dict[tuple[str, str], str] = {}
        used_pnr: set[str] = set()
        fiction_lo, fiction_hi = N.FICTION_MOBILE_RANGE
        vas = next(t for t in N.TOWNS if t.name == "Västerås")
        group = {"Köping": 6, "Kungsör": 6, "Arboga": 7, "Sala": 8, "Fagersta": 9, "Norberg": 9,
                 "Skinnskatteberg": 9, "Hallstahammar": 10, "Surahammar": 10}
        self.patients = []
        protected = set(rng.sample(range(n), max(1, round(n * PROTECTED_SHARE))))
        for i in range(n):
            mun = municipality.pick(rng)
            town = towns[mun].pick(rng)
            rural = rng.random() < 0.12
            spread = town.spread * (4 if rural else 1)
            lat = round(town.latitude + rng.gauss(0, spread), 6)
            lon = round(town.longitude + rng.gauss(0, spread * 1.98), 6)
            streets = town.streets if town.streets and rng.random() < 0.6 else N.COMMON_STREETS
            street = rng.choice(streets)
            key = (town.name, street)
            if key not in postal:
                code = rng.randint(*town.postal_range)
                postal[key] = f"{code // 100:03d} {code % 100:02d}"
            number = rng.randint(1, 40) if rng.random() < 0.8 else rng.randint(41, 120)
            letter = rng.choice("ABC") if rng.random() < 0.08 else ""

            lo, hi = ages.pick(rng)
            age = rng.randint(lo, hi)
            female = rng.random() < (0.5 if age < 65 else 0.58 if age < 85 else 0.68)
            born = date(self.today.year - age, 1, 1) + timedelta(days=rng.randint(0, 364))
            if born > self.today:
                born = born.replace(year=born.year - 1)
            pnr = self._personnummer(born, female, used_pnr)
            if born.year < 1961:
                given = (older_f if female else older_m).pick(rng)
            else:
                given = (young_f if female else young_m).pick(rng)
            if rng.random() < 0.06:  # a second given name, as in 'Anna Maria'
                given = f"{given} {(older_f if female else older_m).pick(rng)}"
                if given.split()[0] == given.split()[1]:
                    given = given.split()[0]

            kind = self._unit_kind(age)
            unit = self._care_unit_for(kind, mun, town.name, age)
            care = min(0.999, rng.betavariate(1.6, 3.5) + (0.15 if age >= 85 else 0.08 if age >= 75 else 0)
                       + (0.2 if kind == "habilitation" else 0))
            if mun == "Västerås":
                angle = math.atan2(lat - vas.latitude, (lon - vas.longitude) / 1.98)
                district = int((angle + math.pi) / (2 * math.pi) * 6) % 6
            else:
                district = group[mun]
            door = ""
            r = rng.random()
            if r < 0.22:
                door = f"{rng.randint(1000, 9999)}"
            elif r < 0.30:
                door = f"Port {rng.randint(1000, 9999)}#"
            self.patients.append({
                "care_unit": unit,
                "cost_bearer": self.municipality_cb[mun],
                "personal_number": pnr,
                "given_name": given,
                "family_name": family.pick(rng),
                "birth_year": born.year,
                "sex": "F" if female else "M",
                "street": f"{street} {number}{letter}",
                "postal_code": postal[key],
                "city": town.name,
                "latitude": lat,
                "longitude": lon,
                "phone": (f"{N.FICTION_MOBILE_PREFIX} {rng.randint(fiction_lo, fiction_hi):02d}"
                          if rng.random() < 0.93 else ""),
                "door_code": door,
                "access_notes": notes.pick(rng) if rng.random() < 0.18 else "",
                "protected_identity": i in protected,
                "_age": age, "_care": care, "_kind": kind, "_district": district,
            })
        self.progress(f"patients {n}/{n} generated")

    def _personnummer(self, born: date, female: bool, used: set[str]) -> str:
        """A Luhn-valid, unique personnummer; prefers birth numbers 980–999, a range
        used for test personnummer, and falls back to other numbers when that runs out."""
        rng = self.rng
        day = born
        for attempt in range(12):
            if attempt < 6:
                base = rng.randint(980, 998)
            else:
                base = rng.randint(2, 978)
            birth_number = base - (base % 2) + (0 if female else 1)
            if birth_number < 1:
                birth_number += 2
            value = personnummer(day, birth_number)
            if value not in used:
                used.add(value)
                return value
            if attempt == 3:  # try a neighbouring birthday before leaving the test range
                day = born + timedelta(days=rng.choice((-2, -1, 1, 2)))
                if day > self.today or day.year != born.year:
                    day = born
        while True:
            value = personnummer(born, rng.randrange(1 if not female else 0, 1000, 2) or 2)
            if value not in used:
                used.add(value)
                return value

    def _unit_kind(self, age: int) -> str:
        r = self.rng.random()
        if age < 18 or (age < 40 and r < 0.6) or (age < 65 and r < 0.12):
            return "habilitation"
        if r < 0.06:
            return "specialist"
        if r < 0.20:
            return "primary"
        return "municipal"

    def _care_unit_for(self, kind: str, municipality: str, town: str, age: int) -> int:
        rng = self.rng
        if kind == "habilitation":
            if age < 18:
                return self.units_by[("habilitation", "Västerås")][1]
            if municipality in ("Köping", "Fagersta", "Arboga", "Kungsör", "Norberg", "Skinnskatteberg"):
                return self.units_by[("habilitation", "Köping")][0]
            return self.units_by[("habilitation", "Västerås")][0]
        if kind == "specialist":
            return rng.choice(self.units_by[("specialist", "Västerås")])
        if kind == "primary":
            units = self.units_by[("primary", municipality)]
            if town == "Skultuna":
                return next(u for u in units if "Skultuna" in self.care_units[u]["name"])
            return rng.choice(units)
        return rng.choice(self.units_by[("municipal", municipality)])

    # -- assortment

    def _catalogue(self) -> None:
        rng = self.rng
        self.categories = []
        self.cat_index: dict[str, int] = {}
        for c in C.CATEGORIES:
            self.cat_index[c.code] = len(self.categories)
            self.categories.append({"code": c.code, "name": c.name, "iso_code": c.iso_code,
                                    "fu_interval_days": c.fu_interval_days,
                                    "expected_life_years": c.expected_life_years})
        self.articles = []
        self.article_choice: dict[str, Weighted] = {}
        per_cat: dict[str, list[tuple[int, int]]] = {}
        for code, number, name, maker, share in C.ARTICLES:
            per_cat.setdefault(code, []).append((len(self.articles), share))
            self.articles.append({"article_number": number, "name": name, "manufacturer": maker,
                                  "category": self.cat_index[code]})
        self.article_choice = {code: Weighted(items) for code, items in per_cat.items()}
        parts = C.spare_parts()
        numbers = sorted(rng.sample(range(500_000, 600_000), len(parts)))
        for number, (name, maker) in zip(numbers, parts):
            self.articles.append({"article_number": str(number), "name": name, "manufacturer": maker,
                                  "category": None})
        self.checklists = [
            {"category": self.cat_index[code], "version": 1, "items": json.dumps(items, ensure_ascii=False)}
            for code, items in C.CHECKLISTS.items()
        ]

    # -- devices

    def _holders(self) -> dict[str, list[int]]:
        """For each category, the patient index of every device lent out (repeats allowed)."""
        rng = self.rng
        P = self.patients
        everyone = list(range(len(P)))
        out: dict[str, list[int]] = {}

        def need(code: str) -> int:
            cat = C.CATEGORY_BY_CODE[code]
            return round(_scaled(cat.total, self.scale, 1) * cat.in_use_share)

        def care(i: int) -> float:
            return P[i]["_care"]

        def split(code: str, first_pool: list[int], share: float, w: Callable[[int], float]) -> list[int]:
            k = need(code)
            first = _sample(rng, first_pool, w, min(round(k * share), len(first_pool)))
            taken = set(first)
            rest = _sample(rng, [i for i in everyone if i not in taken], w, k - len(first))
            return first + rest

        out["care_bed"] = _sample(rng, everyone, lambda i: care(i) ** 3 + 0.002, need("care_bed"))
        beds = out["care_bed"]
        out["ceiling_lift"] = split("ceiling_lift", beds, 0.9, lambda i: care(i) ** 2 + 0.01)
        ceiling = set(out["ceiling_lift"])
        out["mobile_lift"] = split("mobile_lift", [i for i in beds if i not in ceiling], 0.75,
                                   lambda i: (care(i) ** 2 + 0.01) * (0 if i in ceiling else 1))
        lifts = out["ceiling_lift"] + out["mobile_lift"]
        k = need("lift_sling")
        if lifts:
            slings = lifts[:k] + [rng.choice(lifts) for _ in range(max(0, k - len(lifts)))]
        else:
            slings = _sample(rng, everyone, lambda i: care(i) ** 2, k)
        out["lift_sling"] = slings
        out["pressure_mattress"] = split("pressure_mattress", beds, 0.85, lambda i: care(i) ** 2 + 0.01)
        bedset = set(beds)
        out["bed_lift"] = _sample(rng, everyone, lambda i: 0 if i in bedset else care(i), need("bed_lift"))
        out["manual_wheelchair"] = _sample(rng, everyone, lambda i: care(i) + 0.05, need("manual_wheelchair"))

        def powered(i: int) -> float:
            p = P[i]
            return ((4 if p["_kind"] in ("habilitation", "specialist") else 0.5)
                    * (1.0 if p["_age"] < 80 else 0.3) * (care(i) + 0.1))

        out["powered_wheelchair"] = _sample(rng, everyone, powered, need("powered_wheelchair"))
        out["scooter"] = _sample(rng, everyone, lambda i: (1 if 55 <= P[i]["_age"] <= 88 else 0.05)
                                 * (1 - care(i)), need("scooter"))
        chairs = sorted(set(out["manual_wheelchair"]) | set(out["powered_wheelchair"]))
        out["pressure_cushion"] = split("pressure_cushion", chairs, 0.6, lambda i: care(i) + 0.05)
        out["standing_aid"] = _sample(rng, everyone, lambda i: 10 if P[i]["_kind"] == "habilitation"
                                      else 0.3 if P[i]["_age"] < 65 else 0.01, need("standing_aid"))
        out["communication_device"] = _sample(
            rng, everyone, lambda i: {"habilitation": 6, "specialist": 3}.get(P[i]["_kind"], 0.1),
            need("communication_device"))
        out["rollator"] = _sample(rng, everyone, lambda i: (1 - care(i)) * (1 if P[i]["_age"] >= 60 else 0.3),
                                  need("rollator"))
        out["walking_table"] = _sample(rng, everyone, lambda i: (1 - care(i)) * 0.8, need("walking_table"))
        out["shower_chair"] = _sample(rng, everyone, lambda i: 1.0, need("shower_chair"))
        out["toilet_raiser"] = _sample(rng, everyone, lambda i: 1.0, need("toilet_raiser"))
        out["commode_chair"] = _sample(rng, everyone, lambda i: care(i) + 0.1, need("commode_chair"))
        return out

    def _devices(self) -> None:
        rng, today, cal = self.rng, self.today, self.cal
        holders = self._holders()
        # Everyone on the register holds at least one device: give the others a
        # rollator or a shower chair out of the depot.
        holding = [0] * len(self.patients)
        for items in holders.values():
            for i in items:
                holding[i] += 1
        for i, count in enumerate(holding):
            if count == 0:
                holders["rollator" if self.patients[i]["_care"] < 0.5 else "shower_chair"].append(i)
        municipality_owner = Weighted((self.municipality_cb[name], pop) for name, _, pop, _ in N.MUNICIPALITIES)

        devices: list[dict] = []
        for cat in C.CATEGORIES:
            lent = holders[cat.code]
            total = max(_scaled(cat.total, self.scale, 1), len(lent) + 1)
            for k in range(total):
                holder = lent[k] if k < len(lent) else None
                devices.append(self._device(cat, holder, municipality_owner))
        # Statuses other than in use and in depot.
        in_use = [d for d in devices if d["holder"] is not None]
        fault = Weighted((d, C.CATEGORY_BY_CODE[d["_cat"]].fault_weight) for d in in_use)
        chosen: set[int] = set()
        for _ in range(_scaled(150, self.scale, 1)):
            d = fault.pick(rng)
            if id(d) not in chosen:
                chosen.add(id(d))
                d["status"] = "in_repair"
        fu_in_use = [d for d in in_use if d["_interval"] and d["status"] == "in_use"]
        for d in rng.sample(fu_in_use, min(len(fu_in_use), _scaled(20, self.scale, 1))):
            d["status"] = "out_of_use"  # failed a safety item at a recent FU
            last = cal.subtract(today, rng.randint(2, 15))
            d["last_fu_date"] = max(last, d["in_service_date"])
            d["next_fu_date"] = d["last_fu_date"] + timedelta(days=d["_interval"])
        depot = [d for d in devices if d["holder"] is None]
        for d in rng.sample(depot, min(len(depot), _scaled(250, self.scale, 1))):
            d["status"] = "reconditioning"
        # Condemned devices: each gets its last repair order later.
        condemn = Weighted((c, c.fault_weight) for c in C.CATEGORIES)
        for _ in range(_scaled(240, self.scale, 1)):
            cat = condemn.pick(rng)
            d = self._device(cat, None, municipality_owner)
            d.update(status="condemned", next_fu_date=None)
            devices.append(d)

        # Individnummer follow the purchase order: sort by date in service.
        for d in devices:
            d["_tiebreak"] = rng.random()
        devices.sort(key=lambda d: (d["in_service_date"], d["_tiebreak"]))
        number = 0
        for d in devices:
            number += rng.randint(1, 3)
            letter = chr(ord("A") + number // 900_000)
            d["individnummer"] = f"{letter}{100_000 + number % 900_000}"
        self.devices = devices
        self.progress(f"devices {len(devices)}/{len(devices)} generated")

    def _device(self, cat: C.Category, holder: int | None, municipality_owner: Weighted) -> dict:
        rng, today, cal = self.rng, self.today, self.cal
        article = self.article_choice[cat.code].pick(rng)
        maker = self.articles[article]["manufacturer"]
        oldest = int(min(10.0, cat.expected_life_years * 1.4) * 365)
        in_service = today - timedelta(days=rng.randint(20, oldest))
        if holder is not None:
            owner = self.patients[holder]["cost_bearer"] if rng.random() < 0.85 else None
        else:
            owner = municipality_owner.pick(rng) if rng.random() < 0.5 else None
        interval = cat.fu_interval_days
        last = nxt = None
        if interval:
            if rng.random() < OVERDUE_FU_SHARE:
                offset = -rng.randint(1, 90)
            else:
                offset = rng.randint(0, interval - 1)
            last = cal.on_or_before(today + timedelta(days=offset - interval))
            if last < in_service:
                last = None
                nxt = in_service + timedelta(days=interval)
            else:
                nxt = last + timedelta(days=interval)
        serial = f"{''.join(ch for ch in maker if ch.isalpha())[:2].upper()}{in_service.year % 100:02d}" \
                 f"{rng.randint(0, 999_999):06d}"
        return {
            "serial_number": serial,
            "article": article,
            "status": "in_use" if holder is not None else "in_depot",
            "holder": holder,
            "owner": owner,
            "in_service_date": in_service,
            "expected_end_of_life": _add_years(in_service, cat.expected_life_years),
            "last_fu_date": last,
            "next_fu_date": nxt,
            "_cat": cat.code,
            "_interval": interval,
        }

    # -- work orders

    def _order(self, kind: str, device: int, day_received: date, minutes: int, **extra) -> dict:
        d = self.devices[device]
        patient = extra.pop("patient", d["holder"])
        order = {
            "type": kind, "status": "new", "channel": "generated", "device": device, "patient": patient,
            "care_unit": None, "orderer": None, "description": "", "assignee": None,
            "planned_date": None, "window_start": None, "window_end": None, "route_position": None,
            "version": 1, "received_at": _at(day_received, minutes), "start_due": None, "finish_due": None,
            "started_at": None, "completed_at": None, "cancelled_at": None, "cancel_reason": None,
            "outcome": None, "not_completed_reason": None, "message_to_orderer": None,
        }
        order.update(extra)
        # The organisation's clocks are the defaults (organisation.clocks is left empty).
        clock = self.clocks.get(kind, {})
        if "start" in clock:
            order["start_due"] = self.cal.add(day_received, clock["start"])
        if "finish" in clock:
            order["finish_due"] = self.cal.add(day_received, clock["finish"])
        return order

    def _orderer(self, order: dict, channel: str) -> None:
        order["channel"] = channel
        if channel == "prescriber" and order["patient"] is not None:
            unit = self.patients[order["patient"]]["care_unit"]
            order["care_unit"] = unit
            order["orderer"] = self.rng.choice(self.prescribers_by_unit[unit])

    def _describe(self, order: dict) -> None:
        rng = self.rng
        d = self.devices[order["device"]]
        cat = C.CATEGORY_BY_CODE[d["_cat"]]
        kind = order["type"]
        if kind == "maintenance":
            order["description"] = {182: "Halvårskontroll av lyftsele enligt intervall",
                                    730: "FU vartannat år enligt tillverkarens intervall"}.get(
                cat.fu_interval_days, "Årlig FU enligt intervall")
        elif kind == "installation":
            order["description"] = f"Installation och anpassning av {cat.name.lower()} i hemmet"
        elif kind == "technical_review":
            order["description"] = f"Teknisk översyn av {cat.name.lower()} efter förskrivarens bedömning"
        else:
            fault = rng.choice(C.FAULTS[cat.code])
            if kind == "quick_service":
                fault += " (inlämnad på HMC)"
            elif kind == "urgent_repair":
                fault = "AKUT: " + fault
            order["description"] = fault

    def _assignee(self, order: dict) -> int:
        if order["type"] in WORKSHOP_TYPES:
            return self.rng.choice(self.workshop)
        patient = order["patient"]
        district = self.patients[patient]["_district"] if patient is not None else 0
        return self.rng.choice(self.district_techs[district])

    def _complete(self, order: dict, day: date, outcome: str) -> None:
        rng = self.rng
        start = rng.randint(8 * 60, 15 * 60)
        order["assignee"] = self._assignee(order)
        order["planned_date"] = day
        order["status"] = "completed"
        order["started_at"] = _at(day, start)
        order["completed_at"] = _at(day, start + rng.randint(15, 110))
        order["outcome"] = outcome

    def _cancel(self, order: dict, day: date) -> None:
        order["status"] = "cancelled"
        order["cancelled_at"] = _at(day, self.rng.randint(8 * 60, 16 * 60))
        order["cancel_reason"] = Weighted(N.CANCEL_REASONS).pick(self.rng)

    def _work_orders(self) -> None:
        rng, cal, today, scale = self.rng, self.cal, self.today, self.scale
        orders: list[dict] = []
        open_candidates: list[tuple[date, dict]] = []
        lent = [i for i, d in enumerate(self.devices) if d["holder"] is not None]
        fault_pick = Weighted((i, C.CATEGORY_BY_CODE[self.devices[i]["_cat"]].fault_weight) for i in lent)
        install_pick = Weighted((i, 1.0) for i in lent if self.devices[i]["_cat"] in INSTALLED_CATEGORIES)
        au_types = Weighted(AU_TYPES)
        delays = Weighted(REPAIR_DELAYS)
        au_outcomes = Weighted([("fixed", 80), ("needs_follow_up", 8), ("taken_to_workshop", 6),
                                ("replacement_left", 6)])
        history = cal.between(today - timedelta(days=HISTORY_DAYS), today)
        last_closed = history[-1]
        au_per_day = ORDERS_PER_YEAR * (1 - FU_SHARE) * scale * HISTORY_DAYS / 365 / len(history)
        carry = 0.0
        for n_day, day in enumerate(history):
            carry += au_per_day * rng.uniform(0.8, 1.2)
            count = int(carry)
            carry -= count
            web_share = 12 + 10 * n_day / len(history)  # digital share grows
            for _ in range(count):
                kind = au_types.pick(rng)
                device = None
                for _ in range(5):
                    candidate = (install_pick if kind == "installation" else fault_pick).pick(rng)
                    if self.devices[candidate]["in_service_date"] < day:
                        device = candidate
                        break
                if device is None:
                    continue
                minutes = rng.randint(7 * 60 + 30, 16 * 60 + 30)
                order = self._order(kind, device, day, minutes)
                if kind == "quick_service":
                    self._orderer(order, "hmc")
                elif kind in ("urgent_repair", "technical_review", "installation"):
                    self._orderer(order, "prescriber")
                else:
                    self._orderer(order, Weighted([("prescriber", 50), ("phone", 38 - web_share),
                                                   ("web", web_share + 12)]).pick(rng))
                self._describe(order)
                if kind == "urgent_repair":
                    delay = 0 if minutes < 12 * 60 else 1
                elif kind == "quick_service":
                    delay = Weighted([(0, 40), (1, 30), (2, 20), (3, 10)]).pick(rng)
                elif kind == "technical_review":
                    delay = rng.randint(2, 12)
                else:
                    delay = delays.pick(rng)
                done = cal.add(day, delay)
                if rng.random() < 0.03:
                    self._cancel(order, min(cal.add(day, rng.randint(0, 3)), last_closed))
                    orders.append(order)
                elif done < today:
                    outcome = au_outcomes.pick(rng)
                    if kind in WORKSHOP_TYPES and outcome == "taken_to_workshop":
                        outcome = "fixed"
                    self._complete(order, done, outcome)
                    if done >= cal.subtract(today, 5) and rng.random() < 0.06:
                        # Recently started and not finished: waiting for parts, or back to planning.
                        order["status"] = rng.choice(("paused", "not_completed"))
                        order["completed_at"] = order["outcome"] = None
                        if order["status"] == "not_completed":
                            reason, message = rng.choice(NOT_COMPLETED)
                            order.update(not_completed_reason=reason, message_to_orderer=message)
                    orders.append(order)
                else:
                    open_candidates.append((done, order))
        self.progress(f"work orders: {len(orders)} repairs generated")

        # FU orders due in the coming weeks (and the few overdue): generated about
        # four weeks before the due date, so only those already generated exist.
        fu_devices = [i for i in lent if self.devices[i]["_interval"]]
        events = sum(self._fu_events(i, count_only=True) for i in fu_devices)
        target_fu = ORDERS_PER_YEAR * FU_SHARE * scale * HISTORY_DAYS / 365
        self.p_fu = min(1.0, target_fu / events) if events else 1.0
        horizon_end = cal.add(self.target_day, 25)
        for i in fu_devices:
            d = self.devices[i]
            due = d["next_fu_date"]
            if d["status"] != "in_use" or due > horizon_end:
                continue
            overdue = due < today
            if not overdue and rng.random() >= self.p_fu:
                continue
            received = cal.subtract(cal.on_or_after(due), rng.randint(15, 22))
            if received >= today:
                continue
            order = self._order("maintenance", i, received, 6 * 60, finish_due=due)
            self._describe(order)
            open_candidates.append((max(self.target_day, cal.on_or_after(due)), order))

        orders.extend(self._plan(open_candidates))
        orders.extend(self._special_open_orders())
        orders.extend(self._fu_history())
        orders.extend(self._condemned_history())

        # Numbers follow the order of receipt, per year.
        for n, o in enumerate(orders):
            o["_seq"] = n
        orders.sort(key=lambda o: (o["received_at"], o["_seq"]))
        per_year: dict[int, int] = {}
        for o in orders:
            year = o["received_at"].year
            per_year[year] = per_year.get(year, 0) + 1
            o["number"] = f"AO-{year}-{per_year[year]:06d}"
            o["updated_at"] = o["completed_at"] or o["cancelled_at"] or o["started_at"] or o["received_at"]
        self.work_orders = orders
        self.progress(f"work orders {len(orders)}/{len(orders)} generated")

    def _plan(self, candidates: list[tuple[date, dict]]) -> list[dict]:
        """Place open orders in technicians' days; fill the near days; set routes and windows."""
        rng, cal = self.rng, self.cal
        horizon = [cal.add(self.target_day, k) for k in range(20)]
        capacity: dict[tuple[int, date], int] = {}
        demo_tech = self.technicians[0]
        for t in self.technicians:
            if t in self.workshop:
                continue
            for k, day in enumerate(horizon):
                if t == demo_tech and k < 6:
                    capacity[(t, day)] = rng.randint(6, 10)
                elif k < 5:
                    capacity[(t, day)] = rng.randint(5, 8)
                elif k < 10:
                    capacity[(t, day)] = rng.randint(3, 6)
                else:
                    capacity[(t, day)] = rng.randint(0, 3)
        wanted = dict(capacity)
        planned: dict[tuple[int, date], list[dict]] = {}
        out = []
        busy_devices: set[int] = set()
        candidates.sort(key=lambda c: (c[0], c[1]["received_at"]))
        for day, order in candidates:
            if order["device"] in busy_devices:
                continue
            busy_devices.add(order["device"])
            out.append(order)
            tech = self._assignee(order)
            if tech in self.workshop:
                order.update(status="planned", assignee=tech, planned_date=day)
                continue
            for slot_day in [day] + [cal.add(day, 1), cal.add(day, 2)]:
                key = (tech, slot_day)
                if capacity.get(key, 0) > 0 and self._room_for(order, planned.get(key, []), wanted[key]):
                    capacity[(tech, slot_day)] -= 1
                    order.update(status="planned", assignee=tech, planned_date=slot_day)
                    planned.setdefault((tech, slot_day), []).append(order)
                    break
        # Top up the first ten working days, half FU and half repairs.
        for (tech, day), free in capacity.items():
            if horizon.index(day) >= 10:
                continue
            visits = planned.setdefault((tech, day), [])
            for _ in range(free):
                fu_count = sum(1 for o in visits if o["type"] == "maintenance")
                want_fu = fu_count < wanted[(tech, day)] / 2
                order = self._fill_visit(tech, day, want_fu, busy_devices)
                if order is None:
                    order = self._fill_visit(tech, day, not want_fu, busy_devices)
                if order is None:
                    break
                order.update(status="planned", assignee=tech, planned_date=day)
                visits.append(order)
                out.append(order)
        for (tech, day), visits in planned.items():
            self._route(visits)
        return out

    @staticmethod
    def _room_for(order: dict, visits: list[dict], wanted: int) -> bool:
        """Keep a day mixed: neither FU nor repairs take more than 60 % of it."""
        fu = order["type"] == "maintenance"
        same = sum(1 for o in visits if (o["type"] == "maintenance") == fu)
        return same < math.ceil(wanted * 0.6)

    def _district_devices(self) -> dict[int, list[int]]:
        if not hasattr(self, "_by_district"):
            techs_district = {}
            for d, techs in enumerate(self.district_techs):
                for t in techs:
                    techs_district.setdefault(t, []).append(d)
            self._tech_districts = techs_district
            by: dict[int, list[int]] = {}
            for i, dev in enumerate(self.devices):
                if dev["status"] == "in_use":
                    by.setdefault(self.patients[dev["holder"]]["_district"], []).append(i)
            self._by_district = by
        return self._by_district

    def _fill_visit(self, tech: int, day: date, fu: bool, busy: set[int]) -> dict | None:
        rng, cal = self.rng, self.cal
        by = self._district_devices()
        pools = self.__dict__.setdefault("_pools", {})
        if tech not in pools:
            mine = [i for d in self._tech_districts[tech] for i in by.get(d, [])]
            fu_pool = [i for i in mine if self.devices[i]["_interval"]]
            au_pool = Weighted((i, C.CATEGORY_BY_CODE[self.devices[i]["_cat"]].fault_weight)
                               for i in mine)
            pools[tech] = (fu_pool, au_pool)
        fu_pool, au_pool = pools[tech]
        if not (fu_pool if fu else au_pool.values):
            return None
        for _ in range(50):
            i = rng.choice(fu_pool) if fu else au_pool.pick(rng)
            dev = self.devices[i]
            if i in busy:
                continue
            busy.add(i)
            if fu:
                interval = dev["_interval"]
                last = cal.on_or_before(day - timedelta(days=interval))
                if last < dev["in_service_date"]:
                    dev["last_fu_date"], dev["next_fu_date"] = None, day
                else:
                    dev["last_fu_date"], dev["next_fu_date"] = last, last + timedelta(days=interval)
                received = cal.subtract(day, rng.randint(12, 20))
                order = self._order("maintenance", i, received, 6 * 60, finish_due=dev["next_fu_date"])
            else:
                kind = Weighted([("repair_on_site", 80), ("technical_review", 10), ("installation", 10)]).pick(rng)
                if kind == "installation" and dev["_cat"] not in INSTALLED_CATEGORIES:
                    kind = "repair_on_site"
                received = cal.subtract(day, rng.randint(1, 4))
                if received >= self.today:
                    received = cal.subtract(self.today, 1)
                order = self._order(kind, i, received, rng.randint(8 * 60, 16 * 60))
                self._orderer(order, "prescriber" if kind != "repair_on_site"
                              else Weighted([("prescriber", 50), ("phone", 25), ("web", 25)]).pick(rng))
            self._describe(order)
            return order
        return None

    def _route(self, visits: list[dict]) -> None:
        """Nearest-neighbour route from the HMC; two-hour windows through the day."""
        def where(o: dict) -> tuple[float, float]:
            p = self.patients[o["patient"]]
            return p["latitude"], p["longitude"]

        here = HMC_LOCATION
        left = list(visits)
        ordered = []
        while left:
            nxt = min(left, key=lambda o: (where(o)[0] - here[0]) ** 2 + ((where(o)[1] - here[1]) / 1.98) ** 2)
            left.remove(nxt)
            ordered.append(nxt)
            here = where(nxt)
        step = min(60, 420 // max(1, len(ordered)))
        for k, o in enumerate(ordered):
            start = 8 * 60 + (k * step) // 30 * 30
            o["route_position"] = k + 1
            o["window_start"] = clock(start // 60, start % 60)
            end = min(start + 120, 17 * 60)
            o["window_end"] = clock(end // 60, end % 60)

    def _special_open_orders(self) -> list[dict]:
        """Devices in the workshop and devices taken out of use have their open orders."""
        rng, cal, today = self.rng, self.cal, self.today
        out = []
        for i, d in enumerate(self.devices):
            if d["status"] == "in_repair":
                received = cal.subtract(today, rng.randint(1, 8))
                order = self._order("repair_hmc", i, received, rng.randint(8 * 60, 16 * 60))
                self._orderer(order, rng.choice(("prescriber", "phone")))
                self._describe(order)
                started = cal.add(received, 1)
                if started >= today:
                    started = received
                order.update(status="in_progress", assignee=rng.choice(self.workshop), planned_date=started,
                             started_at=_at(started, rng.randint(8 * 60, 15 * 60)))
                out.append(order)
            elif d["status"] == "out_of_use":
                received = d["last_fu_date"]
                order = self._order("repair_on_site", i, received, 15 * 60 + rng.randint(0, 90))
                order["channel"] = "hmc"
                order["description"] = "Underkänd säkerhetspunkt vid FU, taget ur bruk i väntan på reparation"
                out.append(order)
        return out

    def _fu_events(self, i: int, count_only: bool = False):
        d = self.devices[i]
        interval, last = d["_interval"], d["last_fu_date"]
        first = self.today - timedelta(days=HISTORY_DAYS)
        n, events = 0, []
        while last is not None and last >= first and last >= d["in_service_date"] and last < self.today:
            n += 1
            events.append(last)
            last = self.cal.on_or_before(last - timedelta(days=interval))
        return n if count_only else events

    def _fu_history(self) -> list[dict]:
        rng, cal = self.rng, self.cal
        outcomes = Weighted([("fixed", 93), ("needs_follow_up", 6), ("taken_to_workshop", 1)])
        out = []
        for i, d in enumerate(self.devices):
            if not d["_interval"] or d["holder"] is None:
                continue
            for n, event in enumerate(self._fu_events(i)):
                latest_failed = n == 0 and d["status"] == "out_of_use"  # its safety item failed
                if not latest_failed and rng.random() >= self.p_fu:
                    continue
                received = cal.subtract(event, rng.randint(15, 22))
                order = self._order("maintenance", i, received, 6 * 60,
                                    finish_due=event + timedelta(days=rng.randint(-5, 5)))
                self._describe(order)
                if not latest_failed and rng.random() < 0.02:
                    self._cancel(order, cal.subtract(event, rng.randint(0, 3)))
                else:
                    self._complete(order, event, "needs_follow_up" if latest_failed else outcomes.pick(rng))
                    order["_failed_safety"] = latest_failed
                out.append(order)
        return out

    def _fu_results(self) -> tuple[list[dict], list[dict]]:
        """The checklist of every completed FU: all passed, except a remark now and then and
        the failed safety item that took a device out of use (with its decision)."""
        rng = self.rng
        template_of = {code: k for k, code in enumerate(C.CHECKLISTS)}
        answers, decisions = [], []
        for index, order in enumerate(self.work_orders):
            if order["type"] != "maintenance" or order["status"] != "completed":
                continue
            code = self.devices[order["device"]]["_cat"]
            items = C.CHECKLISTS[code]
            failed = None
            if order.get("_failed_safety"):
                failed = rng.choice([i for i in items if i["safety_critical"]])["key"]
            for item in items:
                answer, comment, value = "pass", "", None
                m = item["measurement"]
                if m:
                    value = Decimal(str(round(rng.uniform(m["min"] + (m["max"] - m["min"]) * 0.2,
                                                          m["max"] - (m["max"] - m["min"]) * 0.2), 2)))
                if item["key"] == failed:
                    answer, comment = "fail", "Underkänd, hjälpmedlet taget ur bruk i väntan på reparation"
                elif order["outcome"] == "needs_follow_up" and not item["safety_critical"] and rng.random() < 0.2:
                    answer, comment = "fail", "Slitage, åtgärdas vid nästa besök"
                elif rng.random() < 0.03:
                    answer = "na"
                    value = None
                answers.append({"work_order": index, "template": template_of[code], "item_key": item["key"],
                                "answer": answer, "measurement": value, "comment": comment,
                                "answered_by": order["assignee"], "answered_at": order["completed_at"]})
            if failed:
                decisions.append({"work_order": index, "item_key": failed, "decision": "taken_out_of_use",
                                  "comment": "", "decided_by": order["assignee"], "decided_at": order["completed_at"]})
        self.progress(f"checklist answers: {len(answers)} generated")
        return answers, decisions

    def _condemned_history(self) -> list[dict]:
        rng, cal, today = self.rng, self.cal, self.today
        out = []
        for i, d in enumerate(self.devices):
            if d["status"] != "condemned":
                continue
            first = max(d["in_service_date"] + timedelta(days=30), today - timedelta(days=HISTORY_DAYS))
            if first >= today - timedelta(days=10):
                first = today - timedelta(days=40)
            day = cal.on_or_after(first + timedelta(days=rng.randint(0, max(0, (today - first).days - 30))))
            patient = rng.randrange(len(self.patients))
            order = self._order("repair_on_site", i, day, rng.randint(8 * 60, 16 * 60), patient=patient)
            self._orderer(order, rng.choice(("prescriber", "phone")))
            self._describe(order)
            self._complete(order, cal.add(day, rng.randint(1, 6)), "condemned")
            out.append(order)
        return out


def build_region(scale: float = 1.0, seed: int = 1, today: date | None = None,
                 progress: Callable[[str], None] = lambda m: None) -> Region:
    """Every row of the demo region, in memory. Pure: no database."""
    _check_scale(scale)
    today = today or datetime.now(TZ).date()
    return _Builder(scale, seed, today, progress).build()


def _check_scale(scale: float) -> None:
    if not isinstance(scale, (int, float)) or math.isnan(scale) or scale <= 0 or scale > MAX_SCALE:
        raise ValueError(f"scale must be above 0 and at most {MAX_SCALE}, not {scale}")


# --- Loading ---------------------------------------------------------------------------

# Table, columns (without organisation and id, which are added), foreign keys -> table.
_TABLES: list[tuple[str, str, list[str], dict[str, str], bool]] = [
    ("cost_bearer", "cost_bearers", ["name", "kind", "code"], {}, True),
    ("care_unit", "care_units", ["cost_bearer", "name", "phone"], {"cost_bearer": "cost_bearer"}, True),
    ("staff_user", "staff", ["name", "role", "care_unit", "user_handle", "active"],
     {"care_unit": "care_unit"}, True),
    ("patient", "patients", ["care_unit", "cost_bearer", "personal_number", "given_name", "family_name",
                             "birth_year", "sex", "street", "postal_code", "city", "latitude", "longitude",
                             "phone", "door_code", "access_notes", "protected_identity"],
     {"care_unit": "care_unit", "cost_bearer": "cost_bearer"}, True),
    ("device_category", "categories", ["code", "name", "iso_code", "fu_interval_days", "expected_life_years"],
     {}, True),
    ("article", "articles", ["article_number", "name", "manufacturer", "category"],
     {"category": "device_category"}, True),
    ("device", "devices", ["individnummer", "serial_number", "article", "status", "holder", "owner",
                           "in_service_date", "expected_end_of_life", "last_fu_date", "next_fu_date"],
     {"article": "article", "holder": "patient", "owner": "cost_bearer"}, True),
    ("checklist_template", "checklists", ["category", "version", "items"], {"category": "device_category"}, False),
    ("work_order", "work_orders", ["number", "type", "status", "channel", "device", "patient", "care_unit",
                                   "orderer", "description", "assignee", "planned_date", "window_start",
                                   "window_end", "route_position", "version", "received_at", "start_due",
                                   "finish_due", "started_at", "completed_at", "cancelled_at", "cancel_reason",
                                   "outcome", "updated_at", "not_completed_reason", "message_to_orderer"],
     {"device": "device", "patient": "patient", "care_unit": "care_unit", "orderer": "staff_user",
      "assignee": "staff_user"}, True),
    ("checklist_answer", "checklist_answers", ["work_order", "template", "item_key", "answer", "measurement",
                                               "comment", "answered_by", "answered_at"],
     {"work_order": "work_order", "template": "checklist_template", "answered_by": "staff_user"}, False),
    ("safety_decision", "safety_decisions", ["work_order", "item_key", "decision", "comment", "decided_by",
                                             "decided_at"],
     {"work_order": "work_order", "decided_by": "staff_user"}, False),
]
_LABELS = {"patients": "patients", "devices": "devices", "work_orders": "work orders",
           "checklist_answers": "checklist answers"}
_CHUNK = 20_000


async def load_demo(
    scale: float = 1.0,
    seed: int = 1,
    progress: Callable[[str], None] = lambda m: None,
    today: date | None = None,
) -> DemoSummary:
    """Generate the demo region and load it in one transaction; nothing stays on failure."""
    _check_scale(scale)
    started = time.perf_counter()
    today = today or datetime.now(TZ).date()
    region = build_region(scale, seed, today, progress)
    fittings = build_fittings(region, seed, today, scale,
                              WorkCalendar(today - timedelta(days=800), today + timedelta(days=200)))
    faults = build_faults(region, seed, today)
    counts: dict[str, int] = {}
    async with DB.transaction():
        async with db.connection() as conn:
            exists = await conn.fetchval("SELECT id FROM organisation WHERE slug = $1", ORGANISATION_SLUG)
            if exists is not None:
                raise DemoAlreadyLoaded(
                    f"the demo organisation '{ORGANISATION_SLUG}' exists already (id {exists})"
                )
            org_id = await conn.fetchval(
                "INSERT INTO organisation (name, slug, phone) VALUES ($1, $2, $3) RETURNING id",
                ORGANISATION_NAME, ORGANISATION_SLUG, ORGANISATION_PHONE,
            )
            counts["organisation"] = 1
            bases: dict[str, int] = {}
            for table, attr, _, _, _ in _TABLES:
                bases[table] = await _reserve_ids(conn, table, len(getattr(region, attr)))
            for table, attr, columns, fks, has_org in _TABLES:
                rows = getattr(region, attr)
                records = _records(rows, columns, fks, bases, table, org_id if has_org else None)
                all_columns = ["id"] + (["organisation"] if has_org else []) + columns
                label = _LABELS.get(attr, table.replace("_", " "))
                for start in range(0, len(records), _CHUNK):
                    chunk = records[start : start + _CHUNK]
                    await conn.copy_records_to_table(table, records=chunk, columns=all_columns)
                    progress(f"{label} {start + len(chunk)}/{len(records)}")
                counts[table] = len(records)
            counts.update(await load_fittings(conn, org_id, fittings, bases, _reserve_ids))
            progress(f"fitting bookings {counts['fitting_booking']}")
            counts.update(await load_faults(conn, org_id, faults, bases, _reserve_ids))
            progress(f"device tokens {counts['device_token']}, fault reports {counts['fault_report']}")
    # Fresh statistics for the planner: right after a bulk load it would otherwise plan for
    # empty tables (a full scan of checklist answers instead of its index) until autovacuum comes by.
    await db.execute("ANALYZE")
    progress("planner statistics updated")
    seconds = time.perf_counter() - started
    progress(f"done in {seconds:.1f} s")
    return DemoSummary(organisation_id=org_id, counts=counts, seconds=seconds)


async def _reserve_ids(conn, table: str, n: int) -> int:
    """Reserve n consecutive ids from the table's sequence; returns the first."""
    seq = await conn.fetchval("SELECT pg_get_serial_sequence($1, 'id')", table)
    first = await conn.fetchval("SELECT nextval($1::regclass)", seq)
    if n > 1:
        await conn.execute("SELECT setval($1::regclass, $2)", seq, first + n - 1)
    return first


def _records(rows: list[dict], columns: list[str], fks: dict[str, str], bases: dict[str, int],
             table: str, org_id: int | None) -> list[tuple]:
    base = bases[table]
    out = []
    for i, row in enumerate(rows):
        values = [base + i] if org_id is None else [base + i, org_id]
        for c in columns:
            v = row[c]
            target = fks.get(c)
            if target is not None and v is not None:
                v = bases[target] + v
            values.append(v)
        out.append(tuple(values))
    return out


async def database_is_empty() -> bool:
    """True when no organisation exists yet."""
    return not await db.fetchval("SELECT EXISTS (SELECT 1 FROM organisation)")


async def delete_organisation(organisation_id: int) -> None:
    """Delete an organisation and every row that belongs to it, in one transaction.

    Every table with an `organisation` column is cleared, children before parents (found
    from the foreign keys, so tables added by later migrations are covered too).
    """
    async with DB.transaction():
        async with db.connection() as conn:
            owned = [r["table_name"] for r in await conn.fetch(
                "SELECT table_name FROM information_schema.columns WHERE table_schema = 'public' "
                "AND column_name = 'organisation' AND table_name <> 'organisation' ORDER BY table_name")]
            edges = await conn.fetch(
                "SELECT conrelid::regclass::text AS child, confrelid::regclass::text AS parent "
                "FROM pg_constraint WHERE contype = 'f' AND connamespace = 'public'::regnamespace")
            # Tables that belong to an organisation through their work order or category.
            by_order = {r["table_name"] for r in await conn.fetch(
                "SELECT table_name FROM information_schema.columns WHERE table_schema = 'public' "
                "AND column_name = 'work_order'")} - set(owned)
            remaining = set(owned) | {"checklist_template"} | by_order
            while remaining:
                leaves = sorted(t for t in remaining if not any(
                    e["parent"] == t and e["child"] in remaining and e["child"] != t for e in edges))
                if not leaves:
                    raise RuntimeError(f"cannot order the deletion of {sorted(remaining)}: foreign-key cycle")
                for table in leaves:
                    if table == "checklist_template":
                        await conn.execute(
                            "DELETE FROM checklist_template WHERE category IN "
                            "(SELECT id FROM device_category WHERE organisation = $1)", organisation_id)
                    elif table in by_order:
                        await conn.execute(
                            f'DELETE FROM "{table}" WHERE work_order IN '
                            "(SELECT id FROM work_order WHERE organisation = $1)", organisation_id)
                    else:
                        await conn.execute(f'DELETE FROM "{table}" WHERE organisation = $1', organisation_id)
                    remaining.discard(table)
            await conn.execute("DELETE FROM organisation WHERE id = $1", organisation_id)
