"""No input makes a 500: every route in the access table, as every role, with hostile values.

For each route × role this sends generated requests (a seeded generator rather than
Hypothesis: one request is one example, against a module's shared world and signed-in
browsers): hostile path parameters, query parameters and form fields (NUL and control
characters, invalid UTF-8, numbers beyond the database's integers, dates at the calendar's
ends, very long text), in the wrong content type, with duplicated fields and a "photo"
that is no image. Every answer must be
below 500 and carry the security headers, and a refused one (4xx) must leave no row behind.
A route added to the access table gets this for free.

The default run is short (HOSTILE_EXAMPLES=2 requests per route and role, seeded so a
failure repeats); `HOSTILE_EXAMPLES=50 HOSTILE_SEED=7 pytest tests/http/test_hostile_input.py`
runs longer and differently.
"""

from __future__ import annotations

import json
import os
import random
import re
from pathlib import Path
from urllib.parse import quote, quote_from_bytes

import pytest

from backend import db
from tests.http.test_route_access import ACCESS, ROLES, SIGN_OUT, clients, fault_report, world  # noqa: F401
from tests.support.factories import add_fault_report, device_token
from tests.support.http import csrf, new_client, post_json

EXAMPLES = int(os.environ.get("HOSTILE_EXAMPLES", "2"))
SEED = int(os.environ.get("HOSTILE_SEED", "13"))

BACKEND = Path(__file__).resolve().parents[2] / "backend"

# Every form field some route reads, found in the code: a new field is attacked without a list to keep.
_READS = re.compile(r'(?:\w+\(\s*(?:form|data|fields\(data\)), |(?:form|data)(?:\.get)?[\(\[])"([a-z_]+)"')
FIELDS = sorted({name for path in BACKEND.rglob("*.py") for name in _READS.findall(path.read_text())})

# Not query parameters: what Litestar injects, and the body.
NOT_QUERY = {"request", "scope", "data", "state", "headers", "socket", "self"}

TEXT = [
    "A\x00B", "\x00", "x\x01\x08\x1b[31m\x7f", "rad\r\nrad\ttabb", "", " ", "-1", "0",
    "2147483648", "-2147483649", "99999999999999999999999999", "1e309", "NaN", "Infinity", "-0",
    "0001-01-01", "9999-12-31", "10000-01-01", "2026-02-30", "24:61", "00:00", "1970-01-01T00:00:00",
    "'; DROP TABLE patient; --", "<script>alert(1)</script>", "\u202e\u200b\ufeff", "😀" * 50,
    "Å" * 5000, "9" * 400, "../../etc/passwd", "%00", "true", "on", "[]", "{}",
]
INVALID_UTF8 = [b"\xff\xfe", b"A\xc3\x28B", b"\xed\xa0\x80", b"\x80" * 10]
INT_PATH = ["2147483648", "-2147483649", "99999999999999999999999", "-1", "0"]
STR_PATH = ["A%00B", "%FF%FE", "x" * 3000, "%0A%0D", "..%2F..", "%E2%80%AE", "A" * 22]
NOT_AN_IMAGE = [b"%PDF-1.4 not an image", b"\x89PNG\r\n\x1a\n" + b"\x00" * 20, b"GIF89a", b""]

# Kept per request or written by any request, refused or not: sessions, rate-limit counts,
# reads logged for the record, refused sign-ins recorded for review.
NOT_DOMAIN_ROWS = {"kv_store", "audit_log", "security_event", "piccolo_migration"}
# The access log's monthly partitions (audit_log_2026_12, audit_log_default) and the record of the
# log's own openings (audit_log_use), written by any request as the log itself is.
NOT_DOMAIN_PREFIXES = ("audit_log_",)

_PARAM = re.compile(r"^\{(\w+):(\w+)\}$")


@pytest.fixture(scope="module")
async def tokens(world):
    """Real sticker and case tokens, so the public forms are read rather than 404'd."""
    sticker = await device_token(world, world.devices[0])
    _, case = await add_fault_report(world, world.devices[0])
    return {"/f/AAAAAAAAAAAAAAAAAAAAAA": f"/f/{sticker}", "/arende/AAAAAAAAAAAAAAAAAAAAAA": f"/arende/{case}"}


async def domain_row_counts() -> dict[str, int]:
    tables = [r["relname"] for r in await db.fetch("SELECT relname FROM pg_stat_user_tables ORDER BY relname")
              if r["relname"] not in NOT_DOMAIN_ROWS and not r["relname"].startswith(NOT_DOMAIN_PREFIXES)]
    sql = " UNION ALL ".join(f"SELECT '{t}' AS t, count(*) AS n FROM \"{t}\"" for t in tables)
    return {r["t"]: r["n"] for r in await db.fetch(sql)}


@pytest.fixture(scope="module")
def query_names(app) -> list[str]:
    """Every parameter some handler declares (path parameters included: sent as a query they
    must be ignored), so a new query parameter is attacked without a list to keep."""
    return sorted({name for route in app.routes for handler in getattr(route, "route_handlers", [])
                   for name in handler.parsed_fn_signature.parameters} - NOT_QUERY)


def hostile_path(template: str, concrete: str, query_names: list[str], rng: random.Random) -> str:
    """The concrete path with each path parameter kept or, mostly, replaced by a hostile one."""
    concrete, _, query = concrete.partition("?")
    segments = concrete.split("/")
    for i, part in enumerate(template.split("/")):
        match = _PARAM.match(part)
        if match and rng.random() < 0.6:
            segments[i] = rng.choice(INT_PATH if match.group(2) == "int" else STR_PATH)
    path = "/".join(segments)
    params = [p for p in query.split("&") if p]
    for name in rng.sample(query_names, rng.randint(0, 4)):
        params.append(f"{name}={hostile_query_value(rng)}")
    return path + ("?" + "&".join(params) if params else "")


def hostile_query_value(rng: random.Random) -> str:
    if rng.random() < 0.2:
        return quote_from_bytes(rng.choice(INVALID_UTF8))
    return quote(rng.choice(TEXT)[:500], safe="")


def hostile_fields(rng: random.Random) -> list[tuple[str, str | bytes]]:
    """Every known field, each hostile; some duplicated, some as invalid UTF-8."""
    pairs: list[tuple[str, str | bytes]] = []
    for name in FIELDS:
        value: str | bytes = rng.choice(INVALID_UTF8) if rng.random() < 0.1 else rng.choice(TEXT)
        pairs.append((name, value))
        if rng.random() < 0.1:
            pairs.append((name, rng.choice(TEXT)))  # the same field twice
    return pairs


def urlencoded(pairs: list[tuple[str, str | bytes]], token: str) -> bytes:
    parts = [f"{quote(k)}={quote_from_bytes(v if isinstance(v, bytes) else v.encode())}" for k, v in pairs]
    return "&".join([*parts, f"_csrf_token={token}"]).encode()


def multipart(pairs: list[tuple[str, str | bytes]], token: str, rng: random.Random) -> tuple[bytes, str]:
    boundary = "hostile" + str(rng.randrange(10**9))
    chunks = []
    for name, value in [*pairs, ("_csrf_token", token)]:
        raw = value if isinstance(value, bytes) else value.encode()
        if name in ("photo", "photos"):
            chunks.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="bild.jpg"\r\n'
                          f"Content-Type: image/jpeg\r\n\r\n".encode() + rng.choice(NOT_AN_IMAGE) + b"\r\n")
        else:
            chunks.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
                          + raw + b"\r\n")
    chunks.append(f"--{boundary}--\r\n".encode())
    return b"".join(chunks), f"multipart/form-data; boundary={boundary}"


async def hostile_request(client, method: str, url: str, rng: random.Random):
    if method == "GET":
        return await client.get(url)
    token = await csrf(client)
    headers = {"x-csrftoken": token}
    pairs = hostile_fields(rng)
    kind = rng.choice(["form", "form", "multipart", "multipart", "json", "plain"])
    if kind == "form":
        headers["content-type"] = "application/x-www-form-urlencoded"
        body = urlencoded(pairs, token)
    elif kind == "multipart":
        body, headers["content-type"] = multipart(pairs, token, rng)
    elif kind == "json":
        headers["content-type"] = "application/json"
        body = json.dumps(rng.choice([{}, {"response": 1}, {"id": "\x00", "rawId": "A\x00", "response": {}},
                                      {k: v for k, v in pairs if isinstance(v, str)}, [1, 2], "x"])).encode()
    else:
        headers["content-type"] = rng.choice(["text/plain", "application/xml", "image/png"])
        body = bytes(rng.randrange(256) for _ in range(200))
    return await client.post(url, content=body, headers=headers)


@pytest.mark.parametrize("role", ROLES)
async def test_no_route_answers_hostile_input_with_a_server_error(app, clients, world, tokens, query_names, role):
    rng = random.Random(f"{SEED}-{role}")
    failures, sent = [], 0
    for (method, template), (path, _) in sorted(ACCESS.items()):
        if (method, template) in SIGN_OUT and role != "anonymous":
            continue  # signing out reads no field, and would end the shared client's session
        concrete = path.format(**world.paths)
        for prefix, real in tokens.items():
            concrete = concrete.replace(prefix, real)
        for _ in range(EXAMPLES):
            url = hostile_path(template, concrete, query_names, rng)
            # A fresh anonymous browser each time, so the per-address rate limits do not answer for the route.
            client = new_client(app) if role == "anonymous" else clients[role]
            before = await domain_row_counts()
            response = await hostile_request(client, method, url, rng)
            sent += 1
            if role == "anonymous":
                await client.aclose()
            where = f"{method} {url[:120]!r} ({role})"
            if response.status_code >= 500:
                failures.append(f"{where}: {response.status_code}")
            elif "x-content-type-options" not in response.headers:
                failures.append(f"{where}: {response.status_code} without the security headers")
            elif 400 <= response.status_code < 500:
                after = await domain_row_counts()
                changed = {t: (before[t], after.get(t)) for t in before if before[t] != after.get(t)}
                if changed:
                    failures.append(f"{where}: refused ({response.status_code}) but rows changed: {changed}")
    print(f"hostile input: {sent} requests as {role}")
    assert not failures, f"{len(failures)} of {sent}:\n" + "\n".join(failures[:40])


# --- the cases found by hand, each a rule of its own --------------------------------------------

REPORT = {"problems": "no_drive", "description": "Den piper", "usable": "no", "can_bring_in": "no",
          "needs_replacement": "no", "location": "usual", "contact_name": "Kim", "contact_phone": "070-123 45 67"}


async def count(table: str) -> int:
    return await db.fetchval(f'SELECT count(*) FROM "{table}"')


async def test_a_nul_byte_in_the_public_report_is_refused_next_to_the_field_and_nothing_is_stored(app, tokens):
    before = await count("fault_report")
    async with new_client(app) as client:
        response = await client.post(f"{tokens['/f/AAAAAAAAAAAAAAAAAAAAAA']}/anmal", data={
            **REPORT, "description": "Den\x00piper", "_csrf_token": await csrf(client)})
    assert response.status_code == 400
    assert "Texten innehåller tecken som inte kan sparas" in response.text
    assert await count("fault_report") == before


async def test_invalid_utf8_in_a_multipart_report_is_refused_and_nothing_is_stored(app, tokens):
    before = await count("fault_report")
    async with new_client(app) as client:
        token = await csrf(client)
        pairs = [*REPORT.items(), ("description", b"Den \xff\xfe piper")]
        body, content_type = multipart(pairs, token, random.Random(1))
        response = await client.post(f"{tokens['/f/AAAAAAAAAAAAAAAAAAAAAA']}/anmal", content=body,
                                     headers={"content-type": content_type, "x-csrftoken": token})
    assert 400 <= response.status_code < 500
    assert await count("fault_report") == before


async def test_an_id_beyond_the_database_integers_is_a_page_that_does_not_exist(clients):
    for url in ("/patienter/2147483648", "/arbetsordrar/2147483648", "/felanmalningar/99999999999999999999",
                "/utprovningar/bokningar/-2147483649"):
        response = await clients["coordinator"].get(url)
        assert response.status_code == 404, url
        assert "Sidan finns inte" in response.text


async def test_a_nul_byte_in_a_path_is_a_client_error(clients):
    response = await clients["technician"].get("/enheter/A%00B")
    assert 400 <= response.status_code < 500
    assert "x-content-type-options" in response.headers


async def test_a_number_beyond_the_database_integers_in_a_form_field_is_refused_with_a_message(clients):
    client = clients["admin"]
    before = await count("invitation")
    response = await client.post("/admin/inbjudningar", data={
        "name": "Anna", "role": "technician", "staff_user": "2147483648", "_csrf_token": await csrf(client)})
    assert response.status_code == 400
    assert "Ogiltigt val." in response.text
    assert await count("invitation") == before


async def test_a_passkey_credential_that_is_not_one_is_refused_and_the_invitation_stays_open(app, world):
    from backend.accounts import service

    token, _ = await service.create_invitation(organisation_id=world.organisation, name="Ny Person",
                                               role="technician")
    async with new_client(app) as client:
        for credential in ({}, {"id": "x", "rawId": "x", "type": "public-key"}, {"id": "x", "rawId": "x", "response": 1},
                           {"id": "eA", "rawId": "eA", "type": "public-key", "response": {"clientDataJSON": "e30",
                                                                                      "attestationObject": "oA"}}):
            assert (await post_json(client, f"/inbjudan/{token}/alternativ")).status_code == 201
            response = await post_json(client, f"/inbjudan/{token}/registrera", credential)
            assert response.status_code == 400, credential
            assert "Passkeyn kunde inte registreras" in response.json()["error"] or response.json()
        assert (await client.get(f"/inbjudan/{token}")).status_code == 200  # still usable


async def test_dates_at_the_calendars_edges_are_client_errors(clients):
    pages = {"technician": ["/min-dag?dag=0001-01-01", "/min-dag?dag=9999-12-31"],
             "coordinator": [f"/arbetsordrar/planering?tekniker=1&dag={d}" for d in ("0001-01-01", "9999-12-31")],
             "consultant": [f"/utprovningar/kalender?{q}" for q in ("dag=0001-01-01", "dag=9999-12-31",
                                                                     "vecka=9999-12-31", "fran=0001-01-01")]}
    for role, urls in pages.items():
        for url in urls:
            response = await clients[role].get(url)
            assert response.status_code < 500, (role, url, response.status_code)


async def test_an_absence_at_the_calendars_edge_is_refused_and_nothing_is_stored(clients):
    client = clients["consultant"]
    before = await count("availability_exception")
    for first, last in (("0001-01-01", "0001-01-02"), ("9999-12-30", "9999-12-31")):
        response = await client.post("/utprovningar/tillganglighet/franvaro", data={
            "first_day": first, "last_day": last, "_csrf_token": await csrf(client)})
        assert response.status_code == 400
        assert "Välj ett datum mellan" in response.text
    assert await count("availability_exception") == before


async def test_the_slot_search_with_a_bad_area_and_a_patient_that_is_no_number_is_refused(clients):
    client = clients["prescriber"]
    response = await client.post("/utprovningar/boka/tider", data={
        "product_area": "x", "patient": "abc", "place": "hmc", "referral_date": "2026-03-01",
        "_csrf_token": await csrf(client)})
    assert response.status_code == 400
    assert "Välj produktområde." in response.text


async def test_a_long_session_cookie_is_ignored_not_a_server_error(app):
    for value in ("a" * 300, "x" * 5000, "A\x01B"):
        async with new_client(app) as client:
            client.cookies.set("runda_session", value)
            response = await client.get("/logga-in")
        assert response.status_code == 200, value[:10]
        assert "x-content-type-options" in response.headers


async def test_data_the_database_cannot_hold_is_a_client_error_and_nothing_is_half_written(app):
    """The net under the readers: whatever a reader misses, asyncpg's or PostgreSQL's data
    error (class 22) is a 400, or a 404 for a path id beyond any row, and its transaction is
    rolled back. A route of its own writes a row and then hits the error."""
    from litestar import Litestar, get
    from litestar.params import FromPath, FromQuery

    from backend.web import before_send, template_config

    @get("/probe/{n:int}", opt={"public": True})
    async def probe(n: FromPath[int], text: FromQuery[str]) -> str:
        async with db.transaction():
            await db.execute("INSERT INTO kv_store (namespace, key, value) VALUES ('probe', 'hostile', ''::bytea)")
            await db.fetchval("SELECT $1::int4, $2::text", n, text)
        return "ok"

    probe_app = Litestar([probe], exception_handlers=app.exception_handlers, template_config=template_config(),
                         before_send=[before_send])
    async with new_client(probe_app) as client:
        assert (await client.get("/probe/1?text=ok")).status_code == 200
        await db.execute("DELETE FROM kv_store WHERE namespace = 'probe'")
        beyond = await client.get("/probe/2147483648?text=ok")
        nul = await client.get("/probe/1?text=A%00B")
    assert beyond.status_code == 404 and "Sidan finns inte" in beyond.text
    assert nul.status_code == 400 and "inte kan tas emot" in nul.text
    assert "x-content-type-options" in nul.headers
    assert await db.fetchval("SELECT count(*) FROM kv_store WHERE namespace = 'probe'") == 0
