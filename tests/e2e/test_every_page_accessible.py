"""axe-core on every page of every role, at a phone's 390 px and a desktop's 1280 px.

The pages are the GET rows of the route-access table (tests/http/test_route_access.py) with the
ids of a small world, so a new page is audited as soon as it joins that table. Each page template is
audited once per width, as the first role that may open it (and each error page once), in one
browser context per role, to keep the run short."""

from __future__ import annotations

import secrets

import pytest
from axe_playwright_python.async_playwright import Axe

from tests.e2e.conftest import sign_in_with_passkey
from tests.http.test_route_access import ACCESS, ROLES, fault_report, world  # noqa: F401 (fixtures)

WIDTHS = (390, 1280)
START = {"technician": "/min-dag", "consultant": "/utprovningar", "prescriber": "/patienter",
         "coordinator": "/arbetsordrar", "admin": "/admin/inbjudningar"}


def pages() -> list[tuple[str, str]]:
    """(role, path) for every page template once: each GET row of the table as the first role
    that may open it, and each error page (403, 404, 410) once."""
    chosen, seen = [], set()
    for role in ROLES:
        for (method, template), (url, expected) in ACCESS.items():
            status = expected[role]
            if method != "GET" or status in (301, 302, 303, 307):
                continue
            key = template if status == 200 else status
            if key not in seen:
                seen.add(key)
                chosen.append((role, url))
    return chosen


async def audit(page, axe: Axe, url: str) -> list[str]:
    response = await page.goto(url)
    if response is None or "text/html" not in (response.headers.get("content-type") or ""):
        return []  # images, scripts, JSON, calendar feeds: nothing for axe to read
    if "<html" not in (await response.text())[:500]:
        return []  # a fragment htmx swaps into a page (the parts list): audited inside its page
    found = []
    for width in WIDTHS:
        await page.set_viewport_size({"width": width, "height": 800})
        results = await axe.run(page)
        if results.violations_count:
            found.append(f"{url} at {width} px:\n{results.generate_report()}")
    return found


async def test_every_page_has_no_axe_violations_at_phone_and_desktop_width(browser, live_server, world):
    axe, found, audited = Axe(), [], 0
    for role in ROLES:
        urls = [url for who, url in pages() if who == role]
        if not urls:
            continue
        # An address of its own, so these page loads do not share another test's rate limit.
        address = f"127.{secrets.randbelow(250)}.{secrets.randbelow(250)}.{secrets.randbelow(250) + 1}"
        context = await browser.new_context(locale="sv-SE", viewport={"width": WIDTHS[0], "height": 800},
                                            extra_http_headers={"X-Forwarded-For": address})
        page = await context.new_page()
        try:
            if role != "anonymous":
                await sign_in_with_passkey(page, live_server, world, role, START[role])
            for url in urls:
                found += await audit(page, axe, live_server + url.format(**world.paths))
                audited += 1
        finally:
            await context.close()
    assert audited > 30, f"the access table gave only {audited} pages"
    assert not found, "\n\n".join(found)
