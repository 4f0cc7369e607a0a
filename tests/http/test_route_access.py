"""Every route × every role: who gets in, who is refused, and how.

A route added without a row here fails `test_every_route_is_in_the_access_table`,
so nobody can add a page without deciding who may use it.
"""

from __future__ import annotations

from datetime import date

import pytest
from litestar.routes import HTTPRoute

from tests.support.factories import (
    add_conflict,
    add_device,
    add_fault_report,
    add_fitting_availability,
    add_fitting_booking,
    add_patient,
    add_photo,
    add_work_order,
    delete_world,
    jpeg_bytes,
    make_world,
)
from tests.http import access as access_areas
from tests.support.http import new_client, post_form, signed_in_client

ROLES = ["anonymous", "technician", "consultant", "prescriber", "coordinator", "admin"]

# (method, path template) -> concrete path (with {placeholders} from the world), expected status per role.
# 303 for anonymous page requests is the redirect to /logga-in.
ACCESS = {
    ("GET", "/"): ("/", dict(anonymous=302, technician=302, consultant=302, prescriber=302, coordinator=302, admin=302)),
    ("GET", "/healthz"): ("/healthz", dict.fromkeys(ROLES, 200)),
    ("GET", "/csrf-token"): ("/csrf-token", dict(anonymous=303, technician=200, consultant=200, prescriber=200, coordinator=200, admin=200)),
    ("GET", "/sw.js"): ("/sw.js", dict.fromkeys(ROLES, 200)),
    ("GET", "/manifest.webmanifest"): ("/manifest.webmanifest", dict.fromkeys(ROLES, 200)),
    ("GET", "/offline"): ("/offline", dict.fromkeys(ROLES, 200)),
    ("GET", "/logga-in"): ("/logga-in", dict(anonymous=200, technician=302, consultant=302, prescriber=302, coordinator=302, admin=302)),
    ("POST", "/logga-in/alternativ"): ("/logga-in/alternativ", dict.fromkeys(ROLES, 201)),
    ("POST", "/logga-in/verifiera"): ("/logga-in/verifiera", dict.fromkeys(ROLES, 400)),
    ("POST", "/logga-ut"): ("/logga-ut", dict(anonymous=401, technician=302, consultant=302, prescriber=302, coordinator=302, admin=302)),
    ("POST", "/logga-ut/overallt"): ("/logga-ut/overallt", dict(anonymous=401, technician=302, consultant=302, prescriber=302, coordinator=302, admin=302)),
    ("GET", "/inbjudan/{token:str}"): ("/inbjudan/unknown-token", dict.fromkeys(ROLES, 410)),
    ("POST", "/inbjudan/{token:str}/alternativ"): ("/inbjudan/unknown-token/alternativ", dict.fromkeys(ROLES, 410)),
    ("POST", "/inbjudan/{token:str}/registrera"): ("/inbjudan/unknown-token/registrera", dict.fromkeys(ROLES, 410)),
    ("GET", "/konto"): ("/konto", dict(anonymous=303, technician=200, consultant=200, prescriber=200, coordinator=200, admin=200)),
    ("POST", "/konto/passkeys/{passkey_id:int}/namn"): ("/konto/passkeys/0/namn", dict(anonymous=401, technician=400, consultant=400, prescriber=400, coordinator=400, admin=400)),
    ("POST", "/konto/passkeys/{passkey_id:int}/ta-bort"): ("/konto/passkeys/0/ta-bort", dict(anonymous=401, technician=400, consultant=400, prescriber=400, coordinator=400, admin=400)),
    ("POST", "/konto/ny-enhet"): ("/konto/ny-enhet", dict(anonymous=401, technician=200, consultant=200, prescriber=200, coordinator=200, admin=200)),
    ("GET", "/admin"): ("/admin", dict(anonymous=303, technician=403, consultant=403, prescriber=403, coordinator=200, admin=200)),
    ("GET", "/admin/inbjudningar"): ("/admin/inbjudningar", dict(anonymous=303, technician=403, consultant=403, prescriber=403, coordinator=200, admin=200)),
    ("POST", "/admin/inbjudningar"): ("/admin/inbjudningar", dict(anonymous=401, technician=403, consultant=403, prescriber=403, coordinator=400, admin=400)),
    ("POST", "/admin/inbjudningar/{invitation_id:int}/aterkalla"): ("/admin/inbjudningar/0/aterkalla", dict(anonymous=401, technician=403, consultant=403, prescriber=403, coordinator=400, admin=400)),
    ("GET", "/patienter"): ("/patienter", dict(anonymous=303, technician=403, consultant=403, prescriber=200, coordinator=200, admin=200)),
    ("POST", "/patienter/sok"): ("/patienter/sok", dict(anonymous=401, technician=403, consultant=403, prescriber=200, coordinator=200, admin=200)),
    ("GET", "/patienter/{patient_id:int}"): ("/patienter/{patient}", dict(anonymous=303, technician=200, consultant=403, prescriber=200, coordinator=200, admin=200)),
    ("GET", "/enheter"): ("/enheter", dict(anonymous=303, technician=200, consultant=200, prescriber=200, coordinator=200, admin=200)),
    ("GET", "/enheter/{individnummer:str}"): ("/enheter/{device}", dict(anonymous=303, technician=200, consultant=200, prescriber=200, coordinator=200, admin=200)),
    ("GET", "/arbetsordrar"): ("/arbetsordrar", dict(anonymous=303, technician=403, consultant=403, prescriber=403, coordinator=200, admin=200)),
    ("GET", "/min-dag"): ("/min-dag", dict(anonymous=303, technician=200, consultant=403, prescriber=403, coordinator=403, admin=403)),
    ("GET", "/min-dag/forhandsladdning"): ("/min-dag/forhandsladdning", dict(anonymous=303, technician=200, consultant=403, prescriber=403, coordinator=403, admin=403)),
    # The technician's visit. Posts send empty forms: refused with a message (400), nothing written.
    ("GET", "/besok/reservdelar"): ("/besok/reservdelar", dict(anonymous=303, technician=200, consultant=403, prescriber=403, coordinator=403, admin=403)),
    ("GET", "/besok/{order_id:int}"): ("/besok/{order}", dict(anonymous=303, technician=200, consultant=403, prescriber=403, coordinator=403, admin=403)),
    **{("POST", f"/besok/{{order_id:int}}/{action}"): (f"/besok/{{order}}/{action}", dict(anonymous=401, technician=400, consultant=403, prescriber=403, coordinator=403, admin=403))
       for action in ("starta", "pausa", "slutfor", "ej-utford", "checklista", "sakerhetsbeslut", "delar", "tid", "rapport", "anteckning", "foton")},
    ("GET", "/protokoll/{order_id:int}"): ("/protokoll/{order}", dict(anonymous=303, technician=200, consultant=403, prescriber=403, coordinator=200, admin=200)),
    ("GET", "/foton/{photo_id:int}"): ("/foton/{photo}", dict(anonymous=303, technician=200, consultant=403, prescriber=403, coordinator=200, admin=200)),
    # Conflicts: the coordinator's pages, the technician's own, and the kept photo (the world's
    # technician sent it). Posts send empty forms: refused (400), except that the technician may
    # let go of their own change without a note (303); the data stays either way.
    ("GET", "/konflikter"): ("/konflikter", dict(anonymous=303, technician=403, consultant=403, prescriber=403, coordinator=200, admin=200)),
    ("GET", "/konflikter/{conflict_id:int}"): ("/konflikter/{conflict}", dict(anonymous=303, technician=403, consultant=403, prescriber=403, coordinator=200, admin=200)),
    **{("POST", f"/konflikter/{{conflict_id:int}}/{action}"): (f"/konflikter/{{conflict}}/{action}", dict(anonymous=401, technician=403, consultant=403, prescriber=403, coordinator=400, admin=400))
       for action in ("tillampa", "avfarda")},
    ("GET", "/konflikter/{conflict_id:int}/foto"): ("/konflikter/{conflict}/foto", dict(anonymous=303, technician=200, consultant=403, prescriber=403, coordinator=200, admin=200)),
    ("GET", "/besok/konflikter"): ("/besok/konflikter", dict(anonymous=303, technician=200, consultant=403, prescriber=403, coordinator=403, admin=403)),
    ("GET", "/besok/konflikter/{conflict_id:int}"): ("/besok/konflikter/{conflict}", dict(anonymous=303, technician=200, consultant=403, prescriber=403, coordinator=403, admin=403)),
    ("POST", "/besok/konflikter/{conflict_id:int}/tillampa"): ("/besok/konflikter/{conflict}/tillampa", dict(anonymous=401, technician=400, consultant=403, prescriber=403, coordinator=403, admin=403)),
    ("POST", "/besok/konflikter/{conflict_id:int}/slapp"): ("/besok/konflikter/{conflict}/slapp", dict(anonymous=401, technician=303, consultant=403, prescriber=403, coordinator=403, admin=403)),
    # Planning and makulera (coordinator).
    ("GET", "/arbetsordrar/planering"): ("/arbetsordrar/planering?tekniker={technician}", dict(anonymous=303, technician=403, consultant=403, prescriber=403, coordinator=200, admin=200)),
    ("GET", "/arbetsordrar/{order_id:int}"): ("/arbetsordrar/{order}", dict(anonymous=303, technician=403, consultant=403, prescriber=403, coordinator=200, admin=200)),
    **{("POST", f"/arbetsordrar/{{order_id:int}}/{action}"): (f"/arbetsordrar/{{order}}/{action}", dict(anonymous=401, technician=403, consultant=403, prescriber=403, coordinator=400, admin=400))
       for action in ("planera", "makulera", "flytta")},
    ("GET", "/oversikt"): ("/oversikt", dict(anonymous=303, technician=403, consultant=403, prescriber=403, coordinator=200, admin=200)),
    # Fittings. Posts send empty forms: they are refused (400) or point at nothing (404), and change nothing.
    ("GET", "/utprovningar"): ("/utprovningar", dict(anonymous=303, technician=403, consultant=200, prescriber=200, coordinator=200, admin=200)),
    ("GET", "/utprovningar/bokningar/{booking_id:int}"): ("/utprovningar/bokningar/{booking}", dict(anonymous=303, technician=403, consultant=200, prescriber=200, coordinator=200, admin=200)),
    ("POST", "/utprovningar/bokningar/{booking_id:int}/flytta"): ("/utprovningar/bokningar/{booking}/flytta", dict(anonymous=401, technician=403, consultant=400, prescriber=400, coordinator=400, admin=403)),
    ("POST", "/utprovningar/bokningar/{booking_id:int}/avboka"): ("/utprovningar/bokningar/{booking}/avboka", dict(anonymous=401, technician=403, consultant=400, prescriber=400, coordinator=400, admin=403)),
    ("GET", "/utprovningar/boka"): ("/utprovningar/boka", dict(anonymous=303, technician=403, consultant=403, prescriber=200, coordinator=403, admin=403)),
    ("POST", "/utprovningar/boka/sok"): ("/utprovningar/boka/sok", dict(anonymous=401, technician=403, consultant=403, prescriber=400, coordinator=403, admin=403)),
    ("POST", "/utprovningar/boka/tider"): ("/utprovningar/boka/tider", dict(anonymous=401, technician=403, consultant=403, prescriber=400, coordinator=403, admin=403)),
    ("POST", "/utprovningar/boka/bekrafta"): ("/utprovningar/boka/bekrafta", dict(anonymous=401, technician=403, consultant=403, prescriber=400, coordinator=403, admin=403)),
    ("GET", "/utprovningar/tillganglighet"): ("/utprovningar/tillganglighet", dict(anonymous=303, technician=403, consultant=200, prescriber=403, coordinator=200, admin=403)),
    ("POST", "/utprovningar/tillganglighet/mallar"): ("/utprovningar/tillganglighet/mallar", dict(anonymous=401, technician=403, consultant=400, prescriber=403, coordinator=400, admin=403)),
    ("POST", "/utprovningar/tillganglighet/mallar/{template_id:int}/avsluta"): ("/utprovningar/tillganglighet/mallar/0/avsluta", dict(anonymous=401, technician=403, consultant=404, prescriber=403, coordinator=404, admin=403)),
    ("POST", "/utprovningar/tillganglighet/franvaro"): ("/utprovningar/tillganglighet/franvaro", dict(anonymous=401, technician=403, consultant=400, prescriber=403, coordinator=400, admin=403)),
    ("POST", "/utprovningar/tillganglighet/franvaro/{exception_id:int}/ta-bort"): ("/utprovningar/tillganglighet/franvaro/0/ta-bort", dict(anonymous=401, technician=403, consultant=404, prescriber=403, coordinator=404, admin=403)),
    ("GET", "/utprovningar/kalender"): ("/utprovningar/kalender", dict(anonymous=303, technician=403, consultant=200, prescriber=200, coordinator=403, admin=403)),
    ("POST", "/utprovningar/kalender"): ("/utprovningar/kalender", dict(anonymous=401, technician=403, consultant=200, prescriber=200, coordinator=403, admin=403)),
    ("POST", "/utprovningar/kalender/stang"): ("/utprovningar/kalender/stang", dict(anonymous=401, technician=403, consultant=200, prescriber=200, coordinator=403, admin=403)),
    ("GET", "/kalender/{feed:str}"): ("/kalender/not-a-feed-token.ics", dict.fromkeys(ROLES, 404)),
    ("GET", "/utprovningar/serviceniva"): ("/utprovningar/serviceniva", dict(anonymous=303, technician=403, consultant=403, prescriber=403, coordinator=200, admin=200)),
    # Fault reports. The public pages answer everyone; an unknown token is a 404 for all alike.
    ("GET", "/f/{token:str}"): ("/f/AAAAAAAAAAAAAAAAAAAAAA", dict.fromkeys(ROLES, 404)),
    ("GET", "/f/{token:str}/anmal"): ("/f/AAAAAAAAAAAAAAAAAAAAAA/anmal", dict.fromkeys(ROLES, 404)),
    ("POST", "/f/{token:str}/anmal"): ("/f/AAAAAAAAAAAAAAAAAAAAAA/anmal", dict.fromkeys(ROLES, 404)),
    ("GET", "/arende/{token:str}"): ("/arende/AAAAAAAAAAAAAAAAAAAAAA", dict.fromkeys(ROLES, 404)),
    ("GET", "/arende/{token:str}/kvitto"): ("/arende/AAAAAAAAAAAAAAAAAAAAAA/kvitto", dict.fromkeys(ROLES, 404)),
    ("GET", "/felanmalningar"): ("/felanmalningar", dict(anonymous=303, technician=403, consultant=403, prescriber=403, coordinator=200, admin=200)),
    ("GET", "/felanmalningar/{report_id:int}"): ("/felanmalningar/{report}", dict(anonymous=303, technician=403, consultant=403, prescriber=403, coordinator=200, admin=200)),
    ("GET", "/felanmalningar/{report_id:int}/bild"): ("/felanmalningar/{report}/bild", dict(anonymous=303, technician=403, consultant=403, prescriber=403, coordinator=404, admin=404)),
    ("POST", "/felanmalningar/{report_id:int}/arbetsorder"): ("/felanmalningar/{report}/arbetsorder", dict(anonymous=401, technician=403, consultant=403, prescriber=403, coordinator=400, admin=400)),
    ("POST", "/felanmalningar/{report_id:int}/avsluta"): ("/felanmalningar/{report}/avsluta", dict(anonymous=401, technician=403, consultant=403, prescriber=403, coordinator=400, admin=400)),
    ("GET", "/etiketter"): ("/etiketter", dict(anonymous=303, technician=403, consultant=403, prescriber=403, coordinator=200, admin=200)),
    ("GET", "/etiketter/ark"): ("/etiketter/ark?enheter={device}", dict(anonymous=303, technician=403, consultant=403, prescriber=403, coordinator=200, admin=200)),
    ("POST", "/etiketter/ny-kod"): ("/etiketter/ny-kod", dict(anonymous=401, technician=403, consultant=403, prescriber=403, coordinator=400, admin=400)),
    ("GET", "/enheter/{individnummer:str}/bestall-reparation"): ("/enheter/{device}/bestall-reparation", dict(anonymous=303, technician=403, consultant=403, prescriber=200, coordinator=403, admin=403)),
    ("POST", "/enheter/{individnummer:str}/bestall-reparation"): ("/enheter/{device}/bestall-reparation", dict(anonymous=401, technician=403, consultant=403, prescriber=400, coordinator=403, admin=403)),
    ("GET", "/reparationer"): ("/reparationer", dict(anonymous=303, technician=403, consultant=403, prescriber=200, coordinator=403, admin=403)),
}
# The registers, import, export and API add their rows from tests/http/access/, one module each.
ACCESS.update(access_areas.rows())

# Routes that exist only in some configurations, or are static files, are covered elsewhere.
COVERED_ELSEWHERE = {
    ("POST", "/inbjudan/{token:str}/utan-passkey"),  # tests/http/test_sign_in.py: dev only
    ("GET", "/static/{file_path:path}"),  # tests/http/test_foundation_pages.py
}


def app_routes(app) -> set[tuple[str, str]]:
    found = set()
    for route in app.routes:
        if isinstance(route, HTTPRoute):
            for method in route.methods - {"OPTIONS", "HEAD"}:
                found.add((method, route.path.rstrip("/") or "/"))
        else:
            found.add(("GET", route.path))
    return found


def test_every_route_is_in_the_access_table(app):
    missing = app_routes(app) - set(ACCESS) - COVERED_ELSEWHERE
    assert not missing, f"routes without an access rule in this table: {sorted(missing)}"
    stale = set(ACCESS) - app_routes(app)
    assert not stale, f"rows for routes that no longer exist: {sorted(stale)}"


def test_every_route_declares_who_may_use_it(app):
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            if set(getattr(handler, "http_methods", ())) == {"OPTIONS"}:
                continue  # Litestar's automatic CORS preflight answer
            guarded = any(True for layer in handler.ownership_layers for _ in (layer.guards or []))
            assert guarded or handler.opt.get("public"), f"{route.path}: no guard and not marked public"


@pytest.fixture(scope="module")
async def world(database):
    world = await make_world()
    patient = await add_patient(world)
    device = await add_device(world, holder=patient, individnummer="R000001")
    order = await add_work_order(world, device, assignee=world.staff["technician"], patient=patient,
                                 planned=date.today())
    photo = await add_photo(world, order)
    conflict = await add_conflict(world, order, "foton", {"caption": "Efter"}, photo=jpeg_bytes())
    areas = await add_fitting_availability(world)
    booking = await add_fitting_booking(world, patient, areas)
    world.paths = {"patient": str(patient), "device": "R000001", "booking": str(booking.id), "order": str(order),
                   "photo": str(photo), "technician": str(world.staff["technician"]),
                   "conflict": str(conflict)}
    await access_areas.add_paths(world)
    yield world
    await delete_world(world)


@pytest.fixture(scope="module", autouse=True)
async def fault_report(world):
    """A public fault report on the world's device, for the triage pages."""
    world.paths["report"] = str((await add_fault_report(world, world.devices[0]))[0])


@pytest.fixture(scope="module")
async def clients(app, world):
    clients = {"anonymous": new_client(app)}
    for role in ROLES[1:]:
        clients[role] = await signed_in_client(app, world.organisation, world.staff[role])
    yield clients
    for client in clients.values():
        await client.aclose()


SIGN_OUT = {("POST", "/logga-ut"), ("POST", "/logga-ut/overallt")}


async def request(client, method, url):
    return await client.get(url) if method == "GET" else await post_form(client, url)


@pytest.mark.parametrize("role", ROLES)
async def test_access_by_role(app, clients, world, role):
    failures = []
    # Sign-out routes run last: "sign out everywhere" also ends the shared client's session.
    for (method, template), (path, expected) in sorted(ACCESS.items(), key=lambda item: (item[0] in SIGN_OUT, item[0])):
        client = clients[role]
        if (method, template) in SIGN_OUT and role != "anonymous":
            # Signing out ends the session: each gets a freshly signed-in browser of its own.
            client = await signed_in_client(app, world.organisation, world.staff[role])
        response = await request(client, method, path.format(**world.paths))
        if response.status_code != expected[role]:
            failures.append(f"{method} {path}: expected {expected[role]}, got {response.status_code}")
    assert not failures, "\n".join(failures)
