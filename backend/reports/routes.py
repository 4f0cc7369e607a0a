"""The coordinator's overview: every KPI at a glance (each leading to its page under
/oversikt/kpi, kpi_routes.py) and devices by category."""

from litestar import Controller, Request, get
from litestar.response import Template

from backend.accounts.tables import STAFF_OVERSIGHT
from backend.auth import current_actor, requires
from backend.reports import service
from backend.reports.charts import TEMPLATE_HELPERS
from backend.workdays import today


class OverviewController(Controller):
    path = "/oversikt"
    guards = [requires(*STAFF_OVERSIGHT)]

    @get("/")
    async def overview(self, request: Request) -> Template:
        context = await service.overview(current_actor(request), today())
        context.update(TEMPLATE_HELPERS)
        context["refreshing"] = request.query_params.get("uppdateras") == "1"
        return Template("reports/overview.html", context=context)
