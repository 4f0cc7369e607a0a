"""Every page of every role in a real browser: axe-core finds no violations at a phone's 390 px
and a desktop's 1280 px, and the page's first load stays light.

The pages are the GET rows of the route-access table (tests/http/test_route_access.py) with the
ids of a small world, so a new page is audited and weighed as soon as it joins that table: each
page as every role that may open it (what a page shows differs by role), and each error page
(403, 404, 410) once.

Weight is what a first visit to the page transfers: the page and everything it loads,
compressed as sent, with the service worker blocked (its shell is fetched in the background,
not for the page): public pages at most 25 KB, staff pages at most 60 KB."""

from __future__ import annotations

import secrets

from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Error as PlaywrightError

from tests.e2e.conftest import sign_in_with_passkey
from tests.support.factories import add_fault_report, device_token
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


USED_FILES = """() => [...document.querySelectorAll(
    'script[src], link[rel=stylesheet][href], link[rel~=icon][href], img[src]')].map(e => e.src || e.href)"""


class Weighing:
    """What a page costs on a first visit: its document and every file it loads, in bytes as
    sent (compressed) with headers.

    The browser keeps files in memory between pages of one tab whatever the cache settings, so
    a file is weighed when it is first transferred, and each page is charged for every file it
    uses (its scripts, styles, icons and images), as a visitor arriving there first would pay."""

    def __init__(self, page) -> None:
        self.sizes: dict[str, int] = {}
        self.pending = []
        page.on("requestfinished", self.finished)

    def finished(self, request) -> None:
        self.pending.append(request)

    async def _settle(self) -> None:
        while self.pending:
            request = self.pending.pop()
            sizes = await request.sizes()
            if sizes["responseBodySize"] > 0:
                self.sizes[request.url] = sizes["responseBodySize"] + sizes["responseHeadersSize"]

    async def total(self, page) -> tuple[int, list[str]]:
        await self._settle()
        urls = [page.url, *await page.evaluate(USED_FILES)]
        parts = [f"{url.split('/', 3)[-1]} {self.sizes.get(url, 0)} B" for url in dict.fromkeys(urls)]
        return sum(self.sizes.get(url, 0) for url in dict.fromkeys(urls)), parts


async def audit(page, axe: Axe, weighing: Weighing, url: str, budget: int, weights: list) -> list[str]:
    try:
        response = await page.goto(url)
    except PlaywrightError as exc:
        if "Download is starting" in str(exc):
            return []  # a file to download (a report, an export): no page to audit
        raise
    if response is None or "text/html" not in (response.headers.get("content-type") or ""):
        return []  # images, scripts, JSON, calendar feeds: nothing for axe to read
    if "<html" not in (await response.text())[:500]:
        return []  # a fragment htmx swaps into a page (the parts list): audited inside its page
    await page.wait_for_load_state("load")
    found = []
    weight, parts = await weighing.total(page)
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
    # The public pages behind a real sticker and a real case (the table uses unknown tokens).
    sticker = await device_token(world, world.devices[0])
    _, case = await add_fault_report(world, world.devices[0])
    chosen += [("anonymous", f"/f/{sticker}"), ("anonymous", f"/f/{sticker}/anmal"),
               ("anonymous", f"/arende/{case}"), ("anonymous", f"/arende/{case}/kvitto")]
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
            cdp = await context.new_cdp_session(page)
            await cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
            weighing = Weighing(page)  # from the start: files first fetched while signing in count too
            if role != "anonymous":
                await sign_in_with_passkey(page, live_server, world, role, START[role])
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
