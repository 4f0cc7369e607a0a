"""The demo region's FU (functional checks): the FU orders due soon, two years of FU history,
and the checklist answers and safety decisions of every completed FU."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from backend.demo import catalogue as C
from backend.demo.common import HISTORY_DAYS, Draw, Weighted
from backend.demo.workorders import FU_SHARE, ORDERS_PER_YEAR, Orders

BACKLOG_ORDERED_SHARE = 0.3  # overdue FU that already have an order; the rest wait on the due list


def fu_events(draw: Draw, device: dict) -> list[date]:
    """The device's FU dates in the history window, the latest first (from its last FU
    date back by its interval)."""
    interval, last = device["_interval"], device["last_fu_date"]
    first = draw.today - timedelta(days=HISTORY_DAYS)
    events = []
    while last is not None and last >= first and last >= device["in_service_date"] and last < draw.today:
        events.append(last)
        last = draw.cal.on_or_before(last - timedelta(days=interval))
    return events


def fu_order_rate(orders: Orders) -> float:
    """The chance that an FU of a device lent out has an order in the demo (in the history and
    in the coming weeks alike): chosen so that the history's FU orders come to FU_SHARE of
    ORDERS_PER_YEAR."""
    draw, devices = orders.draw, orders.devices
    events = sum(len(fu_events(draw, d)) for d in devices if d["holder"] is not None and d["_interval"])
    target_fu = ORDERS_PER_YEAR * FU_SHARE * draw.scale * HISTORY_DAYS / 365
    return min(1.0, target_fu / events) if events else 1.0


def upcoming_fu_orders(orders: Orders, rate: float) -> list[tuple[date, dict]]:
    """FU orders due in the coming weeks (and some of the overdue), with the day each is due to
    be done: generated about four weeks before the due date, so only those already generated exist.
    Most overdue FU have no order yet: the backlog (underhållsskuld) the due list shows."""
    draw, devices = orders.draw, orders.devices
    rng, cal, today = draw.rng, draw.cal, draw.today
    out = []
    horizon_end = cal.add(draw.target_day, 25)
    for i, d in enumerate(devices):
        if d["holder"] is None or not d["_interval"]:
            continue
        due = d["next_fu_date"]
        if d["status"] != "in_use" or due > horizon_end:
            continue
        if rng.random() >= (BACKLOG_ORDERED_SHARE if due < today else rate):
            continue
        received = cal.subtract(cal.on_or_after(due), rng.randint(15, 22))
        if received >= today:
            continue
        order = orders.fu(i, received, due, finish_due=due)
        orders.describe(order)
        out.append((max(draw.target_day, cal.on_or_after(due)), order))
    return out


def fu_history(orders: Orders, rate: float) -> list[dict]:
    """Past FU orders of the devices lent out, completed on their FU dates (a few cancelled);
    the latest FU of a device taken out of use is the one whose safety item failed."""
    rng, cal = orders.rng, orders.cal
    outcomes = Weighted([("fixed", 93), ("needs_follow_up", 6), ("taken_to_workshop", 1)])
    out = []
    for i, d in enumerate(orders.devices):
        if not d["_interval"] or d["holder"] is None:
            continue
        for n, event in enumerate(fu_events(orders.draw, d)):
            latest_failed = n == 0 and d["status"] == "out_of_use"  # its safety item failed
            if not latest_failed and rng.random() >= rate:
                continue
            received = cal.subtract(event, rng.randint(15, 22))
            order = orders.fu(i, received, event, finish_due=event + timedelta(days=rng.randint(-5, 5)))
            orders.describe(order)
            if not latest_failed and rng.random() < 0.02:
                orders.cancel(order, cal.subtract(event, rng.randint(0, 3)))
            else:
                orders.complete(order, event, "needs_follow_up" if latest_failed else outcomes.pick(rng))
                order["_failed_safety"] = latest_failed
            out.append(order)
    return out


def checklist_results(draw: Draw, work_orders: list[dict], devices: list[dict]) -> tuple[list[dict], list[dict]]:
    """The checklist of every completed FU: all passed, except a remark now and then and
    the failed safety item that took a device out of use (with its decision)."""
    rng = draw.rng
    template_of = {code: k for k, code in enumerate(C.CHECKLISTS)}
    answers, decisions = [], []
    for index, order in enumerate(work_orders):
        if order["type"] != "maintenance" or order["status"] != "completed":
            continue
        code = devices[order["device"]]["_cat"]
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
    draw.progress(f"checklist answers: {len(answers)} generated")
    return answers, decisions
