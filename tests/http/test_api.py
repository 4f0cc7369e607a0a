"""The JSON API under /api/v1: only an API token gets in (never a session), its scope decides
whether it may write, a revoked token is refused at once, an organisation's token sees only its
own data, every patient it reads is in the access log under the token, calls are counted per
token, and the served OpenAPI schema is valid and describes the API alone."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest
from litestar import Litestar
from openapi_spec_validator import validate

from backend import db
from backend.accounts.service import Actor
from backend.accounts.store import PostgresStore
from backend.accounts.tables import Role
from backend.integrations import api_routes
from backend.integrations import service as integrations
from backend.web import before_send
from tests.http.test_hostile_input import domain_row_counts, hostile_path, hostile_request
from tests.support.factories import add_device, add_fault_report, add_patient, add_work_order, delete_world, make_world
from tests.support.http import csrf, new_client, post_form, signed_in_client

API = "/api/v1"


def admin_of(world) -> Actor:
    return Actor(id=world.staff["admin"], organisation=world.organisation, name="Test admin", role=Role.admin,
                 care_unit=None)


@pytest.fixture(scope="module")
async def worlds(database):
    home, away = await make_world("Region Hem"), await make_world("Region Borta")
    home.patient = await add_patient(home, given="Greta", family="Innehavare")
    home.device = await add_device(home, home.patient, "H000001")
    await add_device(home, None, "H000002")
    await db.execute("UPDATE device SET next_fu_date = $2, last_fu_date = $3 WHERE id = $1",
                     home.device, date.today() - timedelta(days=3), date.today() - timedelta(days=368))
    home.order = await add_work_order(home, home.device, patient=home.patient, status="new")
    home.order_number = await db.fetchval("SELECT number FROM work_order WHERE id = $1", home.order)
    await add_fault_report(home, home.device)
    away.patient = await add_patient(away, given="Johan", family="Bortaregion")
    away.device = await add_device(away, away.patient, "B000001")
    away.order = await add_work_order(away, away.device, patient=away.patient, status="new")
    away.order_number = await db.fetchval("SELECT number FROM work_order WHERE id = $1", away.order)
    await add_fault_report(away, away.device)
    for world in (home, away):
        world.read_id, world.read_token = await integrations.create_token(admin_of(world), name="BI", scope="read")
        world.write_id, world.write_token = await integrations.create_token(admin_of(world), name="webSesam",
                                                                            scope="write")
    yield home, away
    await delete_world(home)
    await delete_world(away)


@pytest.fixture
async def client(app):
    async with new_client(app) as client:
        yield client


def bearer(token: str) -> dict:
    return {"authorization": f"Bearer {token}", "accept": "application/json"}


async def count(sql: str, *args) -> int:
    return await db.fetchval(sql, *args)


# --- the schema ----------------------------------------------------------------------------------


async def test_the_served_schema_is_valid_openapi_and_describes_the_api_alone(app, client):
    response = await client.get(f"{API}/schema/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    validate(schema)  # raises on an invalid document
    paths = set(schema["paths"])
    assert paths and all(path.startswith(f"{API}/") for path in paths)
    assert {f"{API}/devices", f"{API}/devices/{{individnummer}}", f"{API}/devices/{{individnummer}}/fu-status",
            f"{API}/articles", f"{API}/work-orders", f"{API}/work-orders/{{number}}", f"{API}/fault-reports"} == paths
    assert schema["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    # Response models, so the payloads are described, errors included.
    device_list = schema["paths"][f"{API}/devices"]["get"]["responses"]
    assert device_list["200"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/DevicePage"}
    assert device_list["401"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ApiError"}
    assert "RepairOrderIn" in schema["components"]["schemas"]


async def test_the_interactive_documentation_is_for_admins_and_loads_nothing_from_elsewhere(app, worlds):
    home, _ = worlds
    admin = await signed_in_client(app, home.organisation, home.staff["admin"])
    coordinator = await signed_in_client(app, home.organisation, home.staff["coordinator"])
    page = await admin.get("/admin/api-nycklar/dokumentation")
    assert page.status_code == 200
    assert f"GET {API}/devices" in page.text and f"POST {API}/work-orders" in page.text
    assert "Kräver skrivbehörighet" in page.text and "RepairOrderIn" in page.text
    assert "<script" not in page.text.split("</main>")[0].split("<main")[-1]
    assert "cdn" not in page.text.lower()
    assert (await coordinator.get("/admin/api-nycklar/dokumentation")).status_code == 403
    await admin.aclose()
    await coordinator.aclose()


# --- who gets in ---------------------------------------------------------------------------------


async def test_a_call_without_a_token_is_refused_with_a_swedish_message(client):
    response = await client.get(f"{API}/devices", headers={"accept": "application/json"})
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert "API-nyckel" in response.json()["message"]


@pytest.mark.parametrize("authorization", [
    "Basic dXNlcjpwYXNz", "Bearer", "Bearer not-a-token", "Bearer runda_" + "A" * 43, "runda_" + "A" * 43,
])
async def test_anything_but_a_known_token_is_refused(client, authorization):
    response = await client.get(f"{API}/articles", headers={"authorization": authorization})
    assert response.status_code == 401
    assert response.json()["message"]


async def test_a_signed_in_session_is_no_key_to_the_api(app, worlds):
    home, _ = worlds
    admin = await signed_in_client(app, home.organisation, home.staff["admin"])
    assert (await admin.get("/admin/api-nycklar")).status_code == 200  # the session works on pages
    orders = await count("SELECT count(*) FROM work_order WHERE organisation = $1", home.organisation)
    assert (await admin.get(f"{API}/devices")).status_code == 401
    response = await admin.post(f"{API}/work-orders", json={"individnummer": "H000001", "description": "Trasig"},
                                headers={"x-csrftoken": await csrf(admin)})
    assert response.status_code == 401
    assert await count("SELECT count(*) FROM work_order WHERE organisation = $1", home.organisation) == orders
    await admin.aclose()


async def test_a_revoked_token_is_refused_at_once(client, worlds):
    home, _ = worlds
    token_id, token = await integrations.create_token(admin_of(home), name="Gammal", scope="read")
    assert (await client.get(f"{API}/articles", headers=bearer(token))).status_code == 200
    await integrations.revoke_token(admin_of(home), token_id)
    response = await client.get(f"{API}/articles", headers=bearer(token))
    assert response.status_code == 401


async def test_a_call_notes_when_the_token_was_last_used(client, worlds):
    home, _ = worlds
    token_id, token = await integrations.create_token(admin_of(home), name="Ny", scope="read")
    assert (await integrations.token(home.organisation, token_id))["last_used_at"] is None
    await client.get(f"{API}/articles", headers=bearer(token))
    assert (await integrations.token(home.organisation, token_id))["last_used_at"] is not None


# --- reading -------------------------------------------------------------------------------------


async def test_devices_list_with_filters_and_paging_and_the_holder_read_is_logged_under_the_token(client, worlds):
    home, _ = worlds
    response = await client.get(f"{API}/devices", headers=bearer(home.read_token))
    assert response.status_code == 200
    # Patient data: never kept in a cache; and no session or CSRF cookie for a token's call.
    assert response.headers["cache-control"] == "private, no-store" and "set-cookie" not in response.headers
    body = response.json()
    assert body["page"] == 1 and body["has_more"] is False
    by_number = {d["individnummer"]: d for d in body["items"]}
    assert by_number["H000001"]["holder"] == {"given_name": "Greta", "family_name": "Innehavare"}
    assert by_number["H000002"]["holder"] is None
    depot = (await client.get(f"{API}/devices?placement=depot", headers=bearer(home.read_token))).json()
    assert [d["individnummer"] for d in depot["items"]] == ["H000002"]
    assert (await client.get(f"{API}/devices?status=broken", headers=bearer(home.read_token))).status_code == 400
    assert (await client.get(f"{API}/devices?page=0", headers=bearer(home.read_token))).status_code == 400
    rows = await db.fetch("SELECT staff_user, api_token, role, patient, what FROM audit_log WHERE api_token = $1",
                          home.read_id)
    assert {(r["patient"], r["what"]) for r in rows} == {(home.patient, "device_register")}
    assert all(r["staff_user"] is None and r["role"] == "integration" for r in rows)


async def test_one_device_names_its_holder_and_the_read_is_logged(client, worlds):
    home, _ = worlds
    token_id, token = await integrations.create_token(admin_of(home), name="Ett hjälpmedel", scope="read")
    device = (await client.get(f"{API}/devices/h000001", headers=bearer(token))).json()
    assert device["individnummer"] == "H000001" and device["holder"]["family_name"] == "Innehavare"
    assert device["fu_schedules"][0]["interval_days"] == 365
    assert await count("SELECT count(*) FROM audit_log WHERE api_token = $1 AND patient = $2 AND what = 'device_card'",
                       token_id, home.patient) == 1
    missing = await client.get(f"{API}/devices/X999999", headers=bearer(token))
    assert missing.status_code == 404 and missing.json()["message"] == "Hjälpmedlet finns inte."


async def test_fu_status_says_when_fu_is_overdue_and_reads_no_patient(client, worlds):
    home, _ = worlds
    token_id, token = await integrations.create_token(admin_of(home), name="FU", scope="read")
    status = (await client.get(f"{API}/devices/H000001/fu-status", headers=bearer(token))).json()
    assert status["overdue"] is True and status["days_overdue"] == 3
    assert status["next_fu_date"] == (date.today() - timedelta(days=3)).isoformat()
    assert status["fu_interval_days"] == 365 and "holder" not in status
    assert await count("SELECT count(*) FROM audit_log WHERE api_token = $1", token_id) == 0


async def test_articles_work_orders_and_fault_reports_are_read(client, worlds):
    home, _ = worlds
    articles = (await client.get(f"{API}/articles", headers=bearer(home.read_token))).json()
    assert articles["total"] == 1 and articles["items"][0]["article_number"] == "100200"
    orders = (await client.get(f"{API}/work-orders?status=new", headers=bearer(home.read_token))).json()
    assert [o["number"] for o in orders["items"]] == [home.order_number]
    assert (await client.get(f"{API}/work-orders?status=completed", headers=bearer(home.read_token))).status_code == 400
    order = (await client.get(f"{API}/work-orders/{home.order_number}", headers=bearer(home.read_token))).json()
    assert order["number"] == home.order_number and order["individnummer"] == "H000001"
    assert order["events"] == [] and "patient" not in order
    reports = (await client.get(f"{API}/fault-reports", headers=bearer(home.read_token))).json()
    assert [r["individnummer"] for r in reports] == ["H000001"]
    assert reports[0]["holder"]["given_name"] == "Greta"
    assert await count("SELECT count(*) FROM audit_log WHERE api_token = $1 AND what = 'fault_queue'",
                       home.read_id) >= 1


async def test_an_organisations_token_never_sees_another_organisations_data(client, worlds):
    home, away = worlds
    headers = bearer(away.write_token)
    devices = (await client.get(f"{API}/devices", headers=headers)).json()
    assert [d["individnummer"] for d in devices["items"]] == ["B000001"]
    assert (await client.get(f"{API}/devices/H000001", headers=headers)).status_code == 404
    assert (await client.get(f"{API}/devices/H000001/fu-status", headers=headers)).status_code == 404
    assert (await client.get(f"{API}/work-orders/{home.order_number}", headers=headers)).status_code == 404
    orders = (await client.get(f"{API}/work-orders", headers=headers)).json()
    assert home.order_number not in [o["number"] for o in orders["items"]]
    assert [r["individnummer"] for r in (await client.get(f"{API}/fault-reports", headers=headers)).json()] == [
        "B000001"]
    before = await count("SELECT count(*) FROM work_order WHERE organisation = $1", home.organisation)
    refused = await client.post(f"{API}/work-orders", headers=headers,
                                json={"individnummer": "H000001", "description": "Trasig"})
    assert refused.status_code == 400 and refused.json()["field"] == "individnummer"
    assert await count("SELECT count(*) FROM work_order WHERE organisation = $1", home.organisation) == before
    assert await count("SELECT count(*) FROM audit_log WHERE api_token = $1 AND patient = $2", away.write_id,
                       home.patient) == 0


# --- writing -------------------------------------------------------------------------------------


async def test_a_read_token_cannot_create_a_work_order(client, worlds):
    home, _ = worlds
    before = await count("SELECT count(*) FROM work_order WHERE organisation = $1", home.organisation)
    response = await client.post(f"{API}/work-orders", headers=bearer(home.read_token),
                                 json={"individnummer": "H000001", "description": "Bromsen tar inte"})
    assert response.status_code == 403
    assert "skriva" in response.json()["message"]
    assert await count("SELECT count(*) FROM work_order WHERE organisation = $1", home.organisation) == before


async def test_a_write_token_orders_a_repair_with_the_holder_as_patient(client, worlds):
    home, _ = worlds
    response = await client.post(f"{API}/work-orders", headers=bearer(home.write_token), json={
        "individnummer": "h000001", "description": "Bromsen tar inte", "type": "repair_hmc",
        "site_contact": "Ring Greta 070-111 22 33"})
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["status"] == "new" and created["type"] == "repair_hmc" and created["finish_due"]
    assert response.headers["location"] == f"{API}/work-orders/{created['number']}"
    row = await db.fetchrow("SELECT channel, patient, description, site_contact, orderer FROM work_order "
                            "WHERE organisation = $1 AND number = $2", home.organisation, created["number"])
    assert dict(row) == {"channel": "hmc", "patient": home.patient, "description": "Bromsen tar inte",
                         "site_contact": "Ring Greta 070-111 22 33", "orderer": None}
    again = await client.get(response.headers["location"], headers=bearer(home.read_token))
    assert again.json()["events"][0]["kind"] == "created"


@pytest.mark.parametrize("content_type, body", [
    ("application/x-www-form-urlencoded", b"individnummer=H000001&description=Trasig"),
    ("multipart/form-data; boundary=x", b"--x\r\nContent-Disposition: form-data; name=\"description\"\r\n\r\nT\r\n--x--\r\n"),
    ("text/plain", b"Trasig"),
    (None, b""),
])
async def test_a_write_that_is_not_json_is_refused_and_nothing_is_written(client, worlds, content_type, body):
    home, _ = worlds
    before = await domain_row_counts()
    headers = {**bearer(home.write_token), **({"content-type": content_type} if content_type else {})}
    response = await client.post(f"{API}/work-orders", headers=headers, content=body)
    assert response.status_code == 415
    assert response.json()["message"].startswith("Skicka uppgifterna som JSON")
    assert await domain_row_counts() == before


@pytest.mark.parametrize("body, field", [
    (b"{not json", None),
    (b"[1, 2]", None),
    (b'{"individnummer": "H000001"}', "description"),
    (b'{"individnummer": "H000001", "description": "Trasig", "type": "maintenance"}', "type"),
    (b'{"individnummer": "H000001", "description": "Tra\\u0000sig"}', "description"),
    (b'{"individnummer": "H000001", "description": "   "}', "description"),
    (b'{"individnummer": "' + b"9" * 400 + b'", "description": "Trasig"}', "individnummer"),
])
async def test_a_write_with_bad_json_is_refused_with_a_swedish_message_and_nothing_is_written(
        client, worlds, body, field):
    home, _ = worlds
    before = await domain_row_counts()
    response = await client.post(f"{API}/work-orders", content=body,
                                 headers={**bearer(home.write_token), "content-type": "application/json"})
    assert response.status_code == 400, response.text
    assert response.json()["field"] == field and response.json()["message"]
    assert await domain_row_counts() == before


# --- how often -------------------------------------------------------------------------------------


async def test_calls_are_limited_per_token(worlds):
    home, _ = worlds
    _, other = await integrations.create_token(admin_of(home), name="Annan", scope="read")
    limited = Litestar([api_routes.api_router(requests_per_minute=3)], stores={"rate_limit": PostgresStore("rate_limit")},
                       before_send=[before_send])
    async with new_client(limited) as client:
        token_id, token = await integrations.create_token(admin_of(home), name="Ivrig", scope="read")
        answers = [(await client.get(f"{API}/articles", headers=bearer(token))).status_code for _ in range(4)]
        assert answers == [200, 200, 200, 429]
        refused = await client.get(f"{API}/articles", headers=bearer(token))
        assert refused.json()["message"].startswith("För många anrop") and int(refused.headers["retry-after"]) >= 1
        # Another integration's calls are its own.
        assert (await client.get(f"{API}/articles", headers=bearer(other))).status_code == 200


# --- hostile input ---------------------------------------------------------------------------------

API_ROUTES = [
    ("GET", f"{API}/devices", f"{API}/devices"),
    ("GET", f"{API}/devices/{{individnummer:str}}", f"{API}/devices/H000001"),
    ("GET", f"{API}/devices/{{individnummer:str}}/fu-status", f"{API}/devices/H000001/fu-status"),
    ("GET", f"{API}/articles", f"{API}/articles"),
    ("GET", f"{API}/work-orders", f"{API}/work-orders"),
    ("POST", f"{API}/work-orders", f"{API}/work-orders"),
    ("GET", f"{API}/work-orders/{{number:str}}", f"{API}/work-orders/AO-2026-000001"),
    ("GET", f"{API}/fault-reports", f"{API}/fault-reports"),
]
QUERY_NAMES = ["search", "status", "placement", "page", "type", "spare_parts", "individnummer", "number"]


@pytest.mark.parametrize("scope", ["read", "write"])
async def test_hostile_input_with_a_valid_token_is_never_a_server_error(app, worlds, scope):
    """The route-access table's browsers hold no token (every API route answers them 401): here
    the same hostile paths, queries and bodies come with a token, so the routes read them."""
    home, _ = worlds
    token = home.read_token if scope == "read" else home.write_token
    rng = random.Random(f"api-{scope}")
    failures = []
    async with new_client(app) as client:
        client.headers.update(bearer(token))
        for method, template, concrete in API_ROUTES:
            for _ in range(6):
                url = hostile_path(template, concrete, QUERY_NAMES, rng)
                before = await domain_row_counts()
                response = await hostile_request(client, method, url, rng)
                where = f"{method} {url[:100]!r}"
                if response.status_code >= 500:
                    failures.append(f"{where}: {response.status_code}")
                elif "x-content-type-options" not in response.headers:
                    failures.append(f"{where}: no security headers")
                elif response.status_code >= 400:
                    # A path that matches no route at all (a hostile segment with a slash in it) is
                    # the app's own 404 or 405 page; every answer of an API route is JSON.
                    is_json = response.headers.get("content-type", "").startswith("application/json")
                    if not is_json and response.status_code not in (404, 405):
                        failures.append(f"{where}: {response.status_code} not as JSON")
                    changed = {t for t, n in (await domain_row_counts()).items() if before.get(t) != n}
                    if changed:
                        failures.append(f"{where}: refused but rows changed in {changed}")
    assert not failures, "\n".join(failures)


# --- the admin's pages -----------------------------------------------------------------------------


async def test_an_admin_creates_a_token_that_is_shown_once_and_stored_only_as_a_hash(app, worlds):
    home, _ = worlds
    admin = await signed_in_client(app, home.organisation, home.staff["admin"])
    empty = await post_form(admin, "/admin/api-nycklar", {"name": " ", "scope": "write"})
    assert empty.status_code == 400 and "Skriv vilken integration" in empty.text
    page = await post_form(admin, "/admin/api-nycklar", {"name": "1177", "scope": "write"})
    assert page.status_code == 200
    token = page.text.split('id="new-token"')[1].split('value="')[1].split('"')[0]
    assert integrations.looks_like_token(token)
    assert "Den visas bara den här gången" in page.text
    row = await db.fetchrow("SELECT id, token_hash, prefix, scope, created_by FROM api_token WHERE organisation = $1 "
                            "AND name = '1177'", home.organisation)
    assert row["prefix"] == token[:len(row["prefix"])] and token.encode() not in bytes(row["token_hash"])
    assert row["scope"] == "write" and row["created_by"] == home.staff["admin"]
    listing = await admin.get("/admin/api-nycklar")
    assert token not in listing.text and row["prefix"] in listing.text
    assert (await new_client(app).get(f"{API}/articles", headers=bearer(token))).status_code == 200
    await admin.aclose()


async def test_an_admin_revokes_a_token_and_its_history_says_who_and_when(app, worlds):
    home, _ = worlds
    token_id, token = await integrations.create_token(admin_of(home), name="Att återkalla", scope="read")
    admin = await signed_in_client(app, home.organisation, home.staff["admin"])
    response = await post_form(admin, f"/admin/api-nycklar/{token_id}/aterkalla")
    assert response.status_code == 303
    page = await admin.get(response.headers["location"])
    assert "Nyckeln är återkallad" in page.text and "Återkallad" in page.text and "Inaktiverad" in page.text
    assert (await post_form(admin, f"/admin/api-nycklar/{token_id}/aterkalla")).status_code == 400
    assert [c.action for c in await integrations.history(home.organisation, token_id)] == ["deactivated", "created"]
    async with new_client(app) as client:
        assert (await client.get(f"{API}/articles", headers=bearer(token))).status_code == 401
    # Another organisation's admin finds no such token.
    _, away = worlds
    other = await signed_in_client(app, away.organisation, away.staff["admin"])
    assert (await other.get(f"/admin/api-nycklar/{home.read_id}")).status_code == 404
    assert (await post_form(other, f"/admin/api-nycklar/{home.read_id}/aterkalla")).status_code == 404
    await admin.aclose()
    await other.aclose()


async def test_an_api_address_that_does_not_exist_is_answered_in_json(client):
    for method, path in (("GET", "/api/v1/finns-inte"), ("DELETE", "/api/v1/devices")):
        response = await client.request(method, path)
        assert response.status_code in (404, 405)
        assert response.headers["content-type"].startswith("application/json")
        assert response.json()["message"]
