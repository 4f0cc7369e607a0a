"""The demo region's work orders: how an order row is made (its orderer, description,
assignee, completion or cancellation), two years of repairs (AU), the open orders of devices
in the workshop or taken out of use, the last orders of condemned devices, and numbering.

FU orders are drawn in `backend.demo.maintenance`, the planning of open orders in
`backend.demo.planning`; `backend.demo.service` calls them all in turn.
"""

from __future__ import annotations

from datetime import date, timedelta

from backend.demo import catalogue as C
from backend.demo import names as N
from backend.demo.common import HISTORY_DAYS, Draw, Weighted, at
from backend.demo.staff import Staff
from backend.workorders.service import clocks_for

ORDERS_PER_YEAR = 15_000  # technical work orders (AU and FU together)
FU_SHARE = 0.45  # share of those that are FU
# Why a visit could not be done, and what the technician left for the orderer.
NOT_COMPLETED = [
    ("not_home", "Brukaren var inte hemma vid besöket. Ring hjälpmedelscentralen för en ny tid."),
    ("unreachable", "Vi har sökt brukaren tre gånger utan svar. Kontakta oss när brukaren kan nås."),
    ("declined", "Brukaren tackade nej till besöket och vill avvakta."),
]
# Working days from receipt to completion for repairs: 82 % within 5 (2025 outcome).
REPAIR_DELAYS = [(0, 4), (1, 14), (2, 17), (3, 17), (4, 16), (5, 14), (6, 4), (7, 3), (8, 3),
                 (9, 2), (10, 2), (12, 1.5), (15, 1.5), (20, 1)]
AU_TYPES = [("repair_on_site", 55), ("repair_hmc", 17), ("quick_service", 9), ("urgent_repair", 6),
            ("technical_review", 7), ("installation", 6)]
INSTALLED_CATEGORIES = {"ceiling_lift", "care_bed", "bed_lift", "powered_wheelchair",
                        "communication_device", "standing_aid", "mobile_lift"}
WORKSHOP_TYPES = {"repair_hmc", "quick_service"}


class Orders:
    """Makes work-order rows for one region, with its staff, patients and devices (by index)."""

    def __init__(self, draw: Draw, staff: Staff, patients: list[dict], devices: list[dict]) -> None:
        self.draw = draw
        self.rng, self.cal, self.today = draw.rng, draw.cal, draw.today
        self.staff = staff
        self.patients = patients
        self.devices = devices
        # The organisation's clocks are the defaults (organisation.clocks is left empty).
        self.clocks = clocks_for(None)

    def new(self, kind: str, device: int, day_received: date, minutes: int, **extra) -> dict:
        """A new order for the device (and its holder, unless `patient` is given), received
        `minutes` after midnight; its start and finish due dates follow the clocks."""
        d = self.devices[device]
        patient = extra.pop("patient", d["holder"])
        order = {
            "type": kind, "status": "new", "channel": "generated", "device": device, "patient": patient,
            "care_unit": None, "orderer": None, "description": "", "assignee": None,
            "planned_date": None, "window_start": None, "window_end": None, "route_position": None,
            "version": 1, "received_at": at(day_received, minutes), "start_due": None, "finish_due": None,
            "started_at": None, "completed_at": None, "cancelled_at": None, "cancel_reason": None,
            "outcome": None, "not_completed_reason": None, "message_to_orderer": None,
            "fu_schedule": None, "fu_due_date": None,
        }
        order.update(extra)
        kind_clocks = self.clocks.get(kind, {})
        if "start" in kind_clocks:
            order["start_due"] = self.cal.add(day_received, kind_clocks["start"])
        if "finish" in kind_clocks:
            order["finish_due"] = self.cal.add(day_received, kind_clocks["finish"])
        return order

    def fu(self, device: int, day_received: date, due: date, **extra) -> dict:
        """An FU order of the device's schedule falling due on `due`, received `day_received` at six
        in the morning, as FU production generates it: its due date is the last working day on or
        before `due` (maintenance.due's rule), one order per device, schedule and due date."""
        return self.new("maintenance", device, day_received, 6 * 60, fu_schedule=self.devices[device]["_schedule"],
                        fu_due_date=self.cal.on_or_before(due), **extra)

    def set_orderer(self, order: dict, channel: str) -> None:
        """The channel it came in by; a prescriber's order names a prescriber of the patient's unit."""
        order["channel"] = channel
        if channel == "prescriber" and order["patient"] is not None:
            unit = self.patients[order["patient"]]["care_unit"]
            order["care_unit"] = unit
            order["orderer"] = self.rng.choice(self.staff.prescribers_by_unit[unit])

    def describe(self, order: dict) -> None:
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

    def assignee(self, order: dict) -> int:
        """A workshop technician for workshop work, else a technician of the patient's district."""
        if order["type"] in WORKSHOP_TYPES:
            return self.rng.choice(self.staff.workshop)
        patient = order["patient"]
        district = self.patients[patient]["_district"] if patient is not None else 0
        return self.rng.choice(self.staff.district_techs[district])

    def complete(self, order: dict, day: date, outcome: str) -> None:
        rng = self.rng
        start = rng.randint(8 * 60, 15 * 60)
        order["assignee"] = self.assignee(order)
        order["planned_date"] = day
        order["status"] = "completed"
        order["started_at"] = at(day, start)
        order["completed_at"] = at(day, start + rng.randint(15, 110))
        order["outcome"] = outcome

    def cancel(self, order: dict, day: date) -> None:
        order["status"] = "cancelled"
        order["cancelled_at"] = at(day, self.rng.randint(8 * 60, 16 * 60))
        order["cancel_reason"] = Weighted(N.CANCEL_REASONS).pick(self.rng)


def repair_orders(orders: Orders) -> tuple[list[dict], list[tuple[date, dict]]]:
    """Two years of repairs (AU), received day by day: those closed by today, and the open
    ones with the working day they are due to be done, for the planning."""
    draw, devices = orders.draw, orders.devices
    rng, cal, today, scale = draw.rng, draw.cal, draw.today, draw.scale
    closed: list[dict] = []
    open_candidates: list[tuple[date, dict]] = []
    lent = [i for i, d in enumerate(devices) if d["holder"] is not None]
    fault_pick = Weighted((i, C.CATEGORY_BY_CODE[devices[i]["_cat"]].fault_weight) for i in lent)
    install_pick = Weighted((i, 1.0) for i in lent if devices[i]["_cat"] in INSTALLED_CATEGORIES)
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
                if devices[candidate]["in_service_date"] < day:
                    device = candidate
                    break
            if device is None:
                continue
            minutes = rng.randint(7 * 60 + 30, 16 * 60 + 30)
            order = orders.new(kind, device, day, minutes)
            if kind == "quick_service":
                orders.set_orderer(order, "hmc")
            elif kind in ("urgent_repair", "technical_review", "installation"):
                orders.set_orderer(order, "prescriber")
            else:
                orders.set_orderer(order, Weighted([("prescriber", 50), ("phone", 38 - web_share),
                                                    ("web", web_share + 12)]).pick(rng))
            orders.describe(order)
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
                orders.cancel(order, min(cal.add(day, rng.randint(0, 3)), last_closed))
                closed.append(order)
            elif done < today:
                outcome = au_outcomes.pick(rng)
                if kind in WORKSHOP_TYPES and outcome == "taken_to_workshop":
                    outcome = "fixed"
                orders.complete(order, done, outcome)
                if done >= cal.subtract(today, 5) and rng.random() < 0.06:
                    # Recently started and not finished: waiting for parts, or back to planning.
                    order["status"] = rng.choice(("paused", "not_completed"))
                    order["completed_at"] = order["outcome"] = None
                    if order["status"] == "not_completed":
                        reason, message = rng.choice(NOT_COMPLETED)
                        order.update(not_completed_reason=reason, message_to_orderer=message)
                closed.append(order)
            else:
                open_candidates.append((done, order))
    draw.progress(f"work orders: {len(closed)} repairs generated")
    return closed, open_candidates


def open_orders_of_devices(orders: Orders) -> list[dict]:
    """Devices in the workshop and devices taken out of use have their open orders."""
    rng, cal, today = orders.rng, orders.cal, orders.today
    out = []
    for i, d in enumerate(orders.devices):
        if d["status"] == "in_repair":
            received = cal.subtract(today, rng.randint(1, 8))
            order = orders.new("repair_hmc", i, received, rng.randint(8 * 60, 16 * 60))
            orders.set_orderer(order, rng.choice(("prescriber", "phone")))
            orders.describe(order)
            started = cal.add(received, 1)
            if started >= today:
                started = received
            order.update(status="in_progress", assignee=rng.choice(orders.staff.workshop), planned_date=started,
                         started_at=at(started, rng.randint(8 * 60, 15 * 60)))
            out.append(order)
        elif d["status"] == "out_of_use":
            received = d["last_fu_date"]
            order = orders.new("repair_on_site", i, received, 15 * 60 + rng.randint(0, 90))
            order["channel"] = "hmc"
            order["description"] = "Underkänd säkerhetspunkt vid FU, taget ur bruk i väntan på reparation"
            out.append(order)
    return out


def condemned_orders(orders: Orders) -> list[dict]:
    """Every condemned device's last repair, which ended in condemning it."""
    rng, cal, today = orders.rng, orders.cal, orders.today
    out = []
    for i, d in enumerate(orders.devices):
        if d["status"] != "condemned":
            continue
        first = max(d["in_service_date"] + timedelta(days=30), today - timedelta(days=HISTORY_DAYS))
        if first >= today - timedelta(days=10):
            first = today - timedelta(days=40)
        day = cal.on_or_after(first + timedelta(days=rng.randint(0, max(0, (today - first).days - 30))))
        patient = rng.randrange(len(orders.patients))
        order = orders.new("repair_on_site", i, day, rng.randint(8 * 60, 16 * 60), patient=patient)
        orders.set_orderer(order, rng.choice(("prescriber", "phone")))
        orders.describe(order)
        orders.complete(order, cal.add(day, rng.randint(1, 6)), "condemned")
        out.append(order)
    return out


def number_orders(work_orders: list[dict]) -> None:
    """Sort the orders by receipt and number them per year (AO-2026-000001), in place."""
    for n, o in enumerate(work_orders):
        o["_seq"] = n
    work_orders.sort(key=lambda o: (o["received_at"], o["_seq"]))
    per_year: dict[int, int] = {}
    for o in work_orders:
        year = o["received_at"].year
        per_year[year] = per_year.get(year, 0) + 1
        o["number"] = f"AO-{year}-{per_year[year]:06d}"
        o["updated_at"] = o["completed_at"] or o["cancelled_at"] or o["started_at"] or o["received_at"]
