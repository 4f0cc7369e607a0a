"""The demo region's assortment (categories, articles, spare parts, FU checklists) and its
devices: who holds what, according to their care need, and each device's status and FU dates."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Callable

from backend.demo import catalogue as C
from backend.demo import names as N
from backend.demo.common import TZ, Draw, Weighted, add_years, scaled, weighted_sample

OVERDUE_FU_SHARE = 0.03  # the HMC caught up with its FU backlog in 2025: a few hundred are overdue


@dataclass
class Assortment:
    categories: list[dict]
    cat_index: dict[str, int]  # category code -> index
    articles: list[dict]  # the categories' articles, then spare parts (without category)
    article_choice: dict[str, Weighted]  # category code -> its articles, by share
    checklists: list[dict]
    schedules: list[dict]  # the categories' FU schedules (fu_schedule rows)
    schedule_of: dict[str, int]  # category code -> index of its FU schedule


def build_assortment(draw: Draw) -> Assortment:
    rng = draw.rng
    categories = []
    cat_index: dict[str, int] = {}
    for c in C.CATEGORIES:
        cat_index[c.code] = len(categories)
        categories.append({"code": c.code, "name": c.name, "iso_code": c.iso_code,
                           "fu_interval_days": c.fu_interval_days,
                           "expected_life_years": c.expected_life_years})
    articles = []
    per_cat: dict[str, list[tuple[int, int]]] = {}
    for code, number, name, maker, share in C.ARTICLES:
        per_cat.setdefault(code, []).append((len(articles), share))
        articles.append({"article_number": number, "name": name, "manufacturer": maker,
                         "category": cat_index[code]})
    article_choice = {code: Weighted(items) for code, items in per_cat.items()}
    parts = C.spare_parts()
    numbers = sorted(rng.sample(range(500_000, 600_000), len(parts)))
    for number, (name, maker) in zip(numbers, parts):
        articles.append({"article_number": str(number), "name": name, "manufacturer": maker,
                         "category": None})
    published = datetime.combine(draw.target_day - timedelta(days=1000), time(8), tzinfo=TZ)
    checklists = [
        # Published before the demo's first order (two years back), so every order answers it.
        {"category": cat_index[code], "version": 1, "items": json.dumps(items, ensure_ascii=False),
         "published_at": published, "created_at": published}
        for code, items in C.CHECKLISTS.items()
    ]
    schedules, schedule_of = [], {}
    for c in C.CATEGORIES:
        if c.fu_interval_days:
            name, before_new_user = C.FU_SCHEDULES[c.code]
            schedule_of[c.code] = len(schedules)
            schedules.append({"category": cat_index[c.code], "name": name, "interval_days": c.fu_interval_days,
                              "checklist_code": "fu", "before_new_user": before_new_user})
    return Assortment(categories, cat_index, articles, article_choice, checklists, schedules, schedule_of)


def _holders(draw: Draw, patients: list[dict]) -> dict[str, list[int]]:
    """For each category, the patient index of every device lent out (repeats allowed)."""
    rng = draw.rng
    P = patients
    everyone = list(range(len(P)))
    out: dict[str, list[int]] = {}

    def need(code: str) -> int:
        cat = C.CATEGORY_BY_CODE[code]
        return round(scaled(cat.total, draw.scale, 1) * cat.in_use_share)

    def care(i: int) -> float:
        return P[i]["_care"]

    def split(code: str, first_pool: list[int], share: float, w: Callable[[int], float]) -> list[int]:
        k = need(code)
        first = weighted_sample(rng, first_pool, w, min(round(k * share), len(first_pool)))
        taken = set(first)
        rest = weighted_sample(rng, [i for i in everyone if i not in taken], w, k - len(first))
        return first + rest

    out["care_bed"] = weighted_sample(rng, everyone, lambda i: care(i) ** 3 + 0.002, need("care_bed"))
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
        slings = weighted_sample(rng, everyone, lambda i: care(i) ** 2, k)
    out["lift_sling"] = slings
    out["pressure_mattress"] = split("pressure_mattress", beds, 0.85, lambda i: care(i) ** 2 + 0.01)
    bedset = set(beds)
    out["bed_lift"] = weighted_sample(rng, everyone, lambda i: 0 if i in bedset else care(i),
                                      need("bed_lift"))
    out["manual_wheelchair"] = weighted_sample(rng, everyone, lambda i: care(i) + 0.05,
                                               need("manual_wheelchair"))

    def powered(i: int) -> float:
        p = P[i]
        return ((4 if p["_kind"] in ("habilitation", "specialist") else 0.5)
                * (1.0 if p["_age"] < 80 else 0.3) * (care(i) + 0.1))

    out["powered_wheelchair"] = weighted_sample(rng, everyone, powered, need("powered_wheelchair"))
    out["scooter"] = weighted_sample(rng, everyone, lambda i: (1 if 55 <= P[i]["_age"] <= 88 else 0.05)
                                     * (1 - care(i)), need("scooter"))
    chairs = sorted(set(out["manual_wheelchair"]) | set(out["powered_wheelchair"]))
    out["pressure_cushion"] = split("pressure_cushion", chairs, 0.6, lambda i: care(i) + 0.05)
    out["standing_aid"] = weighted_sample(rng, everyone, lambda i: 10 if P[i]["_kind"] == "habilitation"
                                          else 0.3 if P[i]["_age"] < 65 else 0.01, need("standing_aid"))
    out["communication_device"] = weighted_sample(
        rng, everyone, lambda i: {"habilitation": 6, "specialist": 3}.get(P[i]["_kind"], 0.1),
        need("communication_device"))
    out["rollator"] = weighted_sample(rng, everyone,
                                      lambda i: (1 - care(i)) * (1 if P[i]["_age"] >= 60 else 0.3),
                                      need("rollator"))
    out["walking_table"] = weighted_sample(rng, everyone, lambda i: (1 - care(i)) * 0.8,
                                           need("walking_table"))
    out["shower_chair"] = weighted_sample(rng, everyone, lambda i: 1.0, need("shower_chair"))
    out["toilet_raiser"] = weighted_sample(rng, everyone, lambda i: 1.0, need("toilet_raiser"))
    out["commode_chair"] = weighted_sample(rng, everyone, lambda i: care(i) + 0.1, need("commode_chair"))
    return out


def build_devices(draw: Draw, patients: list[dict], assortment: Assortment,
                  municipality_cb: dict[str, int]) -> list[dict]:
    """Device rows; '_cat', '_interval' (the FU interval in days) and '_schedule' (the index of
    its FU schedule) are for the later parts of the builder and are not loaded."""
    rng, today, cal = draw.rng, draw.today, draw.cal
    holders = _holders(draw, patients)
    # Everyone on the register holds at least one device: give the others a
    # rollator or a shower chair out of the depot.
    holding = [0] * len(patients)
    for items in holders.values():
        for i in items:
            holding[i] += 1
    for i, count in enumerate(holding):
        if count == 0:
            holders["rollator" if patients[i]["_care"] < 0.5 else "shower_chair"].append(i)
    municipality_owner = Weighted((municipality_cb[name], pop) for name, _, pop, _ in N.MUNICIPALITIES)

    devices: list[dict] = []
    for cat in C.CATEGORIES:
        lent = holders[cat.code]
        total = max(scaled(cat.total, draw.scale, 1), len(lent) + 1)
        for k in range(total):
            holder = lent[k] if k < len(lent) else None
            devices.append(_device(draw, assortment, patients, cat, holder, municipality_owner))
    # Statuses other than in use and in depot.
    in_use = [d for d in devices if d["holder"] is not None]
    fault = Weighted((d, C.CATEGORY_BY_CODE[d["_cat"]].fault_weight) for d in in_use)
    chosen: set[int] = set()
    for _ in range(scaled(150, draw.scale, 1)):
        d = fault.pick(rng)
        if id(d) not in chosen:
            chosen.add(id(d))
            d["status"] = "in_repair"
    fu_in_use = [d for d in in_use if d["_interval"] and d["status"] == "in_use"]
    for d in rng.sample(fu_in_use, min(len(fu_in_use), scaled(20, draw.scale, 1))):
        d["status"] = "out_of_use"  # failed a safety item at a recent FU
        last = cal.subtract(today, rng.randint(2, 15))
        d["last_fu_date"] = max(last, d["in_service_date"])
        d["next_fu_date"] = d["last_fu_date"] + timedelta(days=d["_interval"])
    depot = [d for d in devices if d["holder"] is None]
    for d in rng.sample(depot, min(len(depot), scaled(250, draw.scale, 1))):
        d["status"] = "reconditioning"
    # Condemned devices: each gets its last repair order later.
    condemn = Weighted((c, c.fault_weight) for c in C.CATEGORIES)
    for _ in range(scaled(240, draw.scale, 1)):
        cat = condemn.pick(rng)
        d = _device(draw, assortment, patients, cat, None, municipality_owner)
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
    draw.progress(f"devices {len(devices)}/{len(devices)} generated")
    return devices


def _device(draw: Draw, assortment: Assortment, patients: list[dict], cat: C.Category, holder: int | None,
            municipality_owner: Weighted) -> dict:
    rng, today, cal = draw.rng, draw.today, draw.cal
    article = assortment.article_choice[cat.code].pick(rng)
    maker = assortment.articles[article]["manufacturer"]
    oldest = int(min(10.0, cat.expected_life_years * 1.4) * 365)
    in_service = today - timedelta(days=rng.randint(20, oldest))
    if holder is not None:
        owner = patients[holder]["cost_bearer"] if rng.random() < 0.85 else None
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
    # Made one to six months before it went into service, in a weekly lot (year and ISO week), so a
    # demo recall by manufacturing period or lot finds devices. Taken from the serial number's
    # digits, not the generator, so the rest of the region stays as it was.
    made = in_service - timedelta(days=30 + int(serial[-6:]) % 150)
    return {
        "serial_number": serial,
        "manufacturing_date": made,
        "lot_number": f"L{made.isocalendar().year % 100:02d}{made.isocalendar().week:02d}",
        "article": article,
        "status": "in_use" if holder is not None else "in_depot",
        "holder": holder,
        "owner": owner,
        "in_service_date": in_service,
        "expected_end_of_life": add_years(in_service, cat.expected_life_years),
        "last_fu_date": last,
        "next_fu_date": nxt,
        "_cat": cat.code,
        "_interval": interval,
        "_schedule": assortment.schedule_of.get(cat.code),
    }
