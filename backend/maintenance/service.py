"""FU (förebyggande underhåll): the face of this domain, which routes and other domains import.

Here: which checklist an order answers, the answers a technician gives on a visit, decisions
about failed safety items, and the next FU date. Behind it: `items.py` (what a checklist is made
of, and the rules for an item), `checklists.py` (the admin's lists: drafts, publishing, versions).

A category's checklists are versioned: a draft is edited, then published as the next version.
An order answers the version published when it was made, and answers keep pointing at the
version they answered. Answers and decisions are append-only rows; the latest row per item is
the current answer, the earlier ones stay as history.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from backend import db
from backend.accounts.service import staff_name
from backend.db import Sql, raw
# The admin's checklists and what they are made of, for routes and other domains.
from backend.maintenance.checklists import (
    MAX_ITEMS,
    PAGE_SIZE,
    REGISTER,
    ChecklistNotFound,
    DraftChanged,
    VersionPage,
    add_item,
    categories,
    change_item,
    create_checklist,
    discard_draft,
    move_item,
    overview,
    publish_checklist,
    publish_draft,
    remove_item,
    rename_draft,
    start_draft,
    version_page,
)
from backend.maintenance.items import (
    KINDS,
    UNITS,
    Checklist,
    ChecklistError,
    ChecklistItem,
    ChecklistRefused,
    ItemFields,
    Measurement,
    checklist_from_row,
    decimal_of,
    form_values,
    swedish,
)
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


async def current_checklist(category_id: int, code: str = "fu") -> Checklist | None:
    """The newest published version of a category's checklist (never a draft); None for
    categories without one."""
    row = await db.fetchrow(
        "SELECT id, category, code, name, version, items, published_at FROM checklist_template "
        "WHERE category = $1 AND code = $2 AND published_at IS NOT NULL ORDER BY version DESC LIMIT 1",
        category_id, code,
    )
    return checklist_from_row(row) if row else None


def checklist_json(work_order: Sql, category: Sql) -> Sql:
    """The checklist an order answers, as JSON (a scalar subquery; `parse_checklist` reads it):
    the version its answers were given against; else the version of its FU schedule's checklist
    (the yearly service's, "fu", for an order without a schedule) of its device's category
    `category` that was published when the order was made (received_at: an order has no other
    birth time), never a draft nor a later one; an order made before any version was published
    answers the oldest."""
    return Sql(
        """
        (SELECT row_to_json(t) FROM (
            SELECT c.id, c.category, c.code, c.name, c.version, c.items, c.published_at
            FROM (SELECT (SELECT template FROM checklist_answer WHERE work_order = :order ORDER BY id LIMIT 1)
                         AS answered, :made_at AS made_at) o
            JOIN checklist_template c ON c.category = :category AND c.published_at IS NOT NULL
                                     AND (c.code = :code OR c.id = o.answered)
            ORDER BY (c.id = o.answered) IS TRUE DESC,
                     (c.published_at <= o.made_at) IS TRUE DESC,
                     CASE WHEN c.published_at <= o.made_at THEN c.version END DESC NULLS LAST,
                     c.version
            LIMIT 1) t)
        """,
        order=work_order, made_at=_made_at(work_order), category=category,
        code=workorders.order_checklist_code(work_order))


def _made_at(work_order: Sql) -> Sql:
    """When the order was made (work_order.received_at), as a scalar subquery placed from the
    queries the work-order domain exports (its brief gives the organisation its row needs)."""
    return Sql("(SELECT mw.received_at FROM (:brief) mb JOIN LATERAL (:row) mw ON true)",
               brief=workorders.order_brief(work_order),
               row=workorders.order_row(work_order, raw("mb.order_organisation")))


def parse_checklist(raw: str | None) -> Checklist | None:
    return checklist_from_row(json.loads(raw)) if raw else None


async def checklist_for_order(work_order_id: int) -> Checklist | None:
    """The version an order answers (see `checklist_json`). One query."""
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
                f"Mätvärdet {swedish(answer.measurement)} {m.unit} är inte möjligt för ”{item.text}”. "
                f"Kontrollera värdet och enheten.", f"{name}-value")
        outside = ((m.min is not None and answer.measurement < m.min)
                   or (m.max is not None and answer.measurement > m.max))
        if outside and answer.answer == "pass":
            raise ChecklistError(
                f"{swedish(answer.measurement)} {m.unit} ligger utanför gränsvärdet {m.limits_text} för "
                f"”{item.text}”. Markera punkten som underkänd.", name)
    if answer.answer == "fail" and not answer.comment:
        raise ChecklistError(f"Beskriv felet för ”{item.text}”.", f"{name}-comment")
    if item.kind == "text" and not answer.comment:  # a free-text item is answered by its comment
        raise ChecklistError(f"Skriv en kommentar för ”{item.text}”.", f"{name}-comment")


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
        if now and (now["answer"], decimal_of(now["measurement"]), now["comment"]) == (
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


async def checklist_choices(category_id: int | None) -> list[dict]:
    """The category's checklists that have a published version, by code: [{"code", "name"}], the
    name of the newest published version. An FU schedule uses one of these (devices.schedules)."""
    if category_id is None:
        return []
    rows = await db.fetch(
        "SELECT DISTINCT ON (code) code, name FROM checklist_template "
        "WHERE category = $1 AND published_at IS NOT NULL ORDER BY code, version DESC",
        category_id,
    )
    return [{"code": r["code"], "name": r["name"]} for r in rows]
