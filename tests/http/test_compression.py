"""Pages, styles and scripts travel compressed: brotli to a browser that asks for it (every
browser today), else gzip."""

import re


async def test_a_page_is_gzipped_when_the_browser_accepts_it(client):
    response = await client.get("/offline", headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert response.headers.get("content-encoding") == "gzip"
    assert '<html lang="sv">' in response.text  # httpx decompresses: the page is intact


async def test_styles_and_scripts_are_gzipped(client):
    page = (await client.get("/offline")).text
    for path in re.findall(r'(?:href|src)="(/static/[^"]+\.(?:css|js))"', page):
        response = await client.get(path, headers={"Accept-Encoding": "gzip"})
        assert response.status_code == 200
        assert response.headers.get("content-encoding") == "gzip", path


async def test_a_browser_that_takes_brotli_gets_brotli_and_it_is_smaller_than_gzip(client):
    brotli = await client.get("/offline", headers={"Accept-Encoding": "gzip, deflate, br"})
    assert brotli.headers.get("content-encoding") == "br"
    assert '<html lang="sv">' in brotli.text
    gzip = await client.get("/offline", headers={"Accept-Encoding": "gzip"})
    assert len(brotli.content) == len(gzip.content)  # the same page once decompressed
    assert int(brotli.headers["content-length"]) < int(gzip.headers["content-length"])


async def test_a_client_that_does_not_ask_gets_plain_text(client):
    response = await client.get("/offline", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in response.headers
    assert '<html lang="sv">' in response.text
