"""Route-access rows of technician areas on the staff register (admins only). The post gets an
empty form on a person who does not exist: 404, no one's area is changed."""

from __future__ import annotations

from tests.http.access.staff import BASE, admin_post

ROWS = {
    ("POST", f"{BASE}/{{staff_id:int}}/omraden"): (f"{BASE}/0/omraden", admin_post(404)),
}
