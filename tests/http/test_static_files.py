"""Static files under content-hashed names: kept a year by browsers, never stale; htmx only
where a page uses it; the service worker's shell follows every change."""

import re
import time
import shutil

import pytest

from backend import assets
from backend.system import routes as system_routes
from tests.support.http import signed_in_client
from tests.support.factories import delete_world, make_world


async def test_a_page_links_its_files_by_content_hash_and_they_are_kept_a_year(client):
    page = (await client.get("/logga-in")).text
    links = re.findall(r'(?:href|src)="(/static/[^"]+)"', page)
    assert any(link.endswith(".css") for link in links) and any(link.endswith(".js") for link in links)
    for link in links:
        assert re.search(r"\.[0-9a-f]{10}\.[a-z0-9]+$", link), link
        response = await client.get(link)
        assert response.status_code == 200, link
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
        # Pages send nosniff: a script or a style of the wrong type would not run.
        expected = {"css": "text/css", "js": "text/javascript", "png": "image/png"}[link.rsplit(".", 1)[1]]
        assert response.headers["content-type"].split(";")[0] == expected, link


async def test_an_old_hash_or_a_plain_name_gets_the_present_file_to_revalidate(client):
    current = assets.static("css/runda.css")
    present = (await client.get(current)).content
    for address in ("/static/css/runda.0000000000.css", "/static/css/runda.css"):
        response = await client.get(address)
        assert response.status_code == 200
        assert response.content == present
        assert response.headers["cache-control"] == "no-cache"


@pytest.mark.parametrize("address", ["/static/../backend/settings.py", "/static/%2e%2e/pyproject.toml",
                                     "/static/css", "/static/css/none.1234567890.css", "/static/css/none.css"])
async def test_nothing_outside_the_static_files_is_served(client, address):
    assert (await client.get(address)).status_code == 404


async def test_public_pages_load_no_htmx_and_pages_that_use_it_do(app, database):
    world = await make_world()
    try:
        prescriber = await signed_in_client(app, world.organisation, world.staff["prescriber"])
        search = (await prescriber.get("/patienter")).text
        assert "hx-post" in search
        assert re.search(r'<script src="/static/js/vendor/htmx-[\d.]+\.min\.[0-9a-f]{10}\.js"', search)
        account = (await prescriber.get("/konto")).text
        assert "/js/vendor/htmx" not in account and "hx-" not in account
        await prescriber.aclose()
    finally:
        await delete_world(world)


async def test_the_service_worker_keeps_the_hashed_files_and_changes_when_any_does(tmp_path, monkeypatch, client):
    served = await client.get("/sw.js")
    assert served.headers["cache-control"] == "no-cache"
    assert f'"{assets.static("css/runda.css")}"' in served.text
    assert f'importScripts("{assets.static("js/outbox.js")}")' in served.text
    version = re.search(r'const VERSION = "([0-9a-f]{10})";', served.text).group(1)

    copy = tmp_path / "static"
    shutil.copytree(assets.STATIC_DIR, copy)
    monkeypatch.setattr(assets, "STATIC_DIR", copy)
    monkeypatch.setattr(system_routes, "STATIC_DIR", copy)
    assert re.search(r'const VERSION = "([0-9a-f]{10})";', system_routes.service_worker_source()).group(1) == version
    (copy / "css" / "runda.css").write_text((copy / "css" / "runda.css").read_text() + "\n/* changed */\n")
    # An address is kept a second: within it the old one is still given, after it the new one.
    kept = assets.static("css/runda.css")
    assert re.search(r'const VERSION = "([0-9a-f]{10})";', system_routes.service_worker_source()).group(1) == version
    later = time.monotonic() + assets.ADDRESS_TTL_S + 0.01
    monkeypatch.setattr(assets, "_now", lambda: later)
    assert assets.static("css/runda.css") != kept
    changed = system_routes.service_worker_source()
    assert re.search(r'const VERSION = "([0-9a-f]{10})";', changed).group(1) != version
    assert f'"{assets.static("css/runda.css")}"' in changed
