"""create_app(): the whole composition of Runda in one place."""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from typing import AsyncIterator

from litestar import Litestar
from litestar.config.compression import CompressionConfig
from litestar.exceptions import HTTPException

from backend import db, logs
from backend.accounts.routes import (
    AccountController,
    DevSignInController,
    InvitationAdminController,
    InvitationController,
    SignInController,
)
from backend.accounts import service as accounts
from backend.accounts.register_routes import StaffRegisterController
from backend.accounts.oidc_routes import IdpSignInController, SignInPolicyController
from backend.accounts.store import PostgresStore
from backend.devices.routes import DeviceController
from backend.devices.catalogue_routes import ArticleController, CategoryController
from backend.devices.schedule_routes import DeviceScheduleController
from backend.devices.register_routes import DeviceRegisterController
from backend.deviations.routes import DeviationController, VisitDeviationController
from backend.errors import DomainError
from backend.faults.routes import (
    CaseController,
    LabelController,
    PublicFaultController,
    RepairOrderController,
    TriageController,
)
from backend.fittings.availability_routes import (
    AvailabilityController,
    CalendarFeedController,
    PublicFeedController,
    ServiceLevelController,
)
from backend.fittings.routes import BookingFlowController, FittingController
from backend.integrations import api_routes as api
from backend.integrations.routes import ApiTokenController
from backend.imports.routes import ImportController
from backend.jobs.routes import JobController
from backend.audit.routes import LogExtractController, LogReviewController
from backend.recalls.routes import RecallController
from backend.maintenance.routes import ChecklistController
from backend.maintenance.fu_routes import FuController
from backend.notices.routes import NoticeController, OutboxController
from backend.organisations.routes import CareUnitController, CostBearerController, OrganisationController
from backend.patients.routes import PatientController
from backend.reports.export_routes import ExportController
from backend.reports.routes import OverviewController
from backend.reports.kpi_routes import KpiController, KpiSettingsController
from backend.routing.view_routes import DistanceController, WeekController
from backend.routing.resource_routes import DurationController, ResourceController
from backend.routing.routes import PlanningHubController, ProposalController, UrgentController
from backend.visits.conflict_routes import ConflictController, KeptPhotoController, TechnicianConflictController
from backend.visits.routes import DayController, PhotoController, ProtocolController, VisitController
from backend.workorders.routes import WorkOrderController
from backend.auth import actor_middleware, csrf_config, rate_limit, session_config
from backend.settings import PoolSettings, Settings
from backend.system.routes import SystemController
from backend.web import (
    BAD_DATA_ERRORS,
    bad_data_page,
    before_send,
    error_page,
    refusal_page,
    template_config,
    timing_middleware,
)

log = logging.getLogger("runda")


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or Settings.from_env()
    logs.configure(settings.log_level)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        # `runda serve` starts the embedded server itself and hands over its URL; an app
        # created without one (e.g. by a bare ASGI server) starts it here instead.
        if settings.database_url:
            async with _pool(settings.database_url, settings.database.web()):
                yield
        else:
            with db.embedded_server(settings.data_dir) as url:
                async with _pool(url, settings.database.web()):
                    yield

    handlers = [
        SystemController,
        SignInController,
        InvitationController,
        AccountController,
        InvitationAdminController,
        IdpSignInController,
        SignInPolicyController,
        StaffRegisterController,
        PatientController,
        DeviceController,
        CategoryController,
        ArticleController,
        DeviceScheduleController,
        WorkOrderController,
        DayController,
        VisitController,
        PhotoController,
        ProtocolController,
        ConflictController,
        TechnicianConflictController,
        KeptPhotoController,
        OverviewController,
        KpiController,
        KpiSettingsController,
        FittingController,
        BookingFlowController,
        AvailabilityController,
        CalendarFeedController,
        PublicFeedController,
        ServiceLevelController,
        PublicFaultController,
        CaseController,
        TriageController,
        LabelController,
        RepairOrderController,
        DeviceRegisterController,
        OrganisationController,
        CareUnitController,
        CostBearerController,
        ChecklistController,
        FuController,
        ApiTokenController,
        ImportController,
        ExportController,
        NoticeController,
        OutboxController,
        JobController,
        LogReviewController,
        RecallController,
        LogExtractController,
        WeekController,
        DistanceController,
        ResourceController,
        DurationController,
        PlanningHubController,
        ProposalController,
        UrgentController,
        DeviationController,
        VisitDeviationController,
        api.api_router(),
    ]
    if settings.development and settings.listens_on_loopback:
        # The passkey-less demo sign-in does not exist at all outside development.
        handlers.append(DevSignInController)

    return Litestar(
        route_handlers=handlers,
        lifespan=[lifespan],
        template_config=template_config(),
        exception_handlers={HTTPException: error_page, DomainError: refusal_page,
                            **dict.fromkeys(BAD_DATA_ERRORS, bad_data_page), Exception: error_page},
        middleware=[
            timing_middleware,
            session_config(settings).middleware,
            actor_middleware(settings, accounts.load_actor),
            rate_limit(settings.rate_limit_per_minute).middleware,
        ],
        # HTML, CSS and JS shrink to about a third (brotli: a bit more than gzip); gzip for
        # the browsers and clients that do not ask for brotli.
        compression_config=CompressionConfig(backend="brotli", brotli_gzip_fallback=True, minimum_size=500),
        csrf_config=csrf_config(settings),
        stores={"sessions": PostgresStore("sessions"), "rate_limit": PostgresStore("rate_limit")},
        before_send=[before_send],
        state={"settings": settings},
        debug=False,
        # The JSON API's schema only (/api/v1/schema/openapi.json): the pages stay out of it.
        openapi_config=api.openapi_config(),
        include_in_schema=False,
        logging_config=None,
    )


@asynccontextmanager
async def _pool(url: str, pool: PoolSettings) -> AsyncIterator[None]:
    # A pool already open in this process (a test session's) is used, not replaced.
    owns_pool = not db.pool_is_open()
    if owns_pool:
        db.configure(url, pool)
        await db.start_pool()
    try:
        await db.ensure_migrated()
        log.info("started")
        yield
    finally:
        if owns_pool:
            await db.close_pool()
