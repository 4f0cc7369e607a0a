"""Every page of every role in a real browser: axe-core finds no violations at a phone's 390 px
and a desktop's 1280 px, and the page's first load stays light.

The pages are the GET rows of the route-access table (tests/http/test_route_access.py) with the
ids of a small world, so a new page is audited and weighed as soon as it joins that table: each
page as every role that may open it (what a page shows differs by role), and each error page
(403, 404, 410) once.

Weight is what the browser transferred for the page and everything it loaded, compressed as
sent, with the browser's cache off (a first visit) and the service worker blocked (its shell
is fetched in the background, not for the page): public pages at most 25 KB, staff pages at
most 60 KB."""

from __future__ import annotations

import secrets

from axe_playwright_python.async_playwright import Axe

from tests.e2e.conftest import sign_in_with_passkey
from tests.http.test_route_access import ACCESS, ROLES, fault_report, world  # noqa: F401 (fixtures)

WIDTHS = (390, 1280)
START = {"technician": "/min-dag", "consultant": "/utprovningar", "prescriber": "/patienter",
         "coordinator": "/arbetsordrar", "admin": "/admin/inbjudningar"}
PUBLIC_BUDGET = 25 * 1024
STAFF_BUDGET = 60 * 1024


def pages() -> list[tuple[str, str]]:
    """(role, path): every GET row of the table as every role that may open it, and each error
    page once."""
    chosen, errors = [], set()
    for role in ROLES:
        for (method, template), (url, expected) in ACCESS.items():
            status = expected[role]
            if method != "GET" or status in (301, 302, 303, 307):
                continue
            if status != 200:
                if status in errors:
                    continue
                errors.add(status)
            chosen.append((role, url))
    return chosen


class Weighing:
    """Bytes the browser received for one page load: bodies as sent (compressed) and headers."""

    def __init__(self, page) -> None:
        self.requests = []
        page.on("requestfinished", self.finished)

    def finished(self, request) -> None:
        self.requests.append(request)

    def start(self) -> None:
        self.requests.clear()

    async def total(self) -> tuple[int, list[str]]:
        total, parts = 0, []
        for request in list(self.requests):
            sizes = await request.sizes()
            size = sizes["responseBodySize"] + sizes["responseHeadersSize"]
            total += size
            parts.append(f"{request.url.split('/', 3)[-1]} {size} B")
        return total, parts


async def audit(page, axe: Axe, weighing: Weighing, url: str, budget: int, weights: list) -> list[str]:
    weighing.start()
    response = await page.goto(url)
    if response is None or "text/html" not in (response.headers.get("content-type") or ""):
        return []  # images, scripts, JSON, calendar feeds: nothing for axe to read
    if "<html" not in (await response.text())[:500]:
        return []  # a fragment htmx swaps into a page (the parts list): audited inside its page
    await page.wait_for_load_state("load")
    found = []
    weight, parts = await weighing.total()
    weights.append((weight, url))
    if weight > budget:
        found.append(f"{url} weighs {weight / 1024:.1f} KB on first load (budget {budget // 1024} KB): {parts}")
    # htmx is loaded only by the pages that say they use it: one that forgets would not work.
    if await page.evaluate("() => !!document.querySelector('[hx-get],[hx-post],[hx-trigger]') && !window.htmx"):
        found.append(f"{url} uses htmx attributes but does not load htmx (set htmx = true in its template)")
    for width in WIDTHS:
        await page.set_viewport_size({"width": width, "height": 800})
        results = await axe.run(page)
        if results.violations_count:
            found.append(f"{url} at {width} px:\n{results.generate_report()}")
    return found


async def test_every_page_of_every_role_is_accessible_and_light(browser, live_server, world):
    axe, found, audited = Axe(), [], 0
    chosen, weights = pages(), {"public": [], "staff": []}
    for role in ROLES:
        urls = [url for who, url in chosen if who == role]
        if not urls:
            continue
        # An address of its own, so these page loads do not share another test's rate limit.
        address = f"127.{secrets.randbelow(250)}.{secrets.randbelow(250)}.{secrets.randbelow(250) + 1}"
        context = await browser.new_context(locale="sv-SE", viewport={"width": WIDTHS[0], "height": 800},
                                            extra_http_headers={"X-Forwarded-For": address},
                                            service_workers="block")
        page = await context.new_page()
        try:
            if role != "anonymous":
                await sign_in_with_passkey(page, live_server, world, role, START[role])
            cdp = await context.new_cdp_session(page)
            await cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
            weighing = Weighing(page)
            budget = PUBLIC_BUDGET if role == "anonymous" else STAFF_BUDGET
            for url in urls:
                found += await audit(page, axe, weighing, live_server + url.format(**world.paths), budget,
                                     weights["public" if role == "anonymous" else "staff"])
                audited += 1
        finally:
            await context.close()
    for kind, measured in weights.items():  # shown with -s: the figures for a change's note
        print(f"{kind}: {len(measured)} pages, heaviest {[(round(w / 1024, 1), u) for w, u in sorted(measured)[-3:]]}")
    assert audited > 100, f"the access table gave only {audited} pages"
    assert not found, "\n\n".join(found)
