"""Route-access rows of the KPI pages (/oversikt/kpi, targets and prices, the board report):
coordinators and admins see all; a prescriber the fitting and repair indicators (their own unit's,
tests/http/test_kpi_pages.py) and nothing else. Posts that need a month are sent empty and refused
(400); the targets form sent empty keeps every default (303), and asking for a refresh queues one."""

from __future__ import annotations

from datetime import date

PAGE = dict(anonymous=303, technician=403, consultant=403, prescriber=403, coordinator=200, admin=200)
KPI = dict(anonymous=303, technician=403, consultant=403, prescriber=200, coordinator=200, admin=200)
REFUSED = dict(anonymous=401, technician=403, consultant=403, prescriber=403, coordinator=400, admin=400)
DONE = dict(anonymous=401, technician=403, consultant=403, prescriber=403, coordinator=303, admin=303)

ROWS = {
    ("GET", "/oversikt/kpi/{code:str}"): ("/oversikt/kpi/reparation?fordelning=alder", KPI),
    ("GET", "/oversikt/kpi/{code:str}/export"): ("/oversikt/kpi/utprovning/export?format=csv", KPI),
    ("GET", "/oversikt/mal"): ("/oversikt/mal", PAGE),
    ("POST", "/oversikt/mal"): ("/oversikt/mal", DONE),
    ("POST", "/oversikt/uppdatera"): ("/oversikt/uppdatera", DONE),
    ("GET", "/oversikt/rapport"): ("/oversikt/rapport", PAGE),
    ("POST", "/oversikt/rapport"): ("/oversikt/rapport", REFUSED),
    ("POST", "/oversikt/rapport/kommentarer"): ("/oversikt/rapport/kommentarer", REFUSED),
    ("GET", "/oversikt/rapport/{report_id:int}"): ("/oversikt/rapport/{board_report}", PAGE),
    ("GET", "/oversikt/rapport/{report_id:int}/pdf"): ("/oversikt/rapport/{board_report}/pdf", PAGE),
}


async def add_paths(world) -> None:
    from backend.reports import board

    month = date.today().replace(day=1)
    world.paths["board_report"] = str(await board.start(world.organisation, month, month, date.today()))
