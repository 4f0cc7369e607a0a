"""A category's checklists as the admin keeps them: lists named by a code ("fu" the yearly
service, "sling" a lift's sling check), each in versions. A list has at most one draft; the
draft is edited item by item (every change checked against the draft the editor saw) and
published as the next version. Published versions never change, and visits never see a draft.

Every change is kept in the register history ("checklist", the version's row id).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from backend import db
from backend.accounts.service import Actor
from backend.changes import service as changes
from backend.devices import catalogue
from backend.maintenance.items import (
    CODE,
    CODE_MAX,
    NAME_MAX,
    Checklist,
    ChecklistError,
    ChecklistRefused,
    ItemFields,
    checked_item,
    checklist_from_row,
    new_key,
    summary,
)

REGISTER = "checklist"
PAGE_SIZE = 25
MAX_ITEMS = 100
DEFAULT_NAMES = {"fu": "Förebyggande underhåll"}


class ChecklistNotFound(Exception):
    """No such version in the organisation (the page answers 404)."""


class DraftChanged(ChecklistError):
    """The draft changed since the editor's page was shown: nothing is written."""

    def __init__(self) -> None:
        super().__init__("Utkastet har ändrats sedan sidan visades (av dig i en annan flik eller av någon annan). "
                         "Sidan visar det nu; gör ändringen igen.")


def revision(row) -> str:
    """A short fingerprint of a version's name and items: the editor's forms carry it, so a change
    made to an older view of the draft is refused rather than undoing someone's edit."""
    raw = row["items"]
    items = json.loads(raw) if isinstance(raw, str) else raw
    text = json.dumps([row["name"], items], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


async def categories(organisation_id: int) -> list[dict]:
    """The organisation's device categories, by ISO code (id, name: "12 23 06 Elrullstol"): the
    lists hang on them."""
    return [{"id": id, "name": name} for id, name in await catalogue.category_choices(organisation_id)]


# --- reading ---------------------------------------------------------------------------------


async def overview(organisation_id: int, *, query: str = "", page: int = 1) -> dict:
    """The categories (searched by name, ISO code, or a list's name or code; a page of them), each
    with its lists: code, name, the published versions (oldest first) and the open draft."""
    all_categories = await categories(organisation_id)
    rows = await db.fetch(
        "SELECT id, category, code, name, version, published_at FROM checklist_template "
        "WHERE category = ANY($1::int[]) ORDER BY category, code, published_at IS NULL, version",
        [c["id"] for c in all_categories],
    )
    lists: dict[int, dict[str, dict]] = {}
    for row in rows:
        found = lists.setdefault(row["category"], {}).setdefault(
            row["code"], {"code": row["code"], "name": row["name"], "versions": [], "draft": None})
        if row["published_at"] is None:
            found["draft"] = dict(row)
        else:
            found["versions"].append(dict(row))
            found["name"] = row["name"]
    needle = " ".join(query.split()).casefold()
    shown = []
    for category in all_categories:
        its_lists = sorted(lists.get(category["id"], {}).values(), key=lambda x: (x["code"] != "fu", x["code"]))
        words = [category["name"]] + [f"{x['code']} {x['name']}" for x in its_lists]
        if needle and not any(needle in w.casefold() for w in words):
            continue
        shown.append({**category, "lists": its_lists})
    start = (page - 1) * PAGE_SIZE
    return {"categories": shown[start:start + PAGE_SIZE], "more": len(shown) > start + PAGE_SIZE,
            "all_categories": all_categories}


@dataclass(frozen=True)
class VersionPage:
    checklist: Checklist
    category: dict
    versions: list[dict]  # the list's versions, oldest first, the draft last
    revision: str
    history: list


async def version_page(organisation_id: int, template_id: int) -> VersionPage:
    """One version of a list (a draft or a published one) with the list's other versions and its
    change history."""
    rows = await db.fetch(
        """
        SELECT s.id, s.category, s.code, s.name, s.version, s.items, s.published_at, s.id = t.id AS this
        FROM checklist_template t JOIN checklist_template s ON s.category = t.category AND s.code = t.code
        WHERE t.id = $1 ORDER BY s.published_at IS NULL, s.version
        """,
        template_id,
    )
    this = next((r for r in rows if r["this"]), None)
    category = this and next((c for c in await categories(organisation_id) if c["id"] == this["category"]), None)
    if this is None or category is None:
        raise ChecklistNotFound()
    return VersionPage(
        checklist=checklist_from_row(this), category=category,
        versions=[{k: r[k] for k in ("id", "version", "published_at", "name")} for r in rows],
        revision=revision(this), history=await changes.history(organisation_id, REGISTER, template_id))


# --- creating and editing ----------------------------------------------------------------------


async def create_checklist(actor: Actor, *, category_id: int | None, code: str, name: str) -> int:
    """A new list for a category, as a draft (version 1) without items; returns its id."""
    errors: list[tuple[str, str]] = []
    category = next((c for c in await categories(actor.organisation) if c["id"] == category_id), None)
    if category is None:
        errors.append(("category", "Välj en hjälpmedelskategori."))
    code = code.strip().lower()
    if not code:
        errors.append(("code", "Skriv en kod, till exempel fu eller sele."))
    elif len(code) > CODE_MAX or not CODE.match(code):
        errors.append(("code", f"Koden får ha högst {CODE_MAX} tecken: små bokstäver a–z, siffror, - och _."))
    name = " ".join(name.split())
    if not name:
        errors.append(("name", "Skriv checklistans namn."))
    elif len(name) > NAME_MAX:
        errors.append(("name", f"Namnet får vara högst {NAME_MAX} tecken."))
    if errors:
        raise ChecklistRefused(errors)
    async with db.transaction():
        template_id = await db.fetchval(
            """
            INSERT INTO checklist_template (category, code, name, version, items)
            SELECT $1, $2::text, $3::text, 1, '[]'::jsonb
            WHERE NOT EXISTS (SELECT 1 FROM checklist_template WHERE category = $1 AND code = $2::text)
            ON CONFLICT DO NOTHING RETURNING id
            """,
            category_id, code, name,
        )
        if template_id is None:
            raise ChecklistRefused([("code", f"{category['name']} har redan en checklista med koden ”{code}”. "
                                             "Öppna den i listan och gör ett nytt utkast.")])
        await changes.record(actor.organisation, REGISTER, template_id, "created", actor=actor.id,
                             actor_name=actor.name, after={"category": category["name"], "code": code, "name": name})
    return template_id


async def start_draft(actor: Actor, template_id: int) -> int:
    """A draft of the list's next version, with the items of version `template_id` (the newest,
    or an older one to go back to); returns the draft's id."""
    async with db.transaction():
        source = await _version(actor, template_id, lock=False)
        if source["published_at"] is None:
            raise ChecklistError("Det här är redan ett utkast.")
        draft_id = await db.fetchval(
            """
            INSERT INTO checklist_template (category, code, name, version, items)
            SELECT $1, $2::text, $3::text, max(version) + 1, $4::jsonb FROM checklist_template
            WHERE category = $1 AND code = $2::text
            ON CONFLICT DO NOTHING RETURNING id
            """,
            source["category"], source["code"], source["name"], _items_text(source),
        )
        if draft_id is None:
            raise ChecklistError("Listan har redan ett utkast. Öppna det i stället.")
        await changes.record(actor.organisation, REGISTER, draft_id, "created", actor=actor.id,
                             actor_name=actor.name, after={"from_version": source["version"]})
    return draft_id


async def rename_draft(actor: Actor, template_id: int, seen: str, name: str) -> None:
    name = " ".join(name.split())
    if not name:
        raise ChecklistRefused([("name", "Skriv checklistans namn.")])
    if len(name) > NAME_MAX:
        raise ChecklistRefused([("name", f"Namnet får vara högst {NAME_MAX} tecken.")])
    async with db.transaction():
        draft = await _draft(actor, template_id, seen)
        await db.execute("UPDATE checklist_template SET name = $2 WHERE id = $1", template_id, name)
        await _record(actor, template_id, {"name": draft["name"]}, {"name": name})


async def add_item(actor: Actor, template_id: int, seen: str, fields: ItemFields) -> str:
    """Add an item at the end of the draft; its key comes from its text and stays. Returns the key."""
    async with db.transaction():
        draft = await _draft(actor, template_id, seen)
        items = _items(draft)
        if len(items) >= MAX_ITEMS:
            raise ChecklistError(f"En checklista kan ha högst {MAX_ITEMS} punkter.")
        taken = {r["key"] for r in await db.fetch(
            "SELECT DISTINCT jsonb_array_elements(items)->>'key' AS key FROM checklist_template "
            "WHERE category = $1 AND code = $2", draft["category"], draft["code"])}
        item = checked_item(fields, new_key(fields.text, taken | {i["key"] for i in items}))
        await _save_items(template_id, [*items, item])
        await _record(actor, template_id, {}, {_field(item): summary(item)})
    return item["key"]


async def change_item(actor: Actor, template_id: int, seen: str, key: str, fields: ItemFields) -> None:
    """Change an item of the draft; its key stays, so answers to it line up across versions."""
    async with db.transaction():
        draft = await _draft(actor, template_id, seen)
        items = _items(draft)
        at = _position(items, key)
        item = checked_item(fields, key)
        before = items[at]
        items[at] = item
        await _save_items(template_id, items)
        await _record(actor, template_id, {_field(before): summary(before)}, {_field(item): summary(item)})


async def move_item(actor: Actor, template_id: int, seen: str, key: str, direction: str) -> None:
    """Move an item one place up or down ("up", "down"); at either end it stays."""
    if direction not in ("up", "down"):
        raise ChecklistError("Välj om punkten ska flyttas upp eller ner.")
    async with db.transaction():
        draft = await _draft(actor, template_id, seen)
        items = _items(draft)
        at = _position(items, key)
        to = at - 1 if direction == "up" else at + 1
        if not 0 <= to < len(items):
            return
        before = _order(items)
        items[at], items[to] = items[to], items[at]
        await _save_items(template_id, items)
        await _record(actor, template_id, {"order": before}, {"order": _order(items)})


async def remove_item(actor: Actor, template_id: int, seen: str, key: str) -> None:
    """Remove an item from the draft (the published versions keep theirs)."""
    async with db.transaction():
        draft = await _draft(actor, template_id, seen)
        items = _items(draft)
        removed = items.pop(_position(items, key))
        await _save_items(template_id, items)
        await _record(actor, template_id, {_field(removed): summary(removed)}, {})


async def publish_draft(actor: Actor, template_id: int, seen: str) -> int:
    """The draft becomes the list's next version: orders made from now on answer it. Returns
    the version number."""
    async with db.transaction():
        draft = await _draft(actor, template_id, seen)
        if not _items(draft):
            raise ChecklistError("Lägg till minst en punkt innan du publicerar.")
        version = await db.fetchval(
            """
            UPDATE checklist_template t SET published_at = now(),
                   version = (SELECT coalesce(max(p.version), 0) + 1 FROM checklist_template p
                              WHERE p.category = t.category AND p.code = t.code AND p.published_at IS NOT NULL)
            WHERE t.id = $1 RETURNING t.version
            """,
            template_id,
        )
        await changes.record(actor.organisation, REGISTER, template_id, "published", actor=actor.id,
                             actor_name=actor.name, before={"version": None}, after={"version": version})
    return version


async def discard_draft(actor: Actor, template_id: int, seen: str) -> None:
    """Throw a draft away (its history stays). A list that never had a version goes with it."""
    async with db.transaction():
        draft = await _draft(actor, template_id, seen)
        await db.execute("DELETE FROM checklist_template WHERE id = $1 AND published_at IS NULL", template_id)
        await changes.record(actor.organisation, REGISTER, template_id, "deleted", actor=actor.id,
                             actor_name=actor.name, before={"name": draft["name"]})


async def publish_checklist(category_id: int, items: list[dict], *, code: str = "fu",
                            name: str | None = None) -> Checklist:
    """Publish a version of a category's list straight from code (tests, the demo, an import),
    past any draft: the draft, when published, comes after it."""
    for item in items:
        if not item.get("key") or not item.get("text"):
            raise ValueError("every checklist item needs a key and a text")
    if len({i["key"] for i in items}) != len(items):
        raise ValueError("checklist item keys must be unique")
    row = await db.fetchrow(
        """
        INSERT INTO checklist_template (category, code, name, version, items, published_at)
        SELECT $1, $2::text, coalesce($3::text, (SELECT name FROM checklist_template WHERE category = $1
                                                 AND code = $2::text ORDER BY version DESC LIMIT 1), $5::text),
               coalesce(max(version), 0) + 1, $4::jsonb, now()
        FROM checklist_template WHERE category = $1 AND code = $2::text
        RETURNING id, category, code, name, version, items, published_at
        """,
        category_id, code, name, json.dumps(items, ensure_ascii=False), DEFAULT_NAMES.get(code, code),
    )
    return checklist_from_row(row)


# --- behind the edits ----------------------------------------------------------------------------


async def _version(actor: Actor, template_id: int, *, lock: bool) -> dict:
    row = await db.fetchrow(
        "SELECT id, category, code, name, version, items, published_at FROM checklist_template WHERE id = $1"
        + (" FOR UPDATE" if lock else ""),
        template_id,
    )
    if row is None or not any(c["id"] == row["category"] for c in await categories(actor.organisation)):
        raise ChecklistNotFound()
    return dict(row)


async def _draft(actor: Actor, template_id: int, seen: str) -> dict:
    """The draft, locked until the caller's transaction ends, as the editor saw it."""
    draft = await _version(actor, template_id, lock=True)
    if draft["published_at"] is not None:
        raise ChecklistError(f"Version {draft['version']} är publicerad och ändras inte. Gör ett nytt utkast.")
    if seen != revision(draft):
        raise DraftChanged()
    return draft


def _items(row: dict) -> list[dict]:
    raw = row["items"]
    return list(json.loads(raw) if isinstance(raw, str) else raw)


def _items_text(row: dict) -> str:
    return json.dumps(_items(row), ensure_ascii=False)


def _position(items: list[dict], key: str) -> int:
    at = next((n for n, i in enumerate(items) if i["key"] == key), None)
    if at is None:
        raise ChecklistNotFound()
    return at


async def _save_items(template_id: int, items: list[dict]) -> None:
    await db.execute("UPDATE checklist_template SET items = $2::jsonb WHERE id = $1", template_id,
                     json.dumps(items, ensure_ascii=False))


def _field(item: dict) -> str:
    return f"item:{item['key']}"


def _order(items: list[dict]) -> str:
    return "; ".join(f"{n}. {i['text']}" for n, i in enumerate(items, 1))


async def _record(actor: Actor, template_id: int, before: dict, after: dict) -> None:
    await changes.record(actor.organisation, REGISTER, template_id, "changed", actor=actor.id,
                         actor_name=actor.name, before=before, after=after)

