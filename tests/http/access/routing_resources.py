"""Route-access rows of technicians as planning resources (coordinators and admins): the list and
the categories that need a skill (an empty choice is a valid one: no category needs a skill, 303),
one technician's page and its forms (empty forms are refused: 400; nothing is written), taking away
an absence that does not exist (404), and the default visit durations (an empty form: 400)."""

from __future__ import annotations

PAGE = dict(anonymous=303, technician=403, consultant=403, prescriber=403, coordinator=200, admin=200)
REFUSED = dict(anonymous=401, technician=403, consultant=403, prescriber=403, coordinator=400, admin=400)
BASE = "/planering/tekniker"

ROWS = {
    ("GET", BASE): (BASE, PAGE),
    ("POST", f"{BASE}/behorigheter"): (f"{BASE}/behorigheter", dict(REFUSED, coordinator=303, admin=303)),
    ("GET", f"{BASE}/{{staff_id:int}}"): (f"{BASE}/{{technician}}", PAGE),
    ("POST", f"{BASE}/{{staff_id:int}}"): (f"{BASE}/{{technician}}", REFUSED),
    ("POST", f"{BASE}/{{staff_id:int}}/franvaro"): (f"{BASE}/{{technician}}/franvaro", REFUSED),
    ("POST", f"{BASE}/{{staff_id:int}}/franvaro/{{absence_id:int}}/ta-bort"):
        (f"{BASE}/{{technician}}/franvaro/0/ta-bort", dict(REFUSED, coordinator=404, admin=404)),
    ("GET", "/planering/besokstider"): ("/planering/besokstider", PAGE),
    ("POST", "/planering/besokstider"): ("/planering/besokstider", REFUSED),
}
