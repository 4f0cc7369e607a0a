"""Pages every visitor meets: health check, error pages, security headers, static files."""

import re

from backend.web import CONTENT_SECURITY_POLICY, TEMPLATES_DIR


async def test_healthz_reports_the_database(client):
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_unknown_page_is_a_swedish_404_with_security_headers(client):
    response = await client.get("/finns-inte")
    assert response.status_code == 404
    assert "Sidan finns inte" in response.text
    assert '<html lang="sv">' in response.text
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"


async def test_wrong_method_is_a_swedish_error_not_a_stack_trace(client):
    response = await client.delete("/healthz")
    assert response.status_code == 405
    assert "Traceback" not in response.text
    assert "Det går inte att göra så här" in response.text


async def test_csp_forbids_inline_script_and_foreign_origins(client):
    csp = (await client.get("/logga-in")).headers["content-security-policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "http" not in csp


async def test_base_layout_has_landmarks_and_a_skip_link(client):
    page = (await client.get("/logga-in")).text
    assert 'class="skip-link" href="#main"' in page
    assert '<main id="main"' in page
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page


def test_no_template_contains_inline_script_or_event_handlers():
    for path in TEMPLATES_DIR.rglob("*.html"):
        text = path.read_text()
        for tag in re.findall(r"<script\b[^>]*>", text):
            assert "src=" in tag, f"{path}: inline <script> (CSP forbids it)"
        assert not re.search(r"\son[a-z]+\s*=", text), f"{path}: inline event handler"
        assert not re.search(r"\sstyle\s*=", text), f"{path}: inline style attribute"
        assert "//cdn" not in text and "googleapis" not in text, f"{path}: third-party origin"


async def test_static_files_read_no_session(app, client, monkeypatch):
    # Each page loads several static files; none of them may cost a session look-up.
    from backend.accounts.store import PostgresStore

    calls = []
    original = PostgresStore.get

    async def counting_get(self, key, renew_for=None):
        calls.append(key)
        return await original(self, key, renew_for)

    monkeypatch.setattr(PostgresStore, "get", counting_get)
    client.cookies.set("runda_session", "some-session-id")
    assert (await client.get("/static/css/runda.css")).status_code == 200
    assert (await client.get("/healthz")).status_code == 200
    assert calls == []
    assert (await client.get("/konto")).status_code in (303, 401)
    assert calls == ["some-session-id"]
