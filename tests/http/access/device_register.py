"""Route-access rows of the device register (/admin/hjalpmedel): admins and coordinators only.
Posts send empty forms: refused with a message (400), nothing written. The world's device
(R000001) is lent to the world's patient."""

from __future__ import annotations

PAGE = dict(anonymous=303, technician=403, consultant=403, prescriber=403, coordinator=200, admin=200)
REFUSED = dict(anonymous=401, technician=403, consultant=403, prescriber=403, coordinator=400, admin=400)

ROWS = {
    ("GET", "/admin/hjalpmedel"): ("/admin/hjalpmedel", PAGE),
    ("GET", "/admin/hjalpmedel/ny"): ("/admin/hjalpmedel/ny", PAGE),
    ("POST", "/admin/hjalpmedel/ny"): ("/admin/hjalpmedel/ny", REFUSED),
    ("GET", "/admin/hjalpmedel/{individnummer:str}"): ("/admin/hjalpmedel/{device}", PAGE),
    ("POST", "/admin/hjalpmedel/{individnummer:str}"): ("/admin/hjalpmedel/{device}", REFUSED),
    **{("POST", f"/admin/hjalpmedel/{{individnummer:str}}/{action}"): (f"/admin/hjalpmedel/{{device}}/{action}", REFUSED)
       for action in ("status", "lana-ut/sok", "lana-ut", "aterlamna", "ny-etikett")},
}
