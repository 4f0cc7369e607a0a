"""What every page shares: templates, security headers, error pages, request logs."""

from __future__ import annotations

import logging
import time
from datetime import date, datetime, timezone
from pathlib import Path

import asyncpg
from litestar import Request, Response
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.exceptions import ClientException, HTTPException
from litestar.template.config import TemplateConfig
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from backend.assets import STATIC_DIR, static
from backend.errors import DomainError
from backend.forms import INT4_MAX, INT4_MIN
from backend.workdays import STOCKHOLM

log = logging.getLogger("runda.http")

FRONTEND = Path(__file__).resolve().parent.parent / "frontend"
TEMPLATES_DIR = FRONTEND / "templates"

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "connect-src 'self'",
        "font-src 'self'",
        "manifest-src 'self'",
        "worker-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

SECURITY_HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-content-type-options": "nosniff",
    # Links carry tokens (/f/<token>); never leak them to another site.
    "referrer-policy": "no-referrer",
    "permissions-policy": "camera=(self), geolocation=(), microphone=()",
    "cross-origin-opener-policy": "same-origin",
    "x-frame-options": "DENY",
}

STAFF_CACHE_CONTROL = "private, no-store"
HSTS = "max-age=31536000"


def _public_origin_is_https(scope: Scope) -> bool:
    """HSTS only where the app is served over https: on plain-http localhost it would pin
    a developer's browser to an https the machine does not serve."""
    app = scope.get("litestar_app")
    settings = app.state.get("settings") if app is not None else None
    return settings is not None and settings.public_origin.startswith("https://")


ERROR_TITLES = {
    400: "Felaktig förfrågan",
    401: "Du behöver logga in",
    403: "Du har inte behörighet",
    404: "Sidan finns inte",
    405: "Det går inte att göra så här",
    409: "Någon annan hann före",
    413: "För stor fil eller för mycket text",
    422: "Uppgifterna kunde inte tas emot",
    429: "För många försök",
    500: "Något gick fel hos oss",
}

ERROR_TEXTS = {
    400: "Förfrågan kunde inte förstås. Gå tillbaka och försök igen.",
    403: "Du saknar behörighet till den här sidan. Kontakta din samordnare om du behöver den.",
    404: "Adressen kan vara felskriven, eller så har sidan flyttats eller tagits bort.",
    405: "Sidan kan inte användas på det sättet.",
    409: "Uppgifterna har ändrats av någon annan sedan du öppnade sidan. Det du skrev finns kvar.",
    413: "Det du skickade är för stort. Försök med en mindre bild eller kortare text.",
    422: "Något i formuläret var inte rätt ifyllt. Gå tillbaka och kontrollera.",
    429: "Du har gjort för många försök på kort tid. Vänta en stund och försök igen.",
    500: "Ett oväntat fel uppstod. Ingenting du skickade har sparats halvvägs; försök igen om en stund.",
}


class BadInput(ClientException):
    """A 400 whose detail is Swedish and meant for the person who typed the input."""

    swedish = True


def local_datetime(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(STOCKHOLM).strftime(fmt)


def iso_date(value: date | None) -> str:
    return value.isoformat() if value else ""


def number(value: float | int, decimals: int = 0) -> str:
    """Swedish number format: thin space for thousands, comma for decimals."""
    text = f"{value:,.{decimals}f}".replace(",", "\u202f").replace(".", ",")
    return text


def template_config() -> TemplateConfig:
    def configure(engine: JinjaTemplateEngine) -> None:
        env = engine.engine
        env.filters["localtime"] = local_datetime
        env.filters["isodate"] = iso_date
        env.filters["number"] = number
        env.globals["static"] = static  # a static file's content-hashed address
        # When a page was made: a page kept on the phone says how old it is (runda.js).
        env.globals["rendered_at"] = lambda: datetime.now(timezone.utc).isoformat(timespec="seconds")
        env.autoescape = True

    return TemplateConfig(directory=TEMPLATES_DIR, engine=JinjaTemplateEngine, engine_callback=configure)


def is_htmx(request: Request) -> bool:
    """True when htmx asked for a fragment rather than a whole page."""
    return request.headers.get("hx-request") == "true"


def error_page(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    if status == 401:
        return not_signed_in(request)
    if status >= 500:
        log.error("unhandled_error", exc_info=exc, extra={"route": route_of(request.scope)})
    title = ERROR_TITLES.get(status, ERROR_TITLES[400] if status < 500 else ERROR_TITLES[500])
    text = ERROR_TEXTS.get(status, ERROR_TEXTS[400] if status < 500 else ERROR_TEXTS[500])
    headers = {}
    if isinstance(exc, HTTPException) and exc.headers:
        headers.update(exc.headers)
    detail = getattr(exc, "detail", "") if status < 500 else ""
    # Litestar's own validation details are English and technical; ours are Swedish.
    if detail and not getattr(exc, "swedish", False):
        detail = ""
    return render_error(request, status, title, text, detail, headers)


# Input PostgreSQL (or asyncpg, before sending it) cannot hold: a NUL byte, a number beyond
# its column, a date past the calendar's end, text that is not valid in the encoding. Each is
# refused where it is read; these are the net under that, so the class never becomes a 500.
# asyncpg's server-side DataError is SQLSTATE class 22; its client-side one is a ValueError.
BAD_DATA_ERRORS = (
    asyncpg.exceptions.DataError,
    asyncpg.exceptions._base.DataError,
    OverflowError,
    UnicodeError,
)


def bad_data_page(request: Request, exc: Exception) -> Response:
    """Input the database cannot hold is the asker's error: a 400 (or a 404 for a path id
    no row can have), never a 500. The exception left the transaction, so it rolled back:
    nothing was half-written."""
    log.warning("bad_input", extra={"route": route_of(request.scope), "error": type(exc).__name__})
    if any(isinstance(value, int) and not INT4_MIN <= value <= INT4_MAX
           for value in request.scope.get("path_params", {}).values()):
        return render_error(request, 404, ERROR_TITLES[404], ERROR_TEXTS[404], "", {})
    return render_error(request, 400, ERROR_TITLES[400], ERROR_TEXTS[400],
                        "Något av det du skickade innehöll tecken eller värden som inte kan tas emot.", {})


def refusal_page(request: Request, exc: DomainError) -> Response:
    """A refusal no route caught (a field read before its form's try): still a 400 that says,
    in Swedish, what was wrong, rather than a 500. Routes show it next to the field instead."""
    log.warning("uncaught_refusal", extra={"route": route_of(request.scope), "error": type(exc).__name__})
    return render_error(request, 400, ERROR_TITLES[400], ERROR_TEXTS[400], exc.message, {})


def not_signed_in(request: Request) -> Response:
    """A page opened without a valid session goes to sign-in; scripts get a plain 401."""
    wants_page = request.method == "GET" and not is_htmx(request) and "text/html" in request.headers.get("accept", "")
    if wants_page:
        return Response(content=b"", status_code=303, headers={"location": "/logga-in"})
    return render_error(request, 401, "Du behöver logga in", "Din inloggning har gått ut. Logga in igen.", "", {})


def render_error(request: Request, status: int, title: str, text: str, detail: str, headers: dict) -> Response:
    if request.scope.get("path", "").startswith("/api/"):
        # The API's callers are programs: JSON with a Swedish message, even for an address no
        # route matches (the API router's own handlers never see those).
        return Response({"message": detail or text}, status_code=status, headers=headers)
    engine = request.app.template_engine
    body = engine.get_template("errors/page.html").render(
        status=status, title=title, text=text, detail=detail, request=request
    )
    return Response(body, status_code=status, media_type="text/html", headers=headers)


def route_of(scope: Scope) -> str:
    """The matched route's template (e.g. /f/{token:str}), never the concrete path."""
    handler = scope.get("route_handler")
    path_template = scope.get("path_template")
    if path_template:
        return path_template
    if handler is not None and getattr(handler, "paths", None):
        return sorted(handler.paths)[0]
    return "unmatched"


async def before_send(message: Message, scope: Scope) -> None:
    """Add the security headers to every response and log it, matched route or not."""
    if message["type"] != "http.response.start":
        return
    headers = list(message.get("headers", []))
    present = {name.lower() for name, _ in headers}
    for name, value in SECURITY_HEADERS.items():
        if name.encode() not in present:
            headers.append((name.encode(), value.encode()))
    # Anything answered to a signed-in person may name a patient: no shared cache, no disk
    # copy. A route that chose its own lifetime (a visit's photos) keeps it; the offline day
    # is cached by the service worker's Cache API, which Cache-Control does not govern.
    if b"cache-control" not in present and scope.get("user") is not None:
        headers.append((b"cache-control", STAFF_CACHE_CONTROL.encode()))
    if b"strict-transport-security" not in present and _public_origin_is_https(scope):
        headers.append((b"strict-transport-security", HSTS.encode()))
    message["headers"] = headers
    started = scope.get("state", {}).get("runda_started")
    log.info(
        "request",
        extra={
            "method": scope.get("method"),
            "route": route_of(scope),
            "status": message["status"],
            "ms": round((time.perf_counter() - started) * 1000, 1) if started else None,
        },
    )


def timing_middleware(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        scope.setdefault("state", {})["runda_started"] = time.perf_counter()
        await app(scope, receive, send)

    return middleware
