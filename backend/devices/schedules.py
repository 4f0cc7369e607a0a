"""FU schedules: how often a device gets preventive maintenance (FU) and with which checklist.

A category or an article holds default schedules for its devices; a device may have schedules of
its own (a yearly service and a half-yearly sling check) and may override an inherited schedule's
interval. For one checklist the most specific level applies: the device's own schedule over its
article's, the article's over its category's. `effective_schedules` says what applies to a device,
and other domains place `effective_schedules_sql` in their queries (FU production builds on it);
device_row's `fu_interval_days` is the interval of the "fu" checklist's schedule.

A schedule's checklist is one of its category's published checklists (maintenance owns them): the
caller asks maintenance for the codes and passes them in, as maintenance sits above this domain.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass

from backend import db
from backend.accounts.service import Actor
from backend.changes import service as changes
from backend.db import Sql, raw
from backend.devices.catalogue import refuse

REGISTER = "fu_schedule"
FU_CHECKLIST = "fu"  # the yearly service's checklist, whose interval device_row gives
INTERVAL_DAYS = (1, 3650)
NAME_LENGTH = 100
LEVEL_LABELS = {"device": "Hjälpmedlets eget", "article": "Artikelns", "category": "Kategorins"}


class ScheduleNotFound(Exception):
    pass


class OwnerNotFound(Exception):
    pass


@dataclass(frozen=True)
class Owner:
    """What a schedule is set on: a category, an article or one device."""

    kind: str  # "category", "article", "device"
    id: int
    organisation: int
    category_id: int | None  # whose checklists the schedules use; None: a spare part
    article_id: int | None  # a device's article
    label: str


# --- what applies to a device ----------------------------------------------------------------

# Aliases of their own (fu_…), so that the caller's in the expressions placed here are not hidden.
_EFFECTIVE_SQL = """
SELECT fu_x.schedule_id, fu_x.level, fu_x.name, fu_x.interval_days, fu_x.inherited_interval_days,
       fu_x.checklist_code, fu_x.before_new_user, fu_x.override_id
FROM (
    SELECT fu_s.id AS schedule_id, fu_s.level, fu_s.name,
           coalesce(fu_o.interval_days, fu_s.interval_days) AS interval_days,
           fu_s.interval_days AS inherited_interval_days, fu_s.checklist_code, fu_s.before_new_user,
           fu_o.id AS override_id, fu_s.rank, max(fu_s.rank) OVER (PARTITION BY fu_s.checklist_code) AS top
    FROM (
        SELECT fu_f.id, fu_f.name, fu_f.interval_days, fu_f.checklist_code, fu_f.before_new_user,
               'device' AS level, 3 AS rank
        FROM fu_schedule fu_f WHERE fu_f.device = :device AND fu_f.overrides IS NULL AND fu_f.active
        UNION ALL
        SELECT fu_f.id, fu_f.name, fu_f.interval_days, fu_f.checklist_code, fu_f.before_new_user, 'article', 2
        FROM fu_schedule fu_f WHERE fu_f.article = :article AND fu_f.active
        UNION ALL
        SELECT fu_f.id, fu_f.name, fu_f.interval_days, fu_f.checklist_code, fu_f.before_new_user, 'category', 1
        FROM fu_schedule fu_f WHERE fu_f.category = :category AND fu_f.active
    ) fu_s
    LEFT JOIN fu_schedule fu_o
        ON fu_o.device = :device AND fu_o.overrides = fu_s.id AND fu_o.active AND fu_s.level <> 'device'
) fu_x
WHERE fu_x.rank = fu_x.top
"""


def _effective(device: Sql, article: Sql, category: Sql) -> Sql:
    return Sql(_EFFECTIVE_SQL, device=device, article=article, category=category)


def effective_schedules_sql(device: Sql) -> Sql:
    """The schedules that apply to the device `device` (an id expression of the caller's query), as
    a row source: `JOIN LATERAL (:schedules) s ON true`. Its own, its article's and its category's
    active schedules; for one checklist the most specific level's; an inherited one with the
    device's override's interval. Columns: schedule_id, level ("device", "article", "category"),
    name, interval_days (the one that applies), inherited_interval_days, checklist_code,
    before_new_user, override_id (None: not overridden)."""
    return Sql("SELECT fu_e.* FROM device fu_d JOIN article fu_a ON fu_a.id = fu_d.article "
               "CROSS JOIN LATERAL (:effective) fu_e WHERE fu_d.id = :device",
               effective=_effective(raw("fu_d.id"), raw("fu_d.article"), raw("fu_a.category")), device=device)


def fu_interval_sql(device: Sql, article: Sql, category: Sql) -> Sql:
    """The interval in days of the device's "fu" checklist schedule, NULL when it has none (a scalar
    subquery over the device's id, article and category expressions)."""
    return Sql(f"(SELECT min(fu_e.interval_days) FROM (:effective) fu_e WHERE fu_e.checklist_code = '{FU_CHECKLIST}')",
               effective=_effective(device, article, category))


def checklist_code_sql(schedule: Sql) -> Sql:
    """The checklist code of the schedule `schedule` (an id expression; NULL gives the yearly
    service's, "fu"), as a scalar subquery: which checklist an FU order made by it answers."""
    return Sql(f"coalesce((SELECT fu_c.checklist_code FROM fu_schedule fu_c WHERE fu_c.id = :schedule), "
               f"'{FU_CHECKLIST}')", schedule=schedule)


async def effective_schedules(device_id: int) -> list[dict]:
    """What applies to the device (see `effective_schedules_sql`), by checklist, with level labels."""
    rows = await db.fetch(Sql("SELECT * FROM (:schedules) s ORDER BY s.checklist_code, s.interval_days, s.name",
                              schedules=effective_schedules_sql(Sql(":id", id=device_id))))
    return [{**dict(r), "level_label": LEVEL_LABELS[r["level"]]} for r in rows]


def effective_schedules_json(device: Sql) -> Sql:
    """The device's effective schedules as a JSON array (a scalar subquery), for a page's one query."""
    return Sql("(SELECT coalesce(json_agg(fu_j ORDER BY fu_j.checklist_code, fu_j.interval_days, fu_j.name), '[]') "
               "FROM (:schedules) fu_j)", schedules=effective_schedules_sql(device))


# --- owners ----------------------------------------------------------------------------------

async def category_owner(organisation_id: int, category_id: int) -> Owner:
    row = await db.fetchrow("SELECT id, name FROM device_category WHERE organisation = $1 AND id = $2",
                            organisation_id, category_id)
    if row is None:
        raise OwnerNotFound()
    return Owner("category", row["id"], organisation_id, row["id"], None, row["name"])


async def article_owner(organisation_id: int, article_id: int) -> Owner:
    row = await db.fetchrow("SELECT id, name, category FROM article WHERE organisation = $1 AND id = $2",
                            organisation_id, article_id)
    if row is None:
        raise OwnerNotFound()
    return Owner("article", row["id"], organisation_id, row["category"], None, row["name"])


async def device_owner(organisation_id: int, individnummer: str) -> Owner:
    """The device with this (normalised) individnummer."""
    row = await db.fetchrow(
        "SELECT d.id, d.individnummer, d.article, a.category FROM device d JOIN article a ON a.id = d.article "
        "WHERE d.organisation = $1 AND d.individnummer = $2", organisation_id, individnummer)
    if row is None:
        raise OwnerNotFound()
    return Owner("device", row["id"], organisation_id, row["category"], row["article"], row["individnummer"])


# --- reading ---------------------------------------------------------------------------------

_COLUMNS = ("s.id, s.category, s.article, s.device, s.overrides, s.name, s.interval_days, s.checklist_code, "
            "s.before_new_user, s.active, s.created_at")


def _with_labels(row) -> dict:
    schedule = dict(row)
    schedule["level"] = "device" if row["device"] else "article" if row["article"] else "category"
    schedule["level_label"] = LEVEL_LABELS[schedule["level"]]
    return schedule


async def schedules_of(owner: Owner) -> list[dict]:
    """The category's or article's own schedules, active ones first."""
    rows = await db.fetch(f"SELECT {_COLUMNS} FROM fu_schedule s WHERE s.organisation = $1 AND s.{owner.kind} = $2 "
                          "ORDER BY NOT s.active, s.checklist_code, s.interval_days, s.name",
                          owner.organisation, owner.id)
    return [_with_labels(r) for r in rows]


async def schedule(owner: Owner, schedule_id: int) -> dict:
    """One schedule of the owner (a device's override: with the inherited schedule's name and interval)."""
    row = await db.fetchrow(
        f"SELECT {_COLUMNS}, i.name AS inherited_name, i.interval_days AS inherited_interval_days "
        f"FROM fu_schedule s LEFT JOIN fu_schedule i ON i.id = s.overrides "
        f"WHERE s.organisation = $1 AND s.{owner.kind} = $2 AND s.id = $3",
        owner.organisation, owner.id, schedule_id)
    if row is None:
        raise ScheduleNotFound()
    return _with_labels(row)


async def device_schedules(owner: Owner) -> dict:
    """The device's FU page: what applies (`effective`), the inherited schedules (each with the
    device's override, if any, and whether it applies) and the device's own schedules."""
    rows = await db.fetch(
        Sql(f"""
            SELECT {_COLUMNS}, (:effective) AS effective FROM fu_schedule s
            WHERE s.device = :device OR (s.article = :article AND s.active) OR (s.category = :category AND s.active)
            ORDER BY NOT s.active, s.checklist_code, s.interval_days, s.name
            """,
            effective=effective_schedules_json(Sql(":id", id=owner.id)), device=owner.id, article=owner.article_id,
            category=owner.category_id))
    effective = [{**e, "level_label": LEVEL_LABELS[e["level"]]} for e in _json(rows[0]["effective"])] if rows else []
    applies = {e["schedule_id"] for e in effective}
    overrides = {r["overrides"]: _with_labels(r) for r in rows if r["overrides"] is not None}
    inherited = [{**_with_labels(r), "applies": r["id"] in applies, "override": overrides.get(r["id"])}
                 for r in rows if r["device"] is None]
    own = [_with_labels(r) for r in rows if r["device"] is not None and r["overrides"] is None]
    return {"effective": effective, "inherited": inherited, "own": own}


def _json(value):
    return json.loads(value) if isinstance(value, str) else value


# --- changing --------------------------------------------------------------------------------

def _fields(row) -> dict:
    return {"name": row["name"], "interval_days": row["interval_days"], "checklist_code": row["checklist_code"],
            "before_new_user": row["before_new_user"]}


def _check(owner: Owner, name: str, interval_days: int | None, checklist_code: str,
           checklist_codes: Collection[str], keep_code: str | None = None) -> list:
    problems: list = []
    if owner.category_id is None:
        problems.append((None, "En reservdel (en artikel utan kategori) har inga FU-scheman."))
    if not name:
        problems.append(("schedule_name", "Skriv schemats namn, till exempel Förebyggande underhåll."))
    elif len(name) > NAME_LENGTH:
        problems.append(("schedule_name", f"Högst {NAME_LENGTH} tecken."))
    _check_interval(interval_days, problems)
    if owner.category_id is not None and checklist_code != keep_code and checklist_code not in checklist_codes:
        problems.append(("checklist_code", "Välj en av kategorins checklistor." if checklist_codes else
                         "Kategorin har ingen publicerad checklista än. Publicera en under Checklistor först."))
    return problems


def _check_interval(interval_days: int | None, problems: list, field: str = "interval_days") -> None:
    if interval_days is None:
        problems.append((field, "Skriv intervallet i dagar."))
    elif not INTERVAL_DAYS[0] <= interval_days <= INTERVAL_DAYS[1]:
        problems.append((field, f"Intervallet är {INTERVAL_DAYS[0]}–{INTERVAL_DAYS[1]} dagar."))


async def add_schedule(actor: Actor, owner: Owner, *, name: str, interval_days: int | None, checklist_code: str,
                       before_new_user: bool, checklist_codes: Collection[str]) -> int:
    """A new active schedule on the owner. `checklist_codes`: the owner's category's published
    checklists (maintenance.checklist_choices), one of which the schedule must use."""
    refuse(_check(owner, name, interval_days, checklist_code, checklist_codes))
    async with db.transaction():
        schedule_id = await db.fetchval(
            f"INSERT INTO fu_schedule (organisation, {owner.kind}, name, interval_days, checklist_code, "
            "before_new_user) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            owner.organisation, owner.id, name, interval_days, checklist_code, before_new_user)
        await changes.record(owner.organisation, REGISTER, schedule_id, "created", actor=actor.id,
                             actor_name=actor.name,
                             after={"name": name, "interval_days": interval_days, "checklist_code": checklist_code,
                                    "before_new_user": before_new_user, "active": True})
    return schedule_id


async def update_schedule(actor: Actor, owner: Owner, schedule_id: int, *, name: str, interval_days: int | None,
                          checklist_code: str, before_new_user: bool, checklist_codes: Collection[str]) -> bool:
    """Save a schedule's fields (an override: only its interval; the rest is the inherited one's).
    A checklist no longer published may be kept. Returns whether anything changed."""
    async with db.transaction():
        old = await db.fetchrow(
            f"SELECT s.* FROM fu_schedule s WHERE s.organisation = $1 AND s.{owner.kind} = $2 AND s.id = $3 FOR UPDATE",
            owner.organisation, owner.id, schedule_id)
        if old is None:
            raise ScheduleNotFound()
        if old["overrides"] is not None:
            name, checklist_code, before_new_user = old["name"], old["checklist_code"], old["before_new_user"]
        refuse(_check(owner, name, interval_days, checklist_code, checklist_codes, keep_code=old["checklist_code"]))
        await db.execute("UPDATE fu_schedule SET name = $2, interval_days = $3, checklist_code = $4, "
                         "before_new_user = $5 WHERE id = $1",
                         schedule_id, name, interval_days, checklist_code, before_new_user)
        return await changes.record(owner.organisation, REGISTER, schedule_id, "changed", actor=actor.id,
                                    actor_name=actor.name, before=_fields(old),
                                    after={"name": name, "interval_days": interval_days,
                                           "checklist_code": checklist_code, "before_new_user": before_new_user})


async def set_schedule_active(actor: Actor, owner: Owner, schedule_id: int, active: bool) -> bool:
    """Deactivate a schedule (its devices no longer get FU by it; a deactivated override gives the
    inherited interval back) or activate it again. Returns whether it changed."""
    async with db.transaction():
        was = await db.fetchval(
            f"SELECT active FROM fu_schedule WHERE organisation = $1 AND {owner.kind} = $2 AND id = $3 FOR UPDATE",
            owner.organisation, owner.id, schedule_id)
        if was is None:
            raise ScheduleNotFound()
        if was == active:
            return False
        await db.execute("UPDATE fu_schedule SET active = $2 WHERE id = $1", schedule_id, active)
        await changes.record(owner.organisation, REGISTER, schedule_id, "reactivated" if active else "deactivated",
                             actor=actor.id, actor_name=actor.name, before={"active": was}, after={"active": active})
    return True


async def override_interval(actor: Actor, owner: Owner, inherited_id: int | None, interval_days: int | None) -> int:
    """Give the device its own interval for an inherited (article's or category's) schedule: the
    device's override, created or changed (and active again). Returns the override's id."""
    problems: list = []
    _check_interval(interval_days, problems, "override_interval")
    async with db.transaction():
        inherited = await db.fetchrow(
            "SELECT s.id, s.name, s.checklist_code, s.before_new_user FROM fu_schedule s "
            "WHERE s.organisation = $1 AND s.id = $2 AND s.device IS NULL AND (s.article = $3 OR s.category = $4)",
            owner.organisation, inherited_id, owner.article_id, owner.category_id) if inherited_id else None
        if owner.kind != "device" or inherited is None:
            problems.insert(0, (None, "Välj ett av de ärvda schemana."))
        refuse(problems)
        existing = await db.fetchrow("SELECT * FROM fu_schedule WHERE device = $1 AND overrides = $2 FOR UPDATE",
                                     owner.id, inherited["id"])
        if existing is None:
            override_id = await db.fetchval(
                "INSERT INTO fu_schedule (organisation, device, overrides, name, interval_days, checklist_code, "
                "before_new_user) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
                owner.organisation, owner.id, inherited["id"], inherited["name"], interval_days,
                inherited["checklist_code"], inherited["before_new_user"])
            await changes.record(owner.organisation, REGISTER, override_id, "created", actor=actor.id,
                                 actor_name=actor.name, after={"overrides": inherited["name"],
                                                               "interval_days": interval_days, "active": True})
            return override_id
        await db.execute("UPDATE fu_schedule SET interval_days = $2, active = true WHERE id = $1",
                         existing["id"], interval_days)
        await changes.record(owner.organisation, REGISTER, existing["id"],
                             "changed" if existing["active"] else "reactivated", actor=actor.id, actor_name=actor.name,
                             before={"interval_days": existing["interval_days"], "active": existing["active"]},
                             after={"interval_days": interval_days, "active": True})
        return existing["id"]
