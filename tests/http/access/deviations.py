"""Route-access rows of deviations: the technician's from a visit (/besok/<order>/avvikelse), the
coordinator's and admin's pages (/avvikelser). The world gets a deviation on its device, with a
photo. Posts send empty forms: refused (400) with nothing written."""

from __future__ import annotations

from datetime import date

PAGE = dict(anonymous=303, technician=403, consultant=403, prescriber=403, coordinator=200, admin=200)
REFUSED = dict(anonymous=401, technician=403, consultant=403, prescriber=403, coordinator=400, admin=400)
VISIT = dict(anonymous=401, technician=400, consultant=403, prescriber=403, coordinator=403, admin=403)

CASE = "/avvikelser/{deviation}"
ROWS = {
    ("GET", "/avvikelser"): ("/avvikelser?status=new&manad=2026-01", PAGE),
    ("GET", "/avvikelser/ny"): ("/avvikelser/ny?hjalpmedel={device}", PAGE),
    ("POST", "/avvikelser/ny"): ("/avvikelser/ny", REFUSED),
    ("GET", "/avvikelser/{deviation_id:int}"): (CASE, PAGE),
    ("POST", "/avvikelser/{deviation_id:int}"): (CASE, REFUSED),
    ("GET", "/avvikelser/{deviation_id:int}/rapport.pdf"): (CASE + "/rapport.pdf", PAGE),
    ("GET", "/avvikelser/{deviation_id:int}/rapport.json"): (CASE + "/rapport.json", PAGE),
    ("GET", "/avvikelser/{deviation_id:int}/foton/{photo_id:int}"): (CASE + "/foton/{deviation_photo}", PAGE),
    ("POST", "/besok/{order_id:int}/avvikelse"): ("/besok/{order}/avvikelse", VISIT),
}


async def add_paths(world) -> None:
    from backend import db
    from backend.accounts.staff import Actor
    from backend.accounts.tables import Role
    from backend.deviations import service as deviations
    from backend.photos import clean_photo
    from tests.support.factories import jpeg_bytes

    coordinator = Actor(world.staff["coordinator"], world.organisation, "Test coordinator", Role.coordinator, None)
    created = await deviations.raise_deviation(
        coordinator, device_id=world.devices[0], keep_device=False,
        event=deviations.Event(date(2026, 1, 5), "Bromsen släppte i nedförsbacke.", "near_miss", None),
        photo=await clean_photo(jpeg_bytes()))
    world.paths["deviation"] = str(created["id"])
    world.paths["deviation_photo"] = str(await db.fetchval(
        "SELECT id FROM deviation_photo WHERE deviation = $1", created["id"]))
