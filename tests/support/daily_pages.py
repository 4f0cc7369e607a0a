"""The daily pages as their users request them, in-process, for the query-plan test and the bench.

`signed_in_region(app, organisation)` signs the region's technician, coordinator, prescriber and
admin in (and makes an API token and a public browser); `run_page(region, name)` requests one of
PAGES, capturing the statements it runs (tests/support/plans.py). `explain_daily_pages` is the
bench's way to see the same pages' plans on its big database:

    async with signed_in_region(app, organisation) as region:
        await explain_daily_pages(region)   # EXPLAIN (ANALYZE, BUFFERS), summarised per page

The POSTs write as their users would (checklist answers, a booking, a fault report, audit rows),
marked "Planprov".
"""

from __future__ import annotations

import inspect
import json
import re
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import AsyncIterator

import httpx

from backend import db
from backend.accounts import service as accounts
from backend.integrations import service as integrations
from backend.workdays import today
from tests.support.http import csrf, new_client, post_form, signed_in_client
from tests.support.plans import Statement, capturing_statements, explain_statements, summarise


@dataclass
class Region:
    """The demo region with a signed-in browser per role and what the pages are asked about."""

    organisation: int
    technician: httpx.AsyncClient
    coordinator: httpx.AsyncClient
    prescriber: httpx.AsyncClient
    admin: httpx.AsyncClient
    public: httpx.AsyncClient
    facts: dict


async def _facts(org: int) -> dict:
    technician = await db.fetchval(
        "SELECT min(id) FROM staff_user WHERE organisation = $1 AND role = 'technician'", org)
    day = await db.fetchval("SELECT min(planned_date) FROM work_order WHERE assignee = $1 "
                            "AND planned_date >= $2 AND status = 'planned'", technician, today())
    visits = await db.fetch("SELECT id, type FROM work_order WHERE assignee = $1 AND planned_date = $2 "
                            "ORDER BY route_position", technician, day)
    fu = await db.fetchrow(
        """
        SELECT w.id, t.items FROM work_order w JOIN device d ON d.id = w.device
        JOIN article a ON a.id = d.article JOIN checklist_template t ON t.category = a.category
        WHERE w.assignee = $1 AND w.planned_date >= $2 AND w.type = 'maintenance' AND w.status = 'planned'
          AND t.code = 'fu' AND t.published_at IS NOT NULL
        ORDER BY w.planned_date, w.id, t.version DESC LIMIT 1
        """, technician, day)
    device = await db.fetchrow(
        "SELECT d.individnummer, t.token FROM device d JOIN device_token t ON t.device = d.id AND t.replaced_at IS NULL "
        "WHERE d.organisation = $1 AND d.status = 'in_use' AND d.holder IS NOT NULL ORDER BY d.id LIMIT 1", org)
    prescriber = await db.fetchrow("SELECT id, care_unit FROM staff_user WHERE organisation = $1 "
                                   "AND role = 'prescriber' ORDER BY id LIMIT 1", org)
    area = await db.fetchval(
        "SELECT a FROM availability_template, unnest(product_areas) a WHERE organisation = $1 AND place = 'hmc' "
        "GROUP BY a ORDER BY count(*) DESC, a LIMIT 1", org)
    staff = {role: await db.fetchval("SELECT min(id) FROM staff_user WHERE organisation = $1 AND role = $2 AND active",
                                     org, role) for role in ("coordinator", "admin")}
    return {
        "technician": technician, "day": day, "visits": [r["id"] for r in visits],
        "repair": next((r["id"] for r in visits if r["type"] != "maintenance"), visits[0]["id"]),
        "fu": fu["id"], "fu_items": json.loads(fu["items"]) if isinstance(fu["items"], str) else fu["items"],
        "individnummer": device["individnummer"], "sticker": device["token"],
        "prescriber": prescriber["id"], "patient": await db.fetchval(
            "SELECT min(id) FROM patient WHERE care_unit = $1", prescriber["care_unit"]),
        "area": area, **staff,
        "cost_bearer": await db.fetchval("SELECT min(id) FROM cost_bearer WHERE organisation = $1", org),
        "category": await db.fetchval("SELECT min(id) FROM device_category WHERE organisation = $1", org),
        "care_unit": prescriber["care_unit"],
        "order": await db.fetchval("SELECT min(id) FROM work_order WHERE organisation = $1 AND status = 'new'", org),
    }


@asynccontextmanager
async def signed_in_region(app, org: int) -> AsyncIterator[Region]:
    """The region's people signed in to `app` and the facts the pages are asked about; the bench
    can use it on its own database to capture the same pages (`run_page`) at scale."""
    clients: list[httpx.AsyncClient] = []
    try:
        facts = await _facts(org)

        async def as_staff(staff_id: int) -> httpx.AsyncClient:
            clients.append(await signed_in_client(app, org, staff_id))
            return clients[-1]

        admin_actor = await accounts.load_actor(facts["admin"], time.time(), absolute_hours=1)
        _, facts["api_token"] = await integrations.create_token(admin_actor, name="Planprov", scope="read")
        public = new_client(app)
        clients.append(public)
        yield Region(org, await as_staff(facts["technician"]), await as_staff(facts["coordinator"]),
                     await as_staff(facts["prescriber"]), await as_staff(facts["admin"]), public, facts)
    finally:
        for client in clients:
            await client.aclose()


# --- the daily pages --------------------------------------------------------------------------
# Each: who asks, and the request. A POST that needs a form read first reads it outside the capture.

def checklist_form(items: list[dict]) -> dict:
    form = {}
    for item in items:
        form[f"item-{item['key']}"] = "pass"
        if item.get("measurement"):
            m = item["measurement"]
            form[f"item-{item['key']}-value"] = f"{(m['min'] + m['max']) / 2:g}"
        form[f"item-{item['key']}-comment"] = "Planprov"
    return form


async def _slot_choice(r: Region) -> dict:
    return {"product_area": str(r.facts["area"]), "place": "hmc", "patient": str(r.facts["patient"]),
            "referral_date": (today() - timedelta(days=3)).isoformat()}


async def _free_slot(r: Region) -> dict:
    times = await post_form(r.prescriber, "/utprovningar/boka/tider", await _slot_choice(r))
    assert times.status_code == 200, times.text
    slot = re.search(r'name="slot" value="([^"]+)"', times.text)
    assert slot, "no free fitting time offered in the demo region"
    return {**await _slot_choice(r), "slot": slot.group(1), "problem": "Planprov", "goal": "Sitta stabilt"}


async def _fault_form(r: Region) -> dict:
    form = await r.public.get(f"/f/{r.facts['sticker']}/anmal")
    assert form.status_code == 200, form.text
    nonce = re.search(r'name="submission" value="([^"]+)"', form.text).group(1)
    return {"problems": ["other"], "description": "Planprov", "where_on_device": "Vänster sida", "usable": "partly",
            "can_bring_in": "no", "needs_replacement": "no", "location": "usual", "contact_name": "Plan Provsson",
            "contact_phone": "070-174 06 50", "call_times": "Vardagar", "webbplats": "", "submission": nonce,
            "_csrf_token": await csrf(r.public)}


def _get(role: str, url) -> tuple:
    return role, "GET", url, None


PAGES: dict[str, tuple] = {
    # the technician's day
    "technician day": _get("technician", lambda f: f"/min-dag?dag={f['day']}"),
    "day ahead (offline precache)": _get("technician", lambda f: "/min-dag/forhandsladdning"),
    "visit page (repair)": _get("technician", lambda f: f"/besok/{f['repair']}"),
    "visit page (FU)": _get("technician", lambda f: f"/besok/{f['fu']}"),
    "device card": _get("technician", lambda f: f"/enheter/{f['individnummer']}"),
    "checklist submit": ("technician", "POST", lambda f: f"/besok/{f['fu']}/checklista",
                         lambda r: checklist_form(r.facts["fu_items"])),
    # the prescriber's fittings
    "slot search": ("prescriber", "POST", lambda f: "/utprovningar/boka/tider", _slot_choice),
    "booking": ("prescriber", "POST", lambda f: "/utprovningar/boka/bekrafta", _free_slot),
    # the QR sticker's public pages
    "sticker page": _get("public", lambda f: f"/f/{f['sticker']}"),
    "fault report form": _get("public", lambda f: f"/f/{f['sticker']}/anmal"),
    "fault report": ("public", "MULTIPART", lambda f: f"/f/{f['sticker']}/anmal", _fault_form),
    # the coordinator's lists
    "work order board": _get("coordinator", lambda f: "/arbetsordrar"),
    "work order board, new": _get("coordinator", lambda f: "/arbetsordrar?status=new&sida=2"),
    "work order": _get("coordinator", lambda f: f"/arbetsordrar/{f['order']}"),
    "technician's day (coordinator)": _get(
        "coordinator", lambda f: f"/arbetsordrar/planering?tekniker={f['technician']}&dag={f['day']}"),
    "fault reports to triage": _get("coordinator", lambda f: "/felanmalningar"),
    "FU due list": _get("coordinator", lambda f: "/fu"),
    "FU due list, 3 months": _get("coordinator", lambda f: "/fu?horisont=3-manader&sida=2"),
    "FU due list, by municipality": _get("coordinator", lambda f: f"/fu?horisont=3-manader&kommun={f['cost_bearer']}"),
    "FU due list, by category": _get("coordinator", lambda f: f"/fu?horisont=3-manader&kategori={f['category']}"),
    "FU due list, overdue": _get("coordinator", lambda f: "/fu?status=forfallen"),
    "FU due list, before the next user": _get("coordinator", lambda f: "/fu?vy=fore-ny-brukare"),
    "planning": _get("coordinator", lambda f: "/planering"),
    "planning proposals": _get("coordinator", lambda f: "/planering/forslag"),
    "urgent repairs": _get("coordinator", lambda f: "/planering/akut"),
    "KPI dashboard": _get("coordinator", lambda f: "/oversikt"),
    "KPI split by municipality": _get("coordinator", lambda f: "/oversikt/kpi/reparation?fordelning=kommun"),
    "KPI split by age": _get("coordinator", lambda f: "/oversikt/kpi/reparation?fordelning=alder"),
    # the integrations' API
    "API device list": ("api", "GET", lambda f: "/api/v1/devices?page=2", None),
    # the admin's access-log review
    "access log": _get("admin", lambda f: "/loggkontroll"),
    "access log, a staff member's year": _get(
        "admin", lambda f: f"/loggkontroll?personal={f['technician']}&fran={today() - timedelta(days=365)}"
                           f"&till={today()}"),
    "access log, a patient": _get("admin", lambda f: f"/loggkontroll?patient={f['patient']}"),
    "access log, a care unit": _get("admin", lambda f: f"/loggkontroll?enhet={f['care_unit']}"),
}


async def run_page(r: Region, name: str) -> tuple[httpx.Response, list[Statement], int]:
    """Request the page as its user: the response, the statements it ran, and how many queries
    `db.counting_queries` counted meanwhile (0 on a pool started without counting)."""
    role, method, url, body = PAGES[name]
    url = url(r.facts)
    client = r.public if role == "api" else getattr(r, role)
    data = body(r) if body else None
    if inspect.isawaitable(data):
        data = await data
    if isinstance(data, dict) and "_csrf_token" not in data:
        data = {**data, "_csrf_token": await csrf(client)}
    with db.counting_queries() as counted:
        async with capturing_statements() as statements:
            if role == "api":
                response = await client.get(url, headers={"authorization": f"Bearer {r.facts['api_token']}",
                                                          "accept": "application/json"})
            elif method == "GET":
                response = await client.get(url)
            elif method == "MULTIPART":
                response = await client.post(url, data=data, files={"photo": ("", b"", "application/octet-stream")})
            else:
                response = await client.post(url, data=data)
    return response, statements, counted[0]




async def explain_daily_pages(region: Region, pages: list[str] | None = None, *, out=print,
                              min_rows: int = 1000) -> dict[str, list[dict]]:
    """Request each page (all of PAGES unless named), EXPLAIN (ANALYZE, BUFFERS) its statements and
    print the summary; the explained statements by page."""
    explained = {}
    for name in pages or list(PAGES):
        response, statements, _ = await run_page(region, name)
        if response.status_code not in (200, 303):
            out(f"== {name}: answered {response.status_code}, not explained")
            continue
        explained[name] = await explain_statements(statements, analyze=True)
        summarise(explained[name], page=name, out=out, min_rows=min_rows)
    return explained
