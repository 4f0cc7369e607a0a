"""FU (förebyggande underhåll): checklists per device category, the answers a technician
gives on a visit, decisions about failed safety items, and the next FU date.

Templates are versioned: publishing a changed checklist adds a version, and answers keep
pointing at the version they answered. Answers and decisions are append-only rows; the
latest row per item is the current answer, the earlier ones stay as history.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from backend import db
from backend.accounts.service import staff_name
from backend.db import Sql, raw
from backend.errors import DomainError
from backend.workorders import service as workorders

ANSWER_LABELS = {"pass": "Godkänd", "fail": "Underkänd", "na": "Ej aktuell"}

DECISION_LABELS = {
    "taken_out_of_use": "Taget ur bruk",
    "repaired_on_site": "Åtgärdat på plats",
    "follow_up_order": "Ny reparationsorder skapad",
}

# The device's status after each decision: a failed safety item keeps the device out of
# use until it is repaired (on the spot, or by the follow-up order) or replaced.
STATUS_AFTER_DECISION = {
    "taken_out_of_use": "out_of_use",
    "repaired_on_site": "in_use",
    "follow_up_order": "out_of_use",
}


class ChecklistError(DomainError):
    """An answer that cannot be stored."""


@dataclass(frozen=True)
class Measurement:
    unit: str
    min: Decimal | None  # pass limits
    max: Decimal | None
    lowest: Decimal  # what the instrument can physically read
    highest: Decimal

    @property
    def limits_text(self) -> str:
        def fmt(v: Decimal | None) -> str:
            return "" if v is None else f"{v.normalize():f}".replace(".", ",")

        return f"{fmt(self.min)}–{fmt(self.max)} {self.unit}"


@dataclass(frozen=True)
class ChecklistItem:
    key: str
    text: str
    safety_critical: bool
    measurement: Measurement | None


@dataclass(frozen=True)
class Checklist:
    id: int
    category_id: int
    version: int
    items: list[ChecklistItem]

    def item(self, key: str) -> ChecklistItem | None:
        return next((i for i in self.items if i.key == key), None)


@dataclass(frozen=True)
class Answer:
    item_key: str
    answer: str  # pass, fail, na
    measurement: Decimal | None = None
    comment: str = ""


@dataclass
class ChecklistState:
    """Where a visit's checklist stands: current answers, decisions and what is still missing."""

    checklist: Checklist
    answers: dict[str, dict] = field(default_factory=dict)  # item key -> latest answer row
    decisions: dict[str, dict] = field(default_factory=dict)  # item key -> latest decision row

    @property
    def unanswered(self) -> list[ChecklistItem]:
        return [i for i in self.checklist.items if i.key not in self.answers]

    @property
    def failed_safety_items(self) -> list[ChecklistItem]:
        return [i for i in self.checklist.items
                if i.safety_critical and self.answers.get(i.key, {}).get("answer") == "fail"]

    @property
    def undecided(self) -> list[ChecklistItem]:
        return [i for i in self.failed_safety_items if i.key not in self.decisions]

    @property
    def complete(self) -> bool:
        return not self.unanswered and not self.undecided


def _decimal(value) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _checklist(row) -> Checklist:
    raw = row["items"]
    items = json.loads(raw) if isinstance(raw, str) else raw
    parsed = []
    for item in items:
        m = item.get("measurement")
        measurement = None
        if m:
            lowest = _decimal(m.get("lowest"))
            highest = _decimal(m.get("highest"))
            hi = _decimal(m.get("max"))
            measurement = Measurement(
                unit=m["unit"], min=_decimal(m.get("min")), max=hi,
                lowest=lowest if lowest is not None else Decimal(0),
                highest=highest if highest is not None else (hi * 10 if hi else Decimal(1000)),
            )
        parsed.append(ChecklistItem(item["key"], item["text"], bool(item.get("safety_critical")), measurement))
    return Checklist(row["id"], row["category"], row["version"], parsed)


async def current_checklist(category_id: int) -> Checklist | None:
    """The newest version of a category's checklist; None for categories without FU."""
    row = await db.fetchrow(
        "SELECT id, category, version, items FROM checklist_template WHERE category = $1 "
        "ORDER BY version DESC LIMIT 1",
        category_id,
    )
    return _checklist(row) if row else None


def checklist_json(work_order: Sql, category: Sql) -> Sql:
    """The checklist an order answers, as JSON (a scalar subquery; `parse_checklist` reads it): the
    version its answers were given against, else the newest of its device's category `category`."""
    return Sql(
        """
        (SELECT row_to_json(t) FROM (
            SELECT id, category, version, items FROM checklist_template WHERE category = :category
            ORDER BY (id = (SELECT template FROM checklist_answer WHERE work_order = :order ORDER BY id LIMIT 1))
                     IS TRUE DESC, version DESC
            LIMIT 1) t)
        """,
        category=category, order=work_order)


def parse_checklist(raw: str | None) -> Checklist | None:
    return _checklist(json.loads(raw)) if raw else None


async def checklist_for_order(work_order_id: int) -> Checklist | None:
    """The version an order's answers were given against; for a fresh order the newest version
    of its device's category. One query either way."""
    order = Sql(":id", id=work_order_id)
    return parse_checklist(await db.fetchval(Sql(
        "SELECT :checklist", checklist=checklist_json(order, workorders.order_category(order)))))


def answers_json(work_order: Sql) -> Sql:
    """The order's current answer per checklist item, as a JSON array (id, item_key, answer,
    measurement, comment, answered_at, who), by id."""
    return Sql(
        """
        (SELECT coalesce(json_agg(x ORDER BY x.id), '[]') FROM (
            SELECT c.id, c.item_key, c.answer, c.measurement, c.comment, c.answered_at, :who AS who
            FROM (SELECT DISTINCT ON (item_key) * FROM checklist_answer WHERE work_order = :order
                  ORDER BY item_key, id DESC) c) x)
        """,
        who=staff_name(raw("c.answered_by")), order=work_order)


def decisions_json(work_order: Sql) -> Sql:
    """The order's current decision per failed safety item, as a JSON array (id, item_key, decision,
    comment, decided_at, who, follow_up_number), by id."""
    return Sql(
        """
        (SELECT coalesce(json_agg(x ORDER BY x.id), '[]') FROM (
            SELECT sd.id, sd.item_key, sd.decision, sd.comment, sd.decided_at, :who AS who,
                   :follow_up AS follow_up_number
            FROM (SELECT DISTINCT ON (item_key) * FROM safety_decision WHERE work_order = :order
                  ORDER BY item_key, id DESC) sd) x)
        """,
        who=staff_name(raw("sd.decided_by")), follow_up=workorders.order_number(raw("sd.follow_up_order")),
        order=work_order)


async def publish_checklist(category_id: int, items: list[dict]) -> Checklist:
    """A new version of a category's checklist. Earlier answers keep their own version."""
    for item in items:
        if not item.get("key") or not item.get("text"):
            raise ValueError("every checklist item needs a key and a text")
    if len({i["key"] for i in items}) != len(items):
        raise ValueError("checklist item keys must be unique")
    row = await db.fetchrow(
        """
        INSERT INTO checklist_template (category, version, items, published_at)
        SELECT $1, coalesce(max(version), 0) + 1, $2::jsonb, now() FROM checklist_template WHERE category = $1
        RETURNING id, category, version, items
        """,
        category_id, json.dumps(items),
    )
    return _checklist(row)


def check_answer(item: ChecklistItem, answer: Answer, field_prefix: str = "") -> None:
    """Raise ChecklistError when an answer cannot be right; the field names match the form."""
    name = f"{field_prefix}{item.key}"
    if answer.answer not in ANSWER_LABELS:
        raise ChecklistError(f"Välj Godkänd, Underkänd eller Ej aktuell för ”{item.text}”.", name)
    m = item.measurement
    if answer.answer == "na":
        return
    if m is not None:
        if answer.measurement is None:
            raise ChecklistError(f"Ange mätvärdet i {m.unit} för ”{item.text}”.", f"{name}-value")
        if not (m.lowest <= answer.measurement <= m.highest):
            raise ChecklistError(
                f"Mätvärdet {_swedish(answer.measurement)} {m.unit} är inte möjligt för ”{item.text}”. "
                f"Kontrollera värdet och enheten.", f"{name}-value")
        outside = ((m.min is not None and answer.measurement < m.min)
                   or (m.max is not None and answer.measurement > m.max))
        if outside and answer.answer == "pass":
            raise ChecklistError(
                f"{_swedish(answer.measurement)} {m.unit} ligger utanför gränsvärdet {m.limits_text} för "
                f"”{item.text}”. Markera punkten som underkänd.", name)
    if answer.answer == "fail" and not answer.comment:
        raise ChecklistError(f"Beskriv felet för ”{item.text}”.", f"{name}-comment")


def _swedish(value: Decimal) -> str:
    return f"{value.normalize():f}".replace(".", ",")


async def checklist_state(work_order_id: int, checklist: Checklist) -> ChecklistState:
    rows = await db.fetchrow(
        """
        SELECT
          (SELECT coalesce(json_agg(a ORDER BY a.id), '[]') FROM (
              SELECT DISTINCT ON (item_key) id, item_key, answer, measurement, comment, answered_at
              FROM checklist_answer WHERE work_order = $1 ORDER BY item_key, id DESC) a) AS answers,
          (SELECT coalesce(json_agg(d ORDER BY d.id), '[]') FROM (
              SELECT DISTINCT ON (item_key) id, item_key, decision, comment, follow_up_order, decided_at
              FROM safety_decision WHERE work_order = $1 ORDER BY item_key, id DESC) d) AS decisions
        """,
        work_order_id,
    )
    return state_from(checklist, json.loads(rows["answers"]), json.loads(rows["decisions"]))


def state_from(checklist: Checklist, answers: list[dict], decisions: list[dict]) -> ChecklistState:
    return ChecklistState(
        checklist=checklist,
        answers={a["item_key"]: a for a in answers if checklist.item(a["item_key"])},
        decisions={d["item_key"]: d for d in decisions},
    )


async def save_answers(*, work_order_id: int, checklist: Checklist, answers: list[Answer], actor_id: int,
                       current: ChecklistState) -> int:
    """Append a row for every answer that differs from the current one; returns how many.

    Joins the caller's transaction. Raises ChecklistError for the first answer that cannot
    be right, before anything is written."""
    changed = []
    for answer in answers:
        item = checklist.item(answer.item_key)
        if item is None:
            raise ChecklistError("Checklistan har ändrats. Ladda om sidan och fyll i igen.")
        check_answer(item, answer, "item-")
        now = current.answers.get(item.key)
        if now and (now["answer"], _decimal(now["measurement"]), now["comment"]) == (
                answer.answer, answer.measurement, answer.comment):
            continue
        changed.append(answer)
    if changed:
        await db.execute(
            """
            INSERT INTO checklist_answer (work_order, template, item_key, answer, measurement, comment, answered_by)
            SELECT $1, $2, k, a, m, c, $7
            FROM unnest($3::text[], $4::text[], $5::numeric[], $6::text[]) AS t(k, a, m, c)
            """,
            work_order_id, checklist.id, [a.item_key for a in changed], [a.answer for a in changed],
            [a.measurement for a in changed], [a.comment for a in changed], actor_id,
        )
    return len(changed)


async def record_decision(*, work_order_id: int, item_key: str, decision: str, comment: str, actor_id: int,
                          follow_up_order_id: int | None) -> None:
    if decision not in DECISION_LABELS:
        raise ChecklistError("Välj vad som görs med hjälpmedlet.", "decision")
    await db.execute(
        "INSERT INTO safety_decision (work_order, item_key, decision, comment, follow_up_order, decided_by) "
        "VALUES ($1, $2, $3, $4, $5, $6)",
        work_order_id, item_key, decision, comment, follow_up_order_id, actor_id,
    )


def next_fu_date(done_on: date, interval_days: int | None) -> date | None:
    """The next FU is one interval after the day this one was done."""
    return done_on + timedelta(days=interval_days) if interval_days else None
