"""Health check and the start page."""

from litestar import Controller, get
from litestar.response import Response, Template

from backend import db


class SystemController(Controller):
    @get("/healthz", cache=False)
    async def healthz(self) -> Response:
        try:
            await db.fetchval("SELECT 1")
        except Exception:  # noqa: BLE001 - any database failure means unhealthy
            return Response({"status": "error", "database": "unreachable"}, status_code=503)
        return Response({"status": "ok"})

    @get("/")
    async def home(self) -> Template:
        return Template("system/home.html")
