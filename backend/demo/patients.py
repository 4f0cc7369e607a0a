"""The demo region's patients: where they live, their age, sex and names, a unique test
personnummer, their care unit and how much care they need (which decides their devices)."""

from __future__ import annotations

import math
import random
from datetime import date, timedelta

from backend.demo import names as N
from backend.demo.common import Draw, Weighted, personnummer, scaled
from backend.demo.organisations import Organisations
from backend.demo.staff import DISTRICT_MUNICIPALITIES

PATIENTS = 23_000
PROTECTED_SHARE = 0.007


def build_patients(draw: Draw, orgs: Organisations) -> list[dict]:
    """Patient rows; the keys starting with '_' (age, care need, unit kind, district) are
    for the later parts of the builder and are not loaded."""
    rng, today = draw.rng, draw.today
    n = scaled(PATIENTS, draw.scale, 1)
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
    # The district of a patient outside Västerås (whose six sectors go by the compass, below).
    group = {m: d for d, ms in enumerate(DISTRICT_MUNICIPALITIES) if ms != ("Västerås",) for m in ms}
    patients = []
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
        born = date(today.year - age, 1, 1) + timedelta(days=rng.randint(0, 364))
        if born > today:
            born = born.replace(year=born.year - 1)
        pnr = _personnummer(rng, today, born, female, used_pnr)
        if born.year < 1961:
            given = (older_f if female else older_m).pick(rng)
        else:
            given = (young_f if female else young_m).pick(rng)
        if rng.random() < 0.06:  # a second given name, as in 'Anna Maria'
            given = f"{given} {(older_f if female else older_m).pick(rng)}"
            if given.split()[0] == given.split()[1]:
                given = given.split()[0]

        kind = _unit_kind(rng, age)
        unit = _care_unit_for(rng, orgs, kind, mun, town.name, age)
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
        patients.append({
            "care_unit": unit,
            "cost_bearer": orgs.municipality_cb[mun],
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
    for p in patients:
        p["notice_channel"], p["email"] = _notice_preference(rng, p)
    draw.progress(f"patients {n}/{n} generated")
    return patients


# How patients want to be told of a visit (notice_channel): most by letter, many by SMS, some by
# e-mail, and a few not by Runda at all (a relative or the home care arranges it).
_NOTICE_CHANNELS = [("letter", 50), ("sms", 38), ("email", 10), ("none", 2)]
_ASCII = str.maketrans("åäöéüÅÄÖÉÜ", "aaoeuAAOEU")


def _notice_preference(rng: random.Random, patient: dict) -> tuple[str, str]:
    """(notice_channel, email): SMS only with a mobile number; an e-mail address at example.com."""
    channel = Weighted(_NOTICE_CHANNELS).pick(rng)
    if channel == "sms" and not patient["phone"]:
        channel = "letter"
    email = ""
    if channel == "email" or rng.random() < 0.05:
        local = f"{patient['given_name']}.{patient['family_name']}".translate(_ASCII).lower().replace(" ", ".")
        email = f"{local}{rng.randint(1, 99)}@example.com"
    return channel, email


def _personnummer(rng: random.Random, today: date, born: date, female: bool, used: set[str]) -> str:
    """A Luhn-valid, unique personnummer; prefers birth numbers 980–999, a range
    used for test personnummer, and falls back to other numbers when that runs out."""
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
            if day > today or day.year != born.year:
                day = born
    while True:
        value = personnummer(born, rng.randrange(1 if not female else 0, 1000, 2) or 2)
        if value not in used:
            used.add(value)
            return value


def _unit_kind(rng: random.Random, age: int) -> str:
    r = rng.random()
    if age < 18 or (age < 40 and r < 0.6) or (age < 65 and r < 0.12):
        return "habilitation"
    if r < 0.06:
        return "specialist"
    if r < 0.20:
        return "primary"
    return "municipal"


def _care_unit_for(rng: random.Random, orgs: Organisations, kind: str, municipality: str, town: str,
                   age: int) -> int:
    units_by = orgs.units_by
    if kind == "habilitation":
        if age < 18:
            return units_by[("habilitation", "Västerås")][1]
        if municipality in ("Köping", "Fagersta", "Arboga", "Kungsör", "Norberg", "Skinnskatteberg"):
            return units_by[("habilitation", "Köping")][0]
        return units_by[("habilitation", "Västerås")][0]
    if kind == "specialist":
        return rng.choice(units_by[("specialist", "Västerås")])
    if kind == "primary":
        units = units_by[("primary", municipality)]
        if town == "Skultuna":
            return next(u for u in units if "Skultuna" in orgs.care_units[u]["name"])
        return rng.choice(units)
    return rng.choice(units_by[("municipal", municipality)])
