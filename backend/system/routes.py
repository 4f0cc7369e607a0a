"""The health check for load balancers and deploy platforms, the installable app's files
(manifest, service worker, offline page), which must be served from the site's root, and a
fresh CSRF token for the outbox."""

from litestar import Controller, Request, get
from litestar.response import File, Response, Template
from litestar.utils.scope.state import ScopeState

from backend import db
from backend.auth import signed_in
from backend.web import STATIC_DIR


class SystemController(Controller):
    @get("/healthz", cache=False, opt={"public": True})
    async def healthz(self) -> Response:
        try:
            await db.fetchval("SELECT 1")
        except Exception:  # noqa: BLE001 - any database failure means unhealthy
            return Response({"status": "error", "database": "unreachable"}, status_code=503)
        return Response({"status": "ok"})

    @get("/sw.js", opt={"public": True})
    async def service_worker(self) -> File:
        # Served from the root so that it may control every page; never cached by the
        # browser's HTTP cache, so a new version is found on the next visit.
        return File(STATIC_DIR / "sw.js", media_type="text/javascript", content_disposition_type="inline",
                    headers={"cache-control": "no-cache", "service-worker-allowed": "/"})

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
