"""Route-access rows of the staff register (admins only; coordinators keep the invitations page).
The person's page is a person of the world's organisation made for it; posts get an empty form:
refused with a message (400), or pointing at no person (404), so no one is deactivated or
given a link."""

from __future__ import annotations

from tests.support.factories import add_staff

BASE = "/admin/personal"


def admin_page() -> dict:
    return dict(anonymous=303, technician=403, consultant=403, prescriber=403, coordinator=403, admin=200)


def admin_post(admin: int) -> dict:
    return dict(anonymous=401, technician=403, consultant=403, prescriber=403, coordinator=403, admin=admin)


ROWS = {
    ("GET", BASE): (f"{BASE}?sok=Test&roll=technician&status=all&sida=1", admin_page()),
    ("GET", f"{BASE}/{{staff_id:int}}"): (f"{BASE}/{{register_person}}", admin_page()),
    ("POST", f"{BASE}/{{staff_id:int}}"): (f"{BASE}/{{register_person}}", admin_post(400)),
    **{("POST", f"{BASE}/{{staff_id:int}}/{action}"): (f"{BASE}/0/{action}", admin_post(404))
       for action in ("inaktivera", "aktivera", "ny-passkey")},
}


async def add_paths(world) -> None:
    world.paths["register_person"] = str(await add_staff(world, "technician", name="Rita Register"))
