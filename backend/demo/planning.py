"""The demo region's planning: open orders placed in the technicians' coming days, the first
ten working days topped up with FU and repair visits, and each day's route and time windows."""

from __future__ import annotations

import math
from datetime import date, timedelta
from datetime import time as clock

from backend.demo import catalogue as C
from backend.demo.common import Weighted
from backend.demo.workorders import INSTALLED_CATEGORIES, Orders

HMC_LOCATION = (59.6162, 16.4981)  # the HMC's depot in Västerås: where routes start


def plan(orders: Orders, candidates: list[tuple[date, dict]]) -> list[dict]:
    """Place open orders in technicians' days; fill the near days; set routes and windows.

    `candidates` are open orders with the working day each is due to be done; returns those
    kept (one open order per device) and the visits added to fill the days.
    """
    draw, staff = orders.draw, orders.staff
    rng, cal = draw.rng, draw.cal
    horizon = [cal.add(draw.target_day, k) for k in range(20)]
    capacity: dict[tuple[int, date], int] = {}
    demo_tech = staff.technicians[0]
    for t in staff.technicians:
        if t in staff.workshop:
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
        tech = orders.assignee(order)
        if tech in staff.workshop:
            order.update(status="planned", assignee=tech, planned_date=day)
            continue
        for slot_day in [day] + [cal.add(day, 1), cal.add(day, 2)]:
            key = (tech, slot_day)
            if capacity.get(key, 0) > 0 and _room_for(order, planned.get(key, []), wanted[key]):
                capacity[(tech, slot_day)] -= 1
                order.update(status="planned", assignee=tech, planned_date=slot_day)
                planned.setdefault((tech, slot_day), []).append(order)
                break
    # Top up the first ten working days, half FU and half repairs.
    filler = _VisitFiller(orders)
    for (tech, day), free in capacity.items():
        if horizon.index(day) >= 10:
            continue
        visits = planned.setdefault((tech, day), [])
        for _ in range(free):
            fu_count = sum(1 for o in visits if o["type"] == "maintenance")
            want_fu = fu_count < wanted[(tech, day)] / 2
            order = filler.visit(tech, day, want_fu, busy_devices)
            if order is None:
                order = filler.visit(tech, day, not want_fu, busy_devices)
            if order is None:
                break
            order.update(status="planned", assignee=tech, planned_date=day)
            visits.append(order)
            out.append(order)
    for (tech, day), visits in planned.items():
        _route(visits, orders.patients)
    return out


def _room_for(order: dict, visits: list[dict], wanted: int) -> bool:
    """Keep a day mixed: neither FU nor repairs take more than 60 % of it."""
    fu = order["type"] == "maintenance"
    same = sum(1 for o in visits if (o["type"] == "maintenance") == fu)
    return same < math.ceil(wanted * 0.6)


class _VisitFiller:
    """New visits for a technician's day, drawn from the devices in use in their districts."""

    def __init__(self, orders: Orders) -> None:
        self.orders = orders
        self.tech_districts: dict[int, list[int]] = {}
        for d, techs in enumerate(orders.staff.district_techs):
            for t in techs:
                self.tech_districts.setdefault(t, []).append(d)
        self.by_district: dict[int, list[int]] = {}
        for i, dev in enumerate(orders.devices):
            if dev["status"] == "in_use":
                self.by_district.setdefault(orders.patients[dev["holder"]]["_district"], []).append(i)
        self.pools: dict[int, tuple[list[int], Weighted]] = {}  # per technician, made when first needed

    def visit(self, tech: int, day: date, fu: bool, busy: set[int]) -> dict | None:
        """An FU (fu) or a repair visit on a device not yet busy, or None when none is left.
        An FU moves the device's FU dates so that the visit falls due on the day."""
        orders = self.orders
        rng, cal, today, devices = orders.rng, orders.cal, orders.today, orders.devices
        if tech not in self.pools:
            mine = [i for d in self.tech_districts[tech] for i in self.by_district.get(d, [])]
            fu_pool = [i for i in mine if devices[i]["_interval"]]
            au_pool = Weighted((i, C.CATEGORY_BY_CODE[devices[i]["_cat"]].fault_weight)
                               for i in mine)
            self.pools[tech] = (fu_pool, au_pool)
        fu_pool, au_pool = self.pools[tech]
        if not (fu_pool if fu else au_pool.values):
            return None
        for _ in range(50):
            i = rng.choice(fu_pool) if fu else au_pool.pick(rng)
            dev = devices[i]
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
                order = orders.fu(i, received, dev["next_fu_date"], finish_due=dev["next_fu_date"])
            else:
                kind = Weighted([("repair_on_site", 80), ("technical_review", 10),
                                 ("installation", 10)]).pick(rng)
                if kind == "installation" and dev["_cat"] not in INSTALLED_CATEGORIES:
                    kind = "repair_on_site"
                received = cal.subtract(day, rng.randint(1, 4))
                if received >= today:
                    received = cal.subtract(today, 1)
                order = orders.new(kind, i, received, rng.randint(8 * 60, 16 * 60))
                orders.set_orderer(order, "prescriber" if kind != "repair_on_site"
                                   else Weighted([("prescriber", 50), ("phone", 25), ("web", 25)]).pick(rng))
            orders.describe(order)
            return order
        return None


def _route(visits: list[dict], patients: list[dict]) -> None:
    """Nearest-neighbour route from the HMC; two-hour windows through the day."""
    def where(o: dict) -> tuple[float, float]:
        p = patients[o["patient"]]
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
