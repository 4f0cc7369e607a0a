"""Route-access rows of the checklists register (/admin/checklistor): coordinators and admins.
The world gets a category of its own with a published list (version 1) and its open draft
(version 2, item "frame"). Posts send empty forms: a draft change without the revision the
editor saw is refused (400), as is a second draft; nothing is written."""

from __future__ import annotations

from backend import db
from backend.accounts.service import Actor
from backend.accounts.tables import Role
from backend.maintenance import service as maintenance

PAGE = dict(anonymous=303, technician=403, consultant=403, prescriber=403, coordinator=200, admin=200)
REFUSED = dict(anonymous=401, technician=403, consultant=403, prescriber=403, coordinator=400, admin=400)
BASE = "/admin/checklistor"
DRAFT = f"{BASE}/{{checklist_draft}}"

ROWS = {
    ("GET", BASE): (f"{BASE}?q=lyft&sida=1", PAGE),
    ("POST", BASE): (BASE, REFUSED),
    ("GET", f"{BASE}/{{template_id:int}}"): (DRAFT, PAGE),
    ("GET", f"{BASE}/{{template_id:int}}/forhandsvisning"): (f"{DRAFT}/forhandsvisning", PAGE),
    **{("POST", f"{BASE}/{{template_id:int}}/{action}"): (f"{DRAFT}/{action}", REFUSED)
       for action in ("namn", "punkter", "publicera", "ta-bort")},
    ("POST", f"{BASE}/{{template_id:int}}/punkter/{{key:str}}"): (f"{DRAFT}/punkter/frame", REFUSED),
    **{("POST", f"{BASE}/{{template_id:int}}/punkter/{{key:str}}/{action}"): (f"{DRAFT}/punkter/frame/{action}", REFUSED)
       for action in ("flytta", "ta-bort")},
    # The list already has a draft: a second one is refused.
    ("POST", f"{BASE}/{{template_id:int}}/nytt-utkast"): (f"{BASE}/{{checklist_published}}/nytt-utkast", REFUSED),
}


async def add_paths(world) -> None:
    category = await db.fetchval(
        "INSERT INTO device_category (organisation, code, name, iso_code, expected_life_years) "
        "VALUES ($1, 'ceiling_lift', 'Taklyft', '12 36 12', 10) RETURNING id", world.organisation)
    published = await maintenance.publish_checklist(category, [
        {"key": "frame", "text": "Skenans infästningar", "safety_critical": True, "measurement": None}])
    admin = Actor(id=world.staff["admin"], organisation=world.organisation, name="Test admin", role=Role.admin,
                  care_unit=None)
    world.paths["checklist_published"] = str(published.id)
    world.paths["checklist_draft"] = str(await maintenance.start_draft(admin, published.id))
