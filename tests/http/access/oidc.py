"""Route-access rows of sign-in through the region's identity provider and the admins' page for
sign-in policies. The shared app has no OIDC settings, so the provider's routes answer 404 to
everyone (with the provider: tests/http/test_oidc_sign_in.py); posts get an empty form or an
unknown mapping, so nothing changes."""

from __future__ import annotations

BASE = "/admin/inloggning"
ROLES = ("anonymous", "technician", "consultant", "prescriber", "coordinator", "admin")


def admin_page() -> dict:
    return dict(anonymous=303, technician=403, consultant=403, prescriber=403, coordinator=403, admin=200)


def admin_post(admin: int) -> dict:
    return dict(anonymous=401, technician=403, consultant=403, prescriber=403, coordinator=403, admin=admin)


ROWS = {
    ("GET", "/logga-in/idp"): ("/logga-in/idp", dict.fromkeys(ROLES, 404)),
    ("GET", "/logga-in/idp/klar"): ("/logga-in/idp/klar?code=x&state=y", dict.fromkeys(ROLES, 404)),
    ("GET", "/inbjudan/{token:str}/idp"): ("/inbjudan/unknown-token/idp", dict.fromkeys(ROLES, 404)),
    ("GET", "/logga-ut/idp"): ("/logga-ut/idp", dict.fromkeys(ROLES, 404)),
    ("GET", BASE): (BASE, admin_page()),
    # Every role's policy missing from the form: refused, nothing saved.
    ("POST", BASE): (BASE, admin_post(400)),
    ("POST", f"{BASE}/kopplingar"): (f"{BASE}/kopplingar", admin_post(400)),
    ("POST", f"{BASE}/kopplingar/{{mapping_id:int}}/ta-bort"): (f"{BASE}/kopplingar/0/ta-bort", admin_post(400)),
}
