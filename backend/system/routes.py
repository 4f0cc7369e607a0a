"""The health check for load balancers and deploy platforms, the installable app's files
(manifest, service worker, offline page), which must be served from the site's root, and a
fresh CSRF token for the outbox."""

from litestar import Controller, Request, get
from litestar.response import File, Response, Template
from litestar.utils.scope.state import ScopeState

import re

from litestar.exceptions import NotFoundException
from litestar.params import FromPath

from backend import assets, db
from backend.accounts.tables import Role
from backend.auth import current_actor, requires, signed_in
from backend.assets import STATIC_DIR


# The registers' index: (address, name, what it holds, roles). A register appears once its
# page exists, so the index never links to a page that is not there.
REGISTERS = [
    ("/admin/personal", "Personal", "Roller, vårdenheter, inaktivering och passkeys.", (Role.admin,)),
    ("/admin/inbjudningar", "Inbjudningar", "Bjud in ny personal eller ge någon en ny passkey.", (Role.coordinator, Role.admin)),
    ("/admin/inloggning", "Inloggningssätt", "Passkey, regionens inloggning eller båda, per roll.", (Role.admin,)),
    ("/admin/organisation", "Organisation", "Vårdenheter, kostnadsbärare, tidsgränser, telefonnummer och arbetstider.", (Role.admin,)),
    ("/admin/kategorier", "Hjälpmedelskategorier", "ISO 9999-koder, namn, egenkontroller och FU-scheman.", (Role.coordinator, Role.admin)),
    ("/admin/artiklar", "Artiklar", "Sortimentet: artikelnummer, tillverkare, livslängd och FU-scheman.", (Role.coordinator, Role.admin)),
    ("/admin/hjalpmedel", "Hjälpmedel", "Individer: individnummer, serienummer, ägare, status och innehavare.", (Role.coordinator, Role.admin)),
    ("/admin/checklistor", "Checklistor", "FU-checklistor med versioner: utkast, förhandsvisning och publicering.", (Role.coordinator, Role.admin)),
    ("/admin/import", "Import", "Läs in artiklar, hjälpmedel, patienter och lån från verksamhetssystemet.", (Role.admin,)),
    ("/admin/export", "Export", "Arbetsordrar, hjälpmedel och FU-status som CSV eller Excel.", (Role.coordinator, Role.admin)),
    ("/admin/api-nycklar", "API-nycklar", "Nycklar för integrationer mot Rundas API.", (Role.admin,)),
    ("/admin/jobb", "Jobb", "Bakgrundsjobben: köade, pågående, misslyckade med orsak, och nya försök.", (Role.admin,)),
    ("/loggkontroll", "Loggkontroll", "Sök i åtkomstloggen, urval enligt rutinen och dokumenterade granskningar.", (Role.admin,)),
    ("/loggutdrag", "Loggutdrag", "Vem har tagit del av en patients uppgifter: utdrag som PDF.", (Role.coordinator, Role.admin)),
    ("/admin/utkorg", "Utkorgen", "SMS, e-post och brev till patienter: vad som skickades, eller i utvecklingsläge bara lades här.", (Role.coordinator, Role.admin)),
]


_STATIC_LITERAL = re.compile(r'"/static/([^"]+)"')


def service_worker_source() -> str:
    """sw.js with every "/static/..." it names at its content-hashed address, and its VERSION
    the hash over all of them."""
    source = (STATIC_DIR / "sw.js").read_text()
    named = _STATIC_LITERAL.findall(source)
    source = _STATIC_LITERAL.sub(lambda m: f'"{assets.static(m.group(1))}"', source)
    return re.sub(r'const VERSION = "[^"]*";', f'const VERSION = "{assets.version(named)}";', source, count=1)


class SystemController(Controller):
    @get("/healthz", cache=False, opt={"public": True})
    async def healthz(self) -> Response:
        try:
            await db.fetchval("SELECT 1")
        except Exception:  # noqa: BLE001 - any database failure means unhealthy
            return Response({"status": "error", "database": "unreachable"}, status_code=503)
        return Response({"status": "ok"})

    @get("/sw.js", opt={"public": True})
    async def service_worker(self) -> Response:
        # Served from the root so that it may control every page; never cached by the
        # browser's HTTP cache, so a new version is found on the next visit. The shell it
        # keeps is named by content hash, so any changed file changes these bytes, and the
        # browser installs the new worker, which replaces the old shell.
        return Response(service_worker_source(), media_type="text/javascript",
                        headers={"cache-control": "no-cache", "service-worker-allowed": "/"})

    @get("/static/{file_path:path}", opt={"public": True})
    async def static_file(self, file_path: FromPath[str]) -> File:
        found = assets.resolve(file_path.lstrip("/"))
        if found is None:
            raise NotFoundException()
        return File(found.path, filename=found.path.name, media_type=assets.media_type(found.path),
                    content_disposition_type="inline",
                    headers={"cache-control": assets.IMMUTABLE if found.current else assets.REVALIDATE})

    @get("/manifest.webmanifest", opt={"public": True})
    async def manifest(self) -> File:
        return File(STATIC_DIR / "manifest.webmanifest", media_type="application/manifest+json",
                    content_disposition_type="inline", headers={"cache-control": "public, max-age=3600"})

    @get("/offline", opt={"public": True})
    async def offline(self) -> Template:
        return Template("system/offline.html")

    @get("/csrf-token", guards=[signed_in], cache=False)
    async def csrf_token(self, request: Request) -> Response:
        """A token for the outbox when the page it was stored from is older than the browser's
        CSRF cookie (a phone restarted with the day's pages kept): the cookie comes with it."""
        return Response({"token": ScopeState.from_scope(request.scope).csrf_token},
                        headers={"cache-control": "no-store"})

    @get("/admin", guards=[requires(Role.coordinator, Role.admin)])
    async def registers(self, request: Request) -> Template:
        actor = current_actor(request)
        existing = {route.path for route in request.app.routes}
        registers = [dict(href=href, name=name, text=text) for href, name, text, roles in REGISTERS
                     if actor.role in roles and href in existing]
        return Template("system/registers.html", context={"registers": registers})
