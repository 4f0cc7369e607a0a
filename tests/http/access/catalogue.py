"""Route-access rows of the catalogue registers: categories (/admin/kategorier), articles
(/admin/artiklar) and FU schedules on them and on one device (/admin/hjalpmedel/{individnummer}/fu),
for coordinators and admins. A category of its own with a published checklist and a schedule; the
world's article and device get a schedule each. Posts send empty forms: refused (400: a name is missing; the
world's article has devices, so deleting it is refused) or aimed at no schedule or article (404)."""

from __future__ import annotations

from backend import db
from backend.maintenance import service as maintenance

PAGE = dict(anonymous=303, technician=403, consultant=403, prescriber=403, coordinator=200, admin=200)
REFUSED = dict(anonymous=401, technician=403, consultant=403, prescriber=403, coordinator=400, admin=400)
NOT_FOUND = dict(anonymous=401, technician=403, consultant=403, prescriber=403, coordinator=404, admin=404)


def _schedule_rows(template: str, concrete: str, schedule: str) -> dict:
    """The rows of the schedules on one owner: add, a schedule's page and its edit, (de)activation."""
    return {
        ("POST", f"{template}/fu"): (f"{concrete}/fu", REFUSED),
        ("GET", f"{template}/fu/{{schedule_id:int}}"): (f"{concrete}/fu/{{{schedule}}}", PAGE),
        ("POST", f"{template}/fu/{{schedule_id:int}}"): (f"{concrete}/fu/{{{schedule}}}", REFUSED),
        **{("POST", f"{template}/fu/{{schedule_id:int}}/{action}"): (f"{concrete}/fu/0/{action}", NOT_FOUND)
           for action in ("inaktivera", "aktivera")},
    }


ROWS = {
    ("GET", "/admin/kategorier"): ("/admin/kategorier?q=elr&sida=1", PAGE),
    ("GET", "/admin/kategorier/ny"): ("/admin/kategorier/ny", PAGE),
    ("POST", "/admin/kategorier/ny"): ("/admin/kategorier/ny", REFUSED),
    ("GET", "/admin/kategorier/{category_id:int}"): ("/admin/kategorier/{category}", PAGE),
    ("POST", "/admin/kategorier/{category_id:int}"): ("/admin/kategorier/{category}", REFUSED),
    **_schedule_rows("/admin/kategorier/{category_id:int}", "/admin/kategorier/{category}", "category_schedule"),
    ("GET", "/admin/artiklar"): ("/admin/artiklar?q=perm&kategori={category}&sida=1", PAGE),
    ("GET", "/admin/artiklar/ny"): ("/admin/artiklar/ny", PAGE),
    ("POST", "/admin/artiklar/ny"): ("/admin/artiklar/ny", REFUSED),
    ("GET", "/admin/artiklar/{article_id:int}"): ("/admin/artiklar/{article}", PAGE),
    ("POST", "/admin/artiklar/{article_id:int}"): ("/admin/artiklar/{article}", REFUSED),
    ("POST", "/admin/artiklar/{article_id:int}/ta-bort"): ("/admin/artiklar/{article}/ta-bort", REFUSED),
    **{("POST", f"/admin/artiklar/{{article_id:int}}/{action}"): (f"/admin/artiklar/0/{action}", NOT_FOUND)
       for action in ("inaktivera", "aktivera")},
    **_schedule_rows("/admin/artiklar/{article_id:int}", "/admin/artiklar/{article}", "article_schedule"),
    ("GET", "/admin/hjalpmedel/{individnummer:str}/fu"): ("/admin/hjalpmedel/{device}/fu", PAGE),
    **_schedule_rows("/admin/hjalpmedel/{individnummer:str}", "/admin/hjalpmedel/{device}", "device_schedule"),
}


async def add_paths(world) -> None:
    # A category of its own with a published "fu" list (the world's category has none, which the
    # visit's rows count on), and its default schedule.
    category = await db.fetchval(
        "INSERT INTO device_category (organisation, code, name, iso_code, expected_life_years) "
        "VALUES ($1, 'mobile_lift', 'Mobil lyft', '12 36 03', 8) RETURNING id", world.organisation)
    await maintenance.publish_checklist(category, [
        {"key": "brakes", "text": "Hjul och bromsar fungerar", "safety_critical": True, "measurement": None}])
    device = await db.fetchval("SELECT id FROM device WHERE organisation = $1 AND individnummer = $2",
                               world.organisation, world.paths["device"])
    schedule = ("INSERT INTO fu_schedule (organisation, {owner}, name, interval_days, checklist_code) "
                "VALUES ($1, $2, $3, $4, 'fu') RETURNING id")
    world.paths.update(
        category=str(category), article=str(world.article),
        category_schedule=str(await db.fetchval(schedule.format(owner="category"), world.organisation, category,
                                                "Förebyggande underhåll", 365)),
        article_schedule=str(await db.fetchval(schedule.format(owner="article"), world.organisation, world.article,
                                               "Halvårskontroll", 182)),
        device_schedule=str(await db.fetchval(schedule.format(owner="device"), world.organisation, device,
                                              "Egen kontroll", 90)))
