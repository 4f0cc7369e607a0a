"""The coordinator's overview: devices by category and the repair service level."""

from litestar import Controller, Request, get
from litestar.response import Template

from backend.accounts.tables import STAFF_OVERSIGHT
from backend.auth import current_actor, requires
from backend.reports import service
from backend.workdays import today


class OverviewController(Controller):
    path = "/oversikt"
    guards = [requires(*STAFF_OVERSIGHT)]

    @get("/")
    async def overview(self, request: Request) -> Template:
        return Template("reports/overview.html",
                        context=await service.overview(current_actor(request).organisation, today()))
