"""Route-access rows of the import (/admin/import), for admins only. The world gets a dry run of an
article file: its one line is the world's article as it is (nothing to import) and one line is
refused. Posts send empty forms: the upload is refused (400: no file), confirming that dry run is
refused (400: nothing new or changed), and discarding is aimed at no run (404), so nothing is written."""

from __future__ import annotations

ADMIN_PAGE = dict(anonymous=303, technician=403, consultant=403, prescriber=403, coordinator=403, admin=200)
REFUSED = dict(anonymous=401, technician=403, consultant=403, prescriber=403, coordinator=403, admin=400)
NOT_FOUND = dict(anonymous=401, technician=403, consultant=403, prescriber=403, coordinator=403, admin=404)

ARTICLES = ("Artikelnummer;Benämning;Tillverkare;ISO-kod\n"
            "100200;Permobil M3 Corpus;Permobil;12 23 06\n"
            "100201;;Permobil;12 23 06\n")

ROWS = {
    ("GET", "/admin/import"): ("/admin/import?sida=1", ADMIN_PAGE),
    ("POST", "/admin/import"): ("/admin/import", REFUSED),
    ("GET", "/admin/import/{run_id:int}"): ("/admin/import/{import_run}?sida=1", ADMIN_PAGE),
    ("GET", "/admin/import/{run_id:int}/status"): ("/admin/import/{import_run}/status", ADMIN_PAGE),
    ("GET", "/admin/import/{run_id:int}/rapport"): ("/admin/import/{import_run}/rapport", ADMIN_PAGE),
    ("POST", "/admin/import/{run_id:int}/bekrafta"): ("/admin/import/{import_run}/bekrafta", REFUSED),
    ("POST", "/admin/import/{run_id:int}/kasta"): ("/admin/import/0/kasta", NOT_FOUND),
}


async def add_paths(world) -> None:
    from backend.imports import service as imports

    run = await imports.dry_run(world.organisation, "articles", "artiklar.csv", ARTICLES.encode(),
                                actor_id=world.staff["admin"], actor_name="Test admin")
    world.paths["import_run"] = str(run)
