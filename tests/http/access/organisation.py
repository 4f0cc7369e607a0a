"""Route-access rows of the organisation register (admin only): the HMC's name and phone, the
work-order clocks, opening hours and calendar, care units and cost bearers. Posts get an empty
form: refused with a message (400), or pointing at no row (404); nothing is written."""

from __future__ import annotations

def admin_page() -> dict:
    return dict(anonymous=303, technician=403, consultant=403, prescriber=403, coordinator=403, admin=200)


def admin_post(admin: int) -> dict:
    return dict(anonymous=401, technician=403, consultant=403, prescriber=403, coordinator=403, admin=admin)


BASE = "/admin/organisation"


def list_rows(register: str, param: str, placeholder: str) -> dict:
    """A register list with its search, a new row's form, one row's page, and its actions."""
    rows = {
        ("GET", f"{BASE}/{register}"): (f"{BASE}/{register}?sok=a&status=all&sida=1", admin_page()),
        ("POST", f"{BASE}/{register}"): (f"{BASE}/{register}", admin_post(400)),
        ("GET", f"{BASE}/{register}/ny"): (f"{BASE}/{register}/ny", admin_page()),
        ("GET", f"{BASE}/{register}/{{{param}:int}}"): (f"{BASE}/{register}/{{{placeholder}}}", admin_page()),
        ("POST", f"{BASE}/{register}/{{{param}:int}}"): (f"{BASE}/{register}/{{{placeholder}}}", admin_post(400)),
    }
    # The world's rows stay as they are: the actions point at no row.
    for action in ("inaktivera", "aktivera", "ta-bort"):
        rows[("POST", f"{BASE}/{register}/{{{param}:int}}/{action}")] = (f"{BASE}/{register}/0/{action}",
                                                                         admin_post(404))
    return rows


ROWS = {
    ("GET", BASE): (BASE, admin_page()),
    ("POST", BASE): (BASE, admin_post(400)),
    ("GET", f"{BASE}/tidsgranser"): (f"{BASE}/tidsgranser", admin_page()),
    ("POST", f"{BASE}/tidsgranser"): (f"{BASE}/tidsgranser", admin_post(400)),
    ("GET", f"{BASE}/arbetstider"): (f"{BASE}/arbetstider", admin_page()),
    ("POST", f"{BASE}/arbetstider"): (f"{BASE}/arbetstider", admin_post(400)),
    ("POST", f"{BASE}/arbetstider/dagar"): (f"{BASE}/arbetstider/dagar", admin_post(400)),
    ("POST", f"{BASE}/arbetstider/dagar/{{day_id:int}}/ta-bort"): (f"{BASE}/arbetstider/dagar/0/ta-bort", admin_post(404)),
    **list_rows("vardenheter", "unit_id", "care_unit"),
    **list_rows("kostnadsbarare", "bearer_id", "cost_bearer"),
}


async def add_paths(world) -> None:
    world.paths["care_unit"] = str(world.care_unit)
    world.paths["cost_bearer"] = str(world.cost_bearer)
