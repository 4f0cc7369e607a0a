"""Route-access rows of the JSON API and its tokens' admin pages.

The table's clients are browsers with session cookies and no API token, so every API route
answers 401 for every role, signed in or not: a session never authenticates an API call (a post
with the session's CSRF token neither). The schema is public. The token pages are the admin's;
revoking points at no token (404), so the world's token stays as it is."""

from __future__ import annotations

from backend import db
from backend.accounts.service import Actor
from backend.accounts.tables import Role
from backend.integrations import service

ROLES = ("anonymous", "technician", "consultant", "prescriber", "coordinator", "admin")
NO_TOKEN = dict.fromkeys(ROLES, 401)
API = "/api/v1"
ADMIN = "/admin/api-nycklar"


def admin_page() -> dict:
    return dict(anonymous=303, technician=403, consultant=403, prescriber=403, coordinator=403, admin=200)


def admin_post(admin: int) -> dict:
    return dict(anonymous=401, technician=403, consultant=403, prescriber=403, coordinator=403, admin=admin)


ROWS = {
    ("GET", f"{API}/devices"): (f"{API}/devices?search=R0&page=1", NO_TOKEN),
    ("GET", f"{API}/devices/{{individnummer:str}}"): (f"{API}/devices/{{device}}", NO_TOKEN),
    ("GET", f"{API}/devices/{{individnummer:str}}/fu-status"): (f"{API}/devices/{{device}}/fu-status", NO_TOKEN),
    ("GET", f"{API}/articles"): (f"{API}/articles", NO_TOKEN),
    ("GET", f"{API}/work-orders"): (f"{API}/work-orders?status=planned", NO_TOKEN),
    ("POST", f"{API}/work-orders"): (f"{API}/work-orders", NO_TOKEN),
    ("GET", f"{API}/work-orders/{{number:str}}"): (f"{API}/work-orders/{{order_number}}", NO_TOKEN),
    ("GET", f"{API}/fault-reports"): (f"{API}/fault-reports", NO_TOKEN),
    # The schema describes the calls, never data: public.
    ("GET", f"{API}/schema"): (f"{API}/schema", dict.fromkeys(ROLES, 200)),
    ("GET", f"{API}/schema/openapi.json"): (f"{API}/schema/openapi.json", dict.fromkeys(ROLES, 200)),
    ("GET", f"{API}/schema/{{path:str}}"): (f"{API}/schema/nothing.json", dict.fromkeys(ROLES, 404)),
    ("GET", ADMIN): (ADMIN, admin_page()),
    ("POST", ADMIN): (ADMIN, admin_post(400)),
    ("GET", f"{ADMIN}/dokumentation"): (f"{ADMIN}/dokumentation", admin_page()),
    ("GET", f"{ADMIN}/{{token_id:int}}"): (f"{ADMIN}/{{api_token}}", admin_page()),
    ("POST", f"{ADMIN}/{{token_id:int}}/aterkalla"): (f"{ADMIN}/0/aterkalla", admin_post(404)),
}


async def add_paths(world) -> None:
    admin = Actor(id=world.staff["admin"], organisation=world.organisation, name="Test admin", role=Role.admin,
                  care_unit=None)
    token_id, _ = await service.create_token(admin, name="webSesam", scope="write")
    # An order's number for the one-order route (any will do: a browser without a token gets 401).
    number = await db.fetchval("SELECT number FROM work_order WHERE organisation = $1 ORDER BY id LIMIT 1",
                               world.organisation)
    world.paths.update(api_token=str(token_id), order_number=number or "AO-2026-000001")
