"""Route pictures and the driving KPI for coordinators and admins: the week's timeline
(/planering/vecka, all technicians or one, with each day's sketch) and driven distance per device
on loan (/planering/korstracka, with the organisation's target). The rules are in views.py and
kpi.py; the pictures in pictures.py."""

from __future__ import annotations

from litestar import Controller, Request, get, post
from litestar.params import FromQuery
from litestar.response import Redirect, Response, Template

from backend.accounts.tables import STAFF_OVERSIGHT
from backend.auth import current_actor, requires
from backend.errors import DomainError
from backend.forms import INT4_MAX, Form, decimal, fields, text
from backend.routing import kpi, views
from backend.routing.pictures import kpi_chart
from backend.workdays import today


def _query_id(value: str | None) -> int | None:
    value = (value or "").strip()
    return int(value) if value.isascii() and value.isdigit() and 0 < int(value) <= INT4_MAX else None


class WeekController(Controller):
    path = "/planering/vecka"
    guards = [requires(*STAFF_OVERSIGHT)]

    @get("/")
    async def week(self, request: Request, vecka: FromQuery[str | None] = None,
                   tekniker: FromQuery[str | None] = None) -> Template:
        actor = current_actor(request)
        chosen = _query_id(tekniker)
        try:
            if tekniker and chosen is None:
                raise views.WeekRefused("Välj en av teknikerna i listan.", "tekniker")
            monday = views.parse_week(vecka, today())
            context = await views.week(actor.organisation, monday, chosen)
        except views.WeekRefused as exc:
            monday = views.parse_week(None, today())
            context = await views.week(actor.organisation, monday, None)
            return Template("routing/week.html", context={**context, "error": exc}, status_code=400)
        return Template("routing/week.html", context={**context, "error": None})


class DistanceController(Controller):
    path = "/planering/korstracka"
    guards = [requires(*STAFF_OVERSIGHT)]

    async def _page(self, request: Request, *, month: str | None = None, error: DomainError | None = None,
                    form: dict | None = None, notice: str | None = None, status: int = 200) -> Template:
        actor = current_actor(request)
        chosen = None
        if month:
            try:
                chosen = kpi.parse_month(month)
            except DomainError as exc:
                error, status = exc, 400
        figures = await kpi.distance_kpi(actor.organisation, today(), month=chosen)
        chart = kpi_chart(figures["months"], figures["target"], title="Körda km per utlånat hjälpmedel")
        return Template("routing/distance.html", status_code=status, context={
            **figures, "chart": chart, "error": error, "form": form or {}, "notice": notice,
            "target_text": f"{figures['target']:.2f}".replace(".", ","),
        })

    @get("/")
    async def distance(self, request: Request, manad: FromQuery[str | None] = None,
                       klart: FromQuery[str | None] = None) -> Template:
        return await self._page(request, month=manad, notice="Målet är sparat." if klart == "mal" else None)

    @post("/mal")
    async def set_target(self, request: Request, data: Form) -> Response:
        actor = current_actor(request)
        form = fields(data)
        try:
            value = decimal(form, "mal", "Ange målet som km per hjälpmedel, t.ex. 0,40.")
            await kpi.set_target(actor.organisation, value)
        except DomainError as exc:
            return await self._page(request, error=exc, form={"mal": text(form, "mal", 40)}, status=400)
        return Redirect("/planering/korstracka?klart=mal", status_code=303)
