"""The catalogue register: device categories (ISO 9999 code, Swedish name, expected lifetime, the
self-checks shown to patients on the public fault-report page) and articles (the assortment, and
spare parts without a category), kept by admins and coordinators; every change is recorded in the
change history. An article with devices is never deleted, only deactivated: history points at it.
"""

from __future__ import annotations

import json
import re
import unicodedata

import asyncpg

from backend import db
from backend.accounts.service import Actor
from backend.changes import service as changes
from backend.errors import DomainError

PAGE_SIZE = 50
CATEGORY, ARTICLE = "category", "article"  # the change history's registers

NAME_LENGTH, ARTICLE_NAME_LENGTH, NUMBER_LENGTH, MANUFACTURER_LENGTH = 100, 200, 30, 100
LIFE_YEARS = (1, 50)
MAX_SELF_CHECKS, SELF_CHECK_LENGTH = 10, 200

# ISO 9999: a class, subclass and division of two digits each ("12", "12 23", "12 23 06").
_ISO_CODE = re.compile(r"[0-9]{2}(?: ?[0-9]{2}){0,2}")


class CatalogueError(DomainError):
    """A catalogue change refused; nothing was written. May name several fields at once."""

    def __init__(self, message: str, field: str | None = None, *,
                 problems: list[tuple[str | None, str]] | None = None) -> None:
        problems = problems or [(field, message)]
        super().__init__(problems[0][1], problems[0][0])
        self._problems = problems

    @property
    def errors(self) -> list[tuple[str | None, str]]:
        return self._problems


def refuse(problems: list[tuple[str | None, str]]) -> None:
    """Raise one CatalogueError naming every problem found, if any."""
    if problems:
        raise CatalogueError(problems[0][1], problems[0][0], problems=problems)


class CategoryNotFound(Exception):
    pass


class ArticleNotFound(Exception):
    pass


def like_pattern(query: str) -> str | None:
    """`query` as a case-insensitive substring pattern (ILIKE), its wildcards taken literally."""
    query = " ".join(query.split())
    if not query:
        return None
    return "%" + query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def normalise_iso_code(text: str) -> str:
    """"122306", "12 23 06" -> "12 23 06"; a CatalogueError on anything else."""
    text = text.strip()
    if not _ISO_CODE.fullmatch(text):
        raise CatalogueError("Skriv ISO 9999-koden som två, fyra eller sex siffror i par, till exempel 12 23 06.",
                             "iso_code")
    digits = text.replace(" ", "")
    return " ".join(digits[i:i + 2] for i in range(0, len(digits), 2))


def _check_life_years(value: int | None, problems: list, *, required: bool) -> None:
    if value is None:
        if required:
            problems.append(("expected_life_years", "Skriv den förväntade livslängden i hela år."))
    elif not LIFE_YEARS[0] <= value <= LIFE_YEARS[1]:
        problems.append(("expected_life_years", f"Livslängden är {LIFE_YEARS[0]}–{LIFE_YEARS[1]} år."))


def _check_text(value: str, field: str, limit: int, problems: list, *, missing: str | None = None) -> None:
    if not value and missing:
        problems.append((field, missing))
    elif len(value) > limit:
        problems.append((field, f"Högst {limit} tecken."))


def _code_from(name: str) -> str:
    """A stable key from a Swedish name: "Elrullstol med ryggstöd" -> "elrullstol_med_ryggstod"."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "_", ascii_name).strip("_")[:32] or "kategori"


# --- categories ---------------------------------------------------------------------------------

def _category_fields(row) -> dict:
    """What the history keeps of a category (the self-checks as one text, so they compare and show)."""
    return {"name": row["name"], "iso_code": row["iso_code"], "expected_life_years": row["expected_life_years"],
            "self_checks": "; ".join(row["self_checks"])}


def _check_category(name: str, iso_code: str, expected_life_years: int | None,
                    self_checks: list[str]) -> tuple[str, list]:
    problems: list = []
    _check_text(name, "name", NAME_LENGTH, problems, missing="Skriv kategorins namn.")
    try:
        iso_code = normalise_iso_code(iso_code)
    except CatalogueError as exc:
        problems.append((exc.field, exc.message))
    _check_life_years(expected_life_years, problems, required=True)
    if len(self_checks) > MAX_SELF_CHECKS:
        problems.append(("self_checks", f"Högst {MAX_SELF_CHECKS} kontroller."))
    elif any(len(check) > SELF_CHECK_LENGTH for check in self_checks):
        problems.append(("self_checks", f"Varje kontroll får vara högst {SELF_CHECK_LENGTH} tecken."))
    return iso_code, problems


async def _name_taken(organisation_id: int, name: str, except_id: int | None) -> bool:
    return bool(await db.fetchval(
        "SELECT EXISTS (SELECT 1 FROM device_category WHERE organisation = $1 AND lower(name) = lower($2) "
        "AND id IS DISTINCT FROM $3)", organisation_id, name, except_id))


async def categories(organisation_id: int, *, query: str = "", page: int = 1) -> list[dict]:
    """One page of the organisation's categories, by ISO code, matching `query` (name, ISO code or
    key); each with its number of articles, its active FU schedules and `total` (all matches)."""
    pattern = like_pattern(query)
    rows = await db.fetch(
        """
        SELECT k.id, k.code, k.name, k.iso_code, k.expected_life_years,
               (SELECT count(*) FROM article a WHERE a.category = k.id) AS articles,
               (SELECT coalesce(json_agg(json_build_object('name', s.name, 'interval_days', s.interval_days)
                                         ORDER BY s.interval_days, s.name), '[]')
                FROM fu_schedule s WHERE s.category = k.id AND s.active) AS schedules,
               count(*) OVER () AS total
        FROM device_category k
        WHERE k.organisation = $1
          AND ($2::text IS NULL OR k.name ILIKE $2 OR k.code ILIKE $2
               OR replace(k.iso_code, ' ', '') LIKE replace($2, ' ', ''))
        ORDER BY k.iso_code, k.name LIMIT $3 OFFSET $4
        """,
        organisation_id, pattern, PAGE_SIZE, (page - 1) * PAGE_SIZE,
    )
    return [{**dict(r), "schedules": _json(r["schedules"])} for r in rows]


def _json(value):
    return json.loads(value) if isinstance(value, str) else value


async def category(organisation_id: int, category_id: int) -> dict:
    row = await db.fetchrow(
        "SELECT k.id, k.code, k.name, k.iso_code, k.expected_life_years, k.self_checks, "
        "(SELECT count(*) FROM article a WHERE a.category = k.id) AS articles "
        "FROM device_category k WHERE k.organisation = $1 AND k.id = $2",
        organisation_id, category_id)
    if row is None:
        raise CategoryNotFound()
    return {**dict(row), "self_checks": _json(row["self_checks"])}


async def category_choices(organisation_id: int) -> list[tuple[int, str]]:
    """(id, "12 23 06 Elrullstol") of every category, for choosing one."""
    rows = await db.fetch("SELECT id, iso_code, name FROM device_category WHERE organisation = $1 "
                          "ORDER BY iso_code, name", organisation_id)
    return [(r["id"], f"{r['iso_code']} {r['name']}") for r in rows]


async def create_category(actor: Actor, *, name: str, iso_code: str, expected_life_years: int | None,
                          self_checks: list[str]) -> int:
    """A new category (its key made from the name); the FU schedules are added on its page."""
    iso_code, problems = _check_category(name, iso_code, expected_life_years, self_checks)
    async with db.transaction():
        if name and await _name_taken(actor.organisation, name, None):
            problems.append(("name", "Det finns redan en kategori med det namnet."))
        refuse(problems)
        base = _code_from(name)
        taken = {r["code"] for r in await db.fetch(
            "SELECT code FROM device_category WHERE organisation = $1 AND code LIKE $2",
            actor.organisation, base + "%")}
        code = next(c for c in [base, *(f"{base}_{n}" for n in range(2, len(taken) + 3))] if c not in taken)
        row = await db.fetchrow(
            "INSERT INTO device_category (organisation, code, name, iso_code, expected_life_years, self_checks) "
            "VALUES ($1, $2, $3, $4, $5, $6::jsonb) RETURNING id, name, iso_code, expected_life_years, self_checks",
            actor.organisation, code, name, iso_code, expected_life_years, _dumps(self_checks))
        after = _category_fields({**dict(row), "self_checks": self_checks})
        await changes.record(actor.organisation, CATEGORY, row["id"], "created", actor=actor.id,
                             actor_name=actor.name, after=after)
    return row["id"]


def _dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False)


async def update_category(actor: Actor, category_id: int, *, name: str, iso_code: str,
                          expected_life_years: int | None, self_checks: list[str]) -> bool:
    """Save the category's fields; returns whether anything changed (only then is it recorded)."""
    iso_code, problems = _check_category(name, iso_code, expected_life_years, self_checks)
    async with db.transaction():
        old = await db.fetchrow(
            "SELECT id, name, iso_code, expected_life_years, self_checks FROM device_category "
            "WHERE organisation = $1 AND id = $2 FOR UPDATE", actor.organisation, category_id)
        if old is None:
            raise CategoryNotFound()
        if name and name.lower() != old["name"].lower() and await _name_taken(actor.organisation, name, category_id):
            problems.append(("name", "Det finns redan en kategori med det namnet."))
        refuse(problems)
        await db.execute(
            "UPDATE device_category SET name = $2, iso_code = $3, expected_life_years = $4, self_checks = $5::jsonb "
            "WHERE id = $1", category_id, name, iso_code, expected_life_years, _dumps(self_checks))
        before = _category_fields({**dict(old), "self_checks": _json(old["self_checks"])})
        after = {"name": name, "iso_code": iso_code, "expected_life_years": expected_life_years,
                 "self_checks": "; ".join(self_checks)}
        return await changes.record(actor.organisation, CATEGORY, category_id, "changed", actor=actor.id,
                                    actor_name=actor.name, before=before, after=after)


# --- articles -----------------------------------------------------------------------------------

_ARTICLE_COLUMNS = """
a.id, a.article_number, a.name, a.manufacturer, a.category, a.expected_life_years, a.active,
k.name AS category_name, k.iso_code, coalesce(a.expected_life_years, k.expected_life_years) AS life_years
"""


def _article_fields(row) -> dict:
    return {"article_number": row["article_number"], "name": row["name"], "manufacturer": row["manufacturer"],
            "category": row["category"], "expected_life_years": row["expected_life_years"]}


async def articles(organisation_id: int, *, query: str = "", category_id: int | None = None,
                   spare_parts: bool = False, page: int = 1) -> list[dict]:
    """One page of articles by name, matching `query` (article number, name or manufacturer), of
    one category (or only spare parts); each with its number of devices and `total` (all matches)."""
    rows = await db.fetch(
        f"""
        SELECT {_ARTICLE_COLUMNS}, (SELECT count(*) FROM device d WHERE d.article = a.id) AS devices,
               count(*) OVER () AS total
        FROM article a LEFT JOIN device_category k ON k.id = a.category
        WHERE a.organisation = $1
          AND ($2::text IS NULL OR a.article_number ILIKE $2 OR a.name ILIKE $2 OR a.manufacturer ILIKE $2)
          AND ($3::int IS NULL OR a.category = $3) AND (NOT $4 OR a.category IS NULL)
        ORDER BY a.name, a.article_number LIMIT $5 OFFSET $6
        """,
        organisation_id, like_pattern(query), category_id, spare_parts, PAGE_SIZE, (page - 1) * PAGE_SIZE,
    )
    return [dict(r) for r in rows]


async def article(organisation_id: int, article_id: int) -> dict:
    row = await db.fetchrow(
        f"SELECT {_ARTICLE_COLUMNS}, (SELECT count(*) FROM device d WHERE d.article = a.id) AS devices "
        "FROM article a LEFT JOIN device_category k ON k.id = a.category WHERE a.organisation = $1 AND a.id = $2",
        organisation_id, article_id)
    if row is None:
        raise ArticleNotFound()
    return dict(row)


async def active_articles(organisation_id: int) -> list[dict]:
    """The articles offered for new devices (active, with a category): id, article_number, name,
    manufacturer, category, category_name and life_years (the article's lifetime or its category's)."""
    rows = await db.fetch(
        f"SELECT {_ARTICLE_COLUMNS} FROM article a JOIN device_category k ON k.id = a.category "
        "WHERE a.organisation = $1 AND a.active ORDER BY k.name, a.name, a.article_number", organisation_id)
    return [dict(r) for r in rows]


async def _check_article(organisation_id: int, article_id: int | None, article_number: str, name: str,
                         manufacturer: str, category_id: int | None, expected_life_years: int | None) -> list:
    problems: list = []
    _check_text(article_number, "article_number", NUMBER_LENGTH, problems, missing="Skriv artikelnumret.")
    _check_text(name, "name", ARTICLE_NAME_LENGTH, problems, missing="Skriv artikelns benämning.")
    _check_text(manufacturer, "manufacturer", MANUFACTURER_LENGTH, problems)
    _check_life_years(expected_life_years, problems, required=False)
    found = await db.fetchrow(
        "SELECT EXISTS (SELECT 1 FROM device_category WHERE organisation = $1 AND id = $2) AS category, "
        "EXISTS (SELECT 1 FROM article WHERE organisation = $1 AND article_number = $3 "
        "        AND id IS DISTINCT FROM $4) AS number_taken",
        organisation_id, category_id, article_number, article_id)
    if category_id is not None and not found["category"]:
        problems.append(("category", "Välj en kategori i listan."))
    if article_number and found["number_taken"]:
        problems.append(("article_number", "Artikelnumret finns redan."))
    return problems


async def create_article(actor: Actor, *, article_number: str, name: str, manufacturer: str,
                         category_id: int | None, expected_life_years: int | None) -> int:
    """A new article (a spare part when it has no category), active."""
    async with db.transaction():
        refuse(await _check_article(actor.organisation, None, article_number, name, manufacturer, category_id,
                                    expected_life_years))
        try:
            async with db.savepoint():
                article_id = await db.fetchval(
                    "INSERT INTO article (organisation, article_number, name, manufacturer, category, "
                    "expected_life_years) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                    actor.organisation, article_number, name, manufacturer, category_id, expected_life_years)
        except asyncpg.UniqueViolationError:  # the same number saved a moment ago by someone else
            raise CatalogueError("Artikelnumret finns redan.", "article_number") from None
        await changes.record(actor.organisation, ARTICLE, article_id, "created", actor=actor.id, actor_name=actor.name,
                             after={"article_number": article_number, "name": name, "manufacturer": manufacturer,
                                    "category": category_id, "expected_life_years": expected_life_years,
                                    "active": True})
    return article_id


async def update_article(actor: Actor, article_id: int, *, article_number: str, name: str, manufacturer: str,
                         category_id: int | None, expected_life_years: int | None) -> bool:
    """Save the article's fields; an article with devices keeps a category (its devices are no
    spare parts). Returns whether anything changed."""
    async with db.transaction():
        old = await db.fetchrow(
            "SELECT id, article_number, name, manufacturer, category, expected_life_years, "
            "EXISTS (SELECT 1 FROM device d WHERE d.article = article.id) AS has_devices "
            "FROM article WHERE organisation = $1 AND id = $2 FOR UPDATE", actor.organisation, article_id)
        if old is None:
            raise ArticleNotFound()
        problems = await _check_article(actor.organisation, article_id, article_number, name, manufacturer,
                                        category_id, expected_life_years)
        if category_id is None and old["has_devices"]:
            problems.append(("category", "Artikeln har hjälpmedel och måste ha en kategori."))
        refuse(problems)
        try:
            async with db.savepoint():
                await db.execute(
                    "UPDATE article SET article_number = $2, name = $3, manufacturer = $4, category = $5, "
                    "expected_life_years = $6 WHERE id = $1",
                    article_id, article_number, name, manufacturer, category_id, expected_life_years)
        except asyncpg.UniqueViolationError:
            raise CatalogueError("Artikelnumret finns redan.", "article_number") from None
        after = {"article_number": article_number, "name": name, "manufacturer": manufacturer,
                 "category": category_id, "expected_life_years": expected_life_years}
        return await changes.record(actor.organisation, ARTICLE, article_id, "changed", actor=actor.id,
                                    actor_name=actor.name, before=_article_fields(old), after=after)


async def set_article_active(actor: Actor, article_id: int, active: bool) -> bool:
    """Deactivate (no longer offered for new devices; its devices and history stay) or reactivate.
    Returns whether it changed."""
    async with db.transaction():
        was = await db.fetchval("SELECT active FROM article WHERE organisation = $1 AND id = $2 FOR UPDATE",
                                actor.organisation, article_id)
        if was is None:
            raise ArticleNotFound()
        if was == active:
            return False
        await db.execute("UPDATE article SET active = $2 WHERE id = $1", article_id, active)
        await changes.record(actor.organisation, ARTICLE, article_id, "reactivated" if active else "deactivated",
                             actor=actor.id, actor_name=actor.name, before={"active": was}, after={"active": active})
    return True


async def delete_article(actor: Actor, article_id: int) -> None:
    """Delete an article nothing points at (with its own FU schedules). One with devices, or used
    as a spare part on a work order, is refused: deactivate it instead."""
    async with db.transaction():
        old = await db.fetchrow(
            "SELECT id, article_number, name, manufacturer, category, expected_life_years, "
            "EXISTS (SELECT 1 FROM device d WHERE d.article = article.id) AS has_devices "
            "FROM article WHERE organisation = $1 AND id = $2 FOR UPDATE", actor.organisation, article_id)
        if old is None:
            raise ArticleNotFound()
        if old["has_devices"]:
            raise CatalogueError("Artikeln har hjälpmedel och kan inte tas bort. Inaktivera den i stället.")
        try:
            async with db.savepoint():
                await db.execute("DELETE FROM fu_schedule WHERE article = $1", article_id)
                await db.execute("DELETE FROM article WHERE id = $1", article_id)
        except asyncpg.ForeignKeyViolationError:  # e.g. used as a spare part on a work order
            raise CatalogueError("Artikeln används i arbetsordrars historik och kan inte tas bort. "
                                 "Inaktivera den i stället.") from None
        await changes.record(actor.organisation, ARTICLE, article_id, "deleted", actor=actor.id,
                             actor_name=actor.name, before=_article_fields(old))
