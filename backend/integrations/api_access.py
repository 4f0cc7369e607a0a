"""Who may call the API and how it answers: the token a call presents (never a session), the
count of calls per token, the scope a write needs, JSON bodies only, and every refusal as JSON
with a Swedish message. Used by api_routes.py, which puts them on the API's router."""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from typing import Any

from litestar import Request, Response
from litestar.datastructures import Headers
from litestar.enums import MediaType
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    PermissionDeniedException,
    ValidationException,
)
from litestar.middleware.rate_limit import RateLimitConfig
from litestar.types import ASGIApp, Receive, Scope, Send

from backend.accounts.tables import Role
from backend.auth import CountingRateLimitMiddleware, client_address
from backend.errors import DomainError
from backend.forms import INT4_MAX, INT4_MIN
from backend.integrations import schemas as s
from backend.integrations import service
from backend.integrations.service import IntegrationActor
from backend.web import BAD_DATA_ERRORS, route_of

log = logging.getLogger("runda.http")

MESSAGES = {
    400: "Förfrågan kunde inte läsas.",
    401: "Ange en giltig API-nyckel: Authorization: Bearer <nyckel>.",
    403: "API-nyckeln får bara läsa. Det här kräver en nyckel som får läsa och skriva.",
    404: "Det finns inget här.",
    405: "Metoden stöds inte på den här adressen.",
    413: "Förfrågan är för stor.",
    415: "Skicka uppgifterna som JSON (Content-Type: application/json).",
    429: "För många anrop med den här nyckeln. Vänta en stund och försök igen.",
    500: "Något gick fel hos oss. Ingenting har sparats halvvägs; försök igen om en stund.",
}


# msgspec's words for a missing field of the body, e.g. "Object missing required field `description`".
_MISSING = re.compile(r"missing required field `(\w+)`")


class ApiRefusal(HTTPException):
    """A refusal whose detail is Swedish and meant for the integration's developer."""

    swedish = True


# --- errors as JSON ---------------------------------------------------------------------------


def _error(status: int, message: str, field: str | None = None, headers: dict | None = None) -> Response:
    return Response(s.ApiError(message=message, field=field), status_code=status, media_type=MediaType.JSON,
                    headers=headers or {})


def api_error(request: Request, exc: Exception) -> Response:
    """Any exception on an API route, as JSON with a Swedish message; a 5xx is logged, not shown."""
    if isinstance(exc, DomainError):
        return _error(400, exc.message, exc.field)
    if isinstance(exc, BAD_DATA_ERRORS):
        log.warning("bad_input", extra={"route": route_of(request.scope), "error": type(exc).__name__})
        if any(isinstance(value, int) and not INT4_MIN <= value <= INT4_MAX
               for value in request.scope.get("path_params", {}).values()):
            return _error(404, MESSAGES[404])
        return _error(400, "Något av det du skickade innehöll tecken eller värden som inte kan tas emot.")
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    if status >= 500:
        log.error("unhandled_error", exc_info=exc, extra={"route": route_of(request.scope)})
        return _error(500, MESSAGES[500])
    headers = dict(exc.headers or {}) if isinstance(exc, HTTPException) else {}
    if status == 401:
        headers["www-authenticate"] = 'Bearer realm="runda"'
    field = None
    if getattr(exc, "swedish", False):
        message = exc.detail
    elif isinstance(exc, ValidationException):
        # Litestar's details are English; the field it names is enough to find the mistake.
        problem = next((p for p in (exc.extra if isinstance(exc.extra, list) else []) if isinstance(p, dict)), {})
        field = str(problem.get("key") or "") or None
        missing = _MISSING.search(str(problem.get("message", "")))
        if missing:
            field, message = missing.group(1), f"Fältet {missing.group(1)} saknas."
        elif field == "data":  # the body as a whole
            field, message = None, "Innehållet ska vara ett JSON-objekt med fälten som schemat beskriver."
        else:
            message = f"Fältet {field} har fel värde." if field else MESSAGES[400]
    else:
        message = MESSAGES.get(status, MESSAGES[400])
    return _error(status, message, field, headers)


EXCEPTION_HANDLERS = {HTTPException: api_error, DomainError: api_error, Exception: api_error,
                      **dict.fromkeys(BAD_DATA_ERRORS, api_error)}


# --- who calls: the token, and how often -------------------------------------------------------


def bearer_auth(app: ASGIApp) -> ASGIApp:
    """Put the integration whose token the call presents (or None) in scope["user"]."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        scheme, _, presented = (Headers.from_scope(scope).get("authorization") or "").strip().partition(" ")
        scope["user"] = await service.authenticate(presented.strip()) if scheme.lower() == "bearer" else None
        await app(scope, receive, send)

    return middleware


def _rate_key(request: Request) -> str:
    integration = request.scope.get("user")
    if isinstance(integration, IntegrationActor):
        return f"api-token:{integration.api_token}"
    return f"api-address:{client_address(request)}"  # calls without a valid token


def rate_limit(per_minute: int) -> RateLimitConfig:
    return RateLimitConfig(rate_limit=("minute", per_minute), store="rate_limit", identifier_for_request=_rate_key,
                           middleware_class=CountingRateLimitMiddleware)


def integration_of(request: Request) -> IntegrationActor:
    integration = request.scope.get("user")
    if not isinstance(integration, IntegrationActor):
        raise NotAuthorizedException()
    return integration


def may_read(connection: Any, _: Any) -> None:
    integration_of(connection)


def may_write(connection: Any, _: Any) -> None:
    if not integration_of(connection).may_write:
        raise PermissionDeniedException()


async def json_body(request: Request) -> None:
    """A write takes JSON only: a form or anything else is refused before it is read."""
    if request.headers.get("content-type", "").partition(";")[0].strip().lower() != MediaType.JSON:
        raise ApiRefusal(status_code=415, detail=MESSAGES[415])


def without_patients(integration: IntegrationActor) -> IntegrationActor:
    """The integration for a call that answers with no patient data, as one who sees no patient:
    a technician without a care relation (patients.scope), so the services read no patient, nor
    log one as read, on its behalf."""
    return replace(integration, role=Role.technician)
