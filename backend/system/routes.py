"""The health check for load balancers and deploy platforms."""

from litestar import Controller, get
from litestar.response import Response

from backend import db


class SystemController(Controller):
    @get("/healthz", cache=False, opt={"public": True})
    async def healthz(self) -> Response:
        try:
            await db.fetchval("SELECT 1")
        except Exception:  # noqa: BLE001 - any database failure means unhealthy
            return Response({"status": "error", "database": "unreachable"}, status_code=503)
        return Response({"status": "ok"})
