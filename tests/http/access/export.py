"""Route-access rows of the exports (/admin/export): admins and coordinators only. Posts send
empty forms: refused (400, no format chosen), so nothing is read and nothing is logged."""

from __future__ import annotations

PAGE = dict(anonymous=303, technician=403, consultant=403, prescriber=403, coordinator=200, admin=200)
REFUSED = dict(anonymous=401, technician=403, consultant=403, prescriber=403, coordinator=400, admin=400)

ROWS = {
    ("GET", "/admin/export"): ("/admin/export", PAGE),
    **{("GET", f"/admin/export/{kind}"): (f"/admin/export/{kind}", PAGE)
       for kind in ("arbetsordrar", "hjalpmedel", "fu-status")},
    **{("POST", f"/admin/export/{kind}"): (f"/admin/export/{kind}", REFUSED)
       for kind in ("arbetsordrar", "hjalpmedel", "fu-status")},
}
