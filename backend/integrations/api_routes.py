"""The JSON API under /api/v1, for the centre's other systems (webSesam, 1177, a BI tool).

Only an API token authenticates a call (`Authorization: Bearer runda_…`), never the session
cookie: the router skips the session, and CSRF (a browser cannot send another site's token).
Calls are counted per token, a write needs a token that may write, and errors are JSON with a
Swedish `message` (api_access.py).

Each call goes through the domain's own service as the token's IntegrationActor, so it reads
what the organisation's coordinators read, and every patient it answers with is logged in the
access log under the token. The OpenAPI schema (Litestar's, from these handlers and the structs
in schemas.py) is served at /api/v1/schema/openapi.json.
"""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Request, Response, Router, get, post
from litestar.openapi.config import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import Components, SecurityScheme, Server
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from backend import db
from backend.devices import catalogue
from backend.devices import register as device_register
from backend.devices import service as devices
from backend.devices.tables import DeviceStatus
from backend.errors import DomainError
from backend.faults import service as faults
from backend.forms import readable
from backend.integrations import schemas as s
from backend.integrations.api_access import (
    EXCEPTION_HANDLERS,
    MESSAGES,
    ApiRefusal,
    bearer_auth,
    integration_of,
    json_body,
    may_read,
    may_write,
    rate_limit,
    without_patients,
)
from backend.integrations.service import IntegrationActor
from backend.visits import service as visits
from backend.workdays import today
from backend.workorders import service as workorders
from backend.workorders.lookup import order_id_by_number
from backend.workorders.tables import WorkOrderStatus

API_PATH = "/api/v1"
SCHEMA_PATH = f"{API_PATH}/schema"
SCHEMA_JSON = f"{SCHEMA_PATH}/openapi.json"
REQUESTS_PER_MINUTE = 300  # per token
BODY_LIMIT = 64 * 1024
MAX_PAGE = 10_000
DESCRIPTION_MAX = 2000
SITE_CONTACT_MAX = 200

# Skip the session (a cookie authenticates nothing here) and CSRF (no cookie, nothing to forge).
API_OPT = {"skip_session": True, "exclude_from_csrf": True}


def _errors(*statuses: int) -> dict[int, ResponseSpec]:
    """The refusals a call may answer, for the schema: each an ApiError."""
    return {status: ResponseSpec(data_container=s.ApiError, description=MESSAGES[status])
            for status in (400, 401, 429, *statuses)}


Page = Annotated[int, QueryParameter(ge=1, le=MAX_PAGE, description="Sidan, från 1.")]
Search = Annotated[str, QueryParameter(max_length=100, description=(
    "Början av individnummer, serienummer eller UDI, ett artikelnummer eller ord ur artikelns namn."))]


def _not_found(message: str) -> ApiRefusal:
    return ApiRefusal(status_code=404, detail=message)


def _individnummer(text: str) -> str:
    number = devices.normalise_individnummer(text)
    if not (number.isalnum() and len(number) <= 20):
        raise _not_found("Hjälpmedlet finns inte.")
    return number


# --- devices -------------------------------------------------------------------------------------


def _holder(given: str | None, family: str | None) -> s.Holder | None:
    return s.Holder(given_name=given, family_name=family or "") if given is not None else None


def _schedules(rows: list[dict]) -> list[s.FuSchedule]:
    return [s.FuSchedule(name=r["name"], checklist_code=r["checklist_code"], interval_days=r["interval_days"],
                         level=r["level"], level_label=r["level_label"], before_new_user=r["before_new_user"])
            for r in rows]


async def _card(integration: IntegrationActor, individnummer: str) -> dict:
    number = _individnummer(individnummer)
    try:
        return await devices.device_card(integration, number)
    except devices.DeviceNotFound:
        current = await devices.current_individnummer(integration.organisation, number)
        if current is None:
            raise _not_found("Hjälpmedlet finns inte.") from None
        raise _not_found(f"Hjälpmedlet har fått ett nytt individnummer: {current}.") from None


class DeviceApi(Controller):
    path = "/devices"
    tags = ["Hjälpmedel"]

    @get("/", summary="Hjälpmedel, sida för sida", responses=_errors(),
         description="Organisationens hjälpmedel efter individnummer, 50 per sida. Innehavarens namn är "
                     "patientdata: varje anrop som visar ett loggas i åtkomstloggen med nyckeln.")
    async def devices(self, request: Request, search: Search = "", status: FromQuery[DeviceStatus | None] = None,
                      placement: FromQuery[s.Placement | None] = None, page: Page = 1) -> s.DevicePage:
        wanted = device_register.DeviceFilter(
            search=search, status=status.value if status else None,
            placement={s.Placement.depot: "forrad", s.Placement.on_loan: "utlanad"}.get(placement))
        rows, more = await device_register.find_devices(integration_of(request), wanted, page)
        return s.DevicePage(page=page, page_size=device_register.PAGE_SIZE, has_more=more, items=[s.DeviceSummary(
            individnummer=r["individnummer"], status=r["status"], status_label=r["status_label"],
            serial_number=r["serial_number"], udi=r["udi"], article_number=r["article_number"],
            article_name=r["article_name"], category_name=r["category_name"], owner_name=r["owner_name"],
            next_fu_date=r["next_fu_date"], holder=_holder(r["holder_given_name"], r["holder_family_name"]),
        ) for r in rows])

    @get("/{individnummer:str}", summary="Ett hjälpmedel", responses=_errors(404),
         description="Hjälpmedlet med artikel, FU-scheman och innehavare (loggas som läst av nyckeln).")
    async def device(self, request: Request, individnummer: FromPath[str]) -> s.Device:
        card = await _card(integration_of(request), individnummer)
        d, holder = card["device"], card["holder"]
        return s.Device(
            individnummer=d["individnummer"], status=d["status"], status_label=d["device_status_label"],
            serial_number=d["serial_number"], udi=d["udi"], article_number=d["article_number"],
            article_name=d["article_name"], manufacturer=d["manufacturer"], category_name=d["category_name"],
            iso_code=d["iso_code"], owner_name=d["owner_name"], in_service_date=d["in_service_date"],
            expected_end_of_life=d["expected_end_of_life"], last_fu_date=d["last_fu_date"],
            next_fu_date=d["next_fu_date"], fu_interval_days=d["fu_interval_days"],
            fu_schedules=_schedules(d["fu_schedules"]),
            holder=_holder(holder["given_name"], holder["family_name"]) if holder else None)

    @get("/{individnummer:str}/fu-status", summary="FU-status för ett hjälpmedel", responses=_errors(404),
         description="Senaste och nästa FU, intervallet och om FU är försenad. Ingen patientdata.")
    async def fu_status(self, request: Request, individnummer: FromPath[str]) -> s.FuStatus:
        d = (await _card(without_patients(integration_of(request)), individnummer))["device"]
        late = (today() - d["next_fu_date"]).days if d["next_fu_date"] else 0
        return s.FuStatus(individnummer=d["individnummer"], last_fu_date=d["last_fu_date"],
                          next_fu_date=d["next_fu_date"], fu_interval_days=d["fu_interval_days"],
                          overdue=late > 0, days_overdue=max(late, 0), fu_schedules=_schedules(d["fu_schedules"]))


# --- articles -------------------------------------------------------------------------------------


class ArticleApi(Controller):
    path = "/articles"
    tags = ["Artiklar"]

    @get("/", summary="Artiklar, sida för sida", responses=_errors(),
         description="Sortimentet och reservdelarna efter namn, 50 per sida, med antal hjälpmedel per artikel.")
    async def articles(self, request: Request, search: Annotated[str, QueryParameter(
                           max_length=100, description="Del av artikelnummer, namn eller tillverkare.")] = "",
                       spare_parts: Annotated[bool, QueryParameter(description="Bara reservdelar.")] = False,
                       page: Page = 1) -> s.ArticlePage:
        integration = integration_of(request)
        rows = await catalogue.articles(integration.organisation, query=readable(search, "search"),
                                        spare_parts=spare_parts, page=page)
        return s.ArticlePage(page=page, page_size=catalogue.PAGE_SIZE, total=rows[0]["total"] if rows else 0,
                             items=[s.Article(
                                 article_number=r["article_number"], name=r["name"], manufacturer=r["manufacturer"],
                                 category_name=r["category_name"], iso_code=r["iso_code"],
                                 expected_life_years=r["life_years"], active=r["active"], devices=r["devices"],
                             ) for r in rows])


# --- work orders ------------------------------------------------------------------------------------


def _order(data: dict) -> s.WorkOrder:
    order, record, checklist = data["order"], data["record"], data["checklist"]
    answers = data["state"].answers if data["state"] else {}
    results = []
    for key, answer in answers.items():
        item = checklist.item(key) if checklist else None
        results.append(s.ChecklistResult(
            item_key=key, text=item.text if item else key, answer=answer["answer"],
            measurement=None if answer["measurement"] is None else str(answer["measurement"]),
            comment=answer["comment"] or None))
    return s.WorkOrder(
        number=order["number"], type=order["type"], type_label=order["type_label"], status=order["status"],
        status_label=order["status_label"], channel=order["channel"], description=order["description"],
        individnummer=order["individnummer"], article_name=order["article_name"],
        category_name=order["category_name"], received_at=order["received_at"], planned_date=order["planned_date"],
        start_due=order["start_due"], finish_due=order["finish_due"], started_at=order["started_at"],
        completed_at=order["completed_at"], cancelled_at=order["cancelled_at"],
        cancel_reason=order["cancel_reason"], outcome=order["outcome"], outcome_label=order["outcome_label"],
        sla=order["sla"], sla_label=order["sla_label"], assignee_name=order["assignee_name"],
        minutes=record["minutes"],
        parts=[s.PartUsed(article_number=p["article_number"], name=p["name"], quantity=p["quantity"])
               for p in record["parts"]],
        notes=[s.WorkNote(kind=n["kind"], label=n["label"], text=n["text"]) for n in record["notes"]],
        checklist=results,
        events=[s.WorkOrderEvent(at=e["at"], kind=e["kind"], label=e["label"], who=e["who"])
                for e in record["events"]])


class WorkOrderApi(Controller):
    path = "/work-orders"
    tags = ["Arbetsordrar"]

    @get("/", summary="Öppna arbetsordrar, sida för sida", responses=_errors(),
         description="Ej avslutade arbetsordrar i tidsordning, 50 per sida, utan patientdata. has_more är sant "
                     "när sidan är full (nästa sida kan vara tom).")
    async def orders(self, request: Request, status: FromQuery[WorkOrderStatus | None] = None,
                     type: FromQuery[workorders.WorkOrderType | None] = None, page: Page = 1) -> s.WorkOrderPage:
        integration = integration_of(request)
        if status is not None and status not in workorders.OPEN_STATUSES:
            raise DomainError("Listan har bara öppna arbetsordrar: välj en öppen status.", "status")
        rows = await workorders.open_orders(integration.organisation, status=status.value if status else None,
                                            type=type.value if type else None, page=page, today=today())
        return s.WorkOrderPage(page=page, page_size=workorders.PAGE_SIZE, has_more=len(rows) == workorders.PAGE_SIZE,
                               items=[s.WorkOrderSummary(
                                   number=r["number"], type=r["type"], type_label=r["type_label"], status=r["status"],
                                   status_label=r["status_label"], individnummer=r["individnummer"],
                                   category_name=r["category_name"], received_at=r["received_at"],
                                   planned_date=r["planned_date"], start_due=r["start_due"],
                                   finish_due=r["finish_due"], sla=r["sla"], sla_label=r["sla_label"],
                                   assignee_name=r["assignee_name"],
                               ) for r in rows])

    @get("/{number:str}", summary="En arbetsorder med resultat", responses=_errors(404),
         description="Arbetsordern med tid, delar, anteckningar, checklistans svar och händelser. Ingen patientdata.")
    async def order(self, request: Request, number: FromPath[str]) -> s.WorkOrder:
        integration = integration_of(request)
        order_id = None
        if number.isascii() and 0 < len(number) <= 20 and number.replace("-", "").isalnum():
            order_id = await order_id_by_number(integration.organisation, number)
        if order_id is None:
            raise _not_found("Arbetsordern finns inte.")
        try:
            return _order(await visits.protocol(integration, order_id))
        except workorders.WorkOrderNotFound:
            raise _not_found("Arbetsordern finns inte.") from None

    @post("/", summary="Beställ en reparation", guards=[may_write], before_request=json_body, responses=_errors(403, 413, 415),
          request_max_body_size=BODY_LIMIT, status_code=201,
          description="En reparationsorder för ett av organisationens hjälpmedel; tidsgränserna räknas från "
                      "nu och patienten blir hjälpmedlets innehavare. Svarar med den nya arbetsordern. "
                      "Kräver en nyckel som får läsa och skriva.")
    async def create(self, request: Request, data: JSONBody[s.RepairOrderIn]) -> Response[s.WorkOrder]:
        integration = integration_of(request)
        description = readable(data.description, "description").strip()
        site_contact = readable(data.site_contact, "site_contact").strip()
        if not description:
            raise DomainError("Beskriv felet.", "description")
        if len(description) > DESCRIPTION_MAX:
            raise DomainError(f"Beskrivningen får vara högst {DESCRIPTION_MAX} tecken.", "description")
        if len(site_contact) > SITE_CONTACT_MAX:
            raise DomainError(f"Kontaktuppgiften får vara högst {SITE_CONTACT_MAX} tecken.", "site_contact")
        try:
            device_id = await device_register.device_id(integration.organisation, data.individnummer)
        except devices.DeviceNotFound:
            raise DomainError("Hjälpmedlet finns inte.", "individnummer") from None
        async with db.transaction():
            # Registered by the HMC's own system: channel "hmc", and no staff member as its author.
            order = await workorders.create_work_order(
                organisation_id=integration.organisation, type=data.type.value, device_id=device_id,
                description=description, channel=workorders.Channel.hmc.value, site_contact=site_contact)
        created = _order(await visits.protocol(integration, order["id"]))
        return Response(created, status_code=201, headers={"location": f"{API_PATH}/work-orders/{created.number}"})


# --- fault reports -----------------------------------------------------------------------------------


class FaultReportApi(Controller):
    path = "/fault-reports"
    tags = ["Felanmälningar"]

    @get("/", summary="Nya felanmälningar", responses=_errors(),
         description="Felanmälningar som väntar på bedömning, de vars hjälpmedel inte går att använda först. "
                     "Innehavarens namn är patientdata och loggas som läst av nyckeln.")
    async def reports(self, request: Request) -> list[s.FaultReport]:
        return [s.FaultReport(
            number=r["number"], received_at=r["received_at"], channel=r["channel"], individnummer=r["individnummer"],
            category_name=r["category_name"], problems=list(r["problems"]), problem_labels=r["problem_labels"],
            description=r["description"], usable=r["usable"], usable_label=r["usable_label"],
            needs_replacement=r["needs_replacement"], holder=_holder(r["given_name"], r["family_name"]),
        ) for r in await faults.triage_queue(integration_of(request))]


# --- the router and its schema ---------------------------------------------------------------------


def api_router(requests_per_minute: int = REQUESTS_PER_MINUTE) -> Router:
    return Router(
        API_PATH, route_handlers=[DeviceApi, ArticleApi, WorkOrderApi, FaultReportApi],
        guards=[may_read], middleware=[bearer_auth, rate_limit(requests_per_minute).middleware],
        exception_handlers=EXCEPTION_HANDLERS, opt=API_OPT, include_in_schema=True,
        security=[{"bearer": []}],
    )


def openapi_config() -> OpenAPIConfig:
    """The schema of the API routes only (the app leaves its HTML out), public at SCHEMA_JSON:
    it describes the calls, never data. The interactive docs UIs load scripts from a CDN, which
    the CSP forbids: admins read the endpoints at /admin/api-nycklar/dokumentation instead."""
    return OpenAPIConfig(
        title="Runda API", version="1",
        description="Hjälpmedel, artiklar, arbetsordrar, felanmälningar och FU-status för en "
                    "hjälpmedelscentrals andra system. Varje anrop anger en API-nyckel: "
                    "Authorization: Bearer <nyckel>.",
        path=SCHEMA_PATH, render_plugins=[JsonRenderPlugin()],
        openapi_router=Router(SCHEMA_PATH, route_handlers=[], include_in_schema=False,
                              opt={"public": True, **API_OPT}),
        components=Components(security_schemes={"bearer": SecurityScheme(
            type="http", scheme="bearer", description="En API-nyckel som en administratör skapat i Runda.")}),
        servers=[Server(url="/")],
    )
