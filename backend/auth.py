"""Sessions, the signed-in person on every request, guards, CSRF and rate limits.

Every route handler declares who may use it: `guards=[requires(...)]`, or
`opt={"public": True}` for the few pages anyone may open. A test fails when a
route declares neither.

A base module, below every domain: who the signed-in person is comes from a loader that
app.py hands to actor_middleware (accounts' load_actor), and a role is compared as the
string it is.
"""

from __future__ import annotations

import ipaddress
import time
from typing import Any, Awaitable, Callable, Protocol

from litestar.config.csrf import CSRFConfig
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException, TooManyRequestsException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware.csrf import generate_csrf_token
from litestar.middleware.rate_limit import DURATION_VALUES, RateLimitConfig, RateLimitMiddleware
from litestar.middleware.session.server_side import ServerSideSessionBackend, ServerSideSessionConfig
from litestar.datastructures import Cookie, MutableScopeHeaders
from litestar.types import ASGIApp, Empty, Message, Receive, Scope, Send

from backend.settings import Settings

SESSION_COOKIE = "runda_session"
CSRF_COOKIE = "runda_csrf"
CSRF_HEADER = "x-csrftoken"


class SignedIn(Protocol):
    """What this module needs of the signed-in person; accounts' Actor is one."""

    @property
    def id(self) -> int: ...

    @property
    def role(self) -> str: ...  # a Role, which is a str


# load_actor(staff_user_id, signed_in_at, *, absolute_hours): the person, or None when the
# session no longer holds.
ActorLoader = Callable[..., Awaitable[SignedIn | None]]


class RotatingSessionBackend(ServerSideSessionBackend):
    """Server-side sessions, kept only when they hold something, only under an id this server
    issued, and given a new id (and a new CSRF token) at sign-in: no session fixation, and an
    anonymous page view writes nothing."""

    async def load_from_connection(self, connection: ASGIConnection) -> dict[str, Any]:
        session_id = connection.cookies.get(self.config.key)
        session: dict[str, Any] = {}
        known = None
        if session_id:
            data = await self.get(session_id, store=self.config.get_store_from_app(connection.scope["app"]))
            if data is not None:
                session, known = self.deserialize_data(data), session_id
        # The id the store holds (None for no cookie, an expired one, or one we never issued),
        # and what it held, so an unchanged session is not written back.
        connection.scope.setdefault("state", {})["runda_session_loaded"] = (known, dict(session))
        return session

    def _cookie(self, value: str, **extra: Any) -> str:
        return Cookie(value=value, key=self.config.key, path=self.config.path, secure=self.config.secure,
                      httponly=self.config.httponly, samesite=self.config.samesite, **extra).to_header(header="")

    async def store_in_message(self, scope_session: Any, message: Message, connection: ASGIConnection) -> None:
        known, loaded = connection.scope.get("state", {}).get("runda_session_loaded", (None, {}))
        headers = MutableScopeHeaders.from_message(message)
        store = self.config.get_store_from_app(connection.scope["app"])
        if scope_session is Empty or not scope_session:
            # Nothing to keep: no row, and a cookie we cannot use is cleared, not adopted.
            if known:
                await self.delete(known, store=store)
            if connection.cookies.get(self.config.key):
                headers.add("Set-Cookie", self._cookie("null", expires=0))
            return
        rotate = scope_session.pop("_rotate", False)
        if known and not rotate and scope_session == loaded:
            # Unchanged: no write. The store renews the idle expiry on read (at most once a
            # minute), so a page view costs no session write and no commit.
            headers.add("Set-Cookie", self._cookie(known, max_age=self.config.max_age))
            return
        session_id = known
        if rotate or not known:
            if known:
                await self.delete(known, store=store)
            session_id = self.generate_session_id()
        await self.set(session_id=session_id, data=self.serialize_data(scope_session, connection.scope), store=store)
        headers.add("Set-Cookie", self._cookie(session_id, max_age=self.config.max_age))
        if rotate:
            csrf = connection.scope["app"].csrf_config
            if csrf is not None:
                # A token seen before sign-in (on a shared computer, say) is worth nothing after it.
                headers.add("Set-Cookie", Cookie(
                    key=csrf.cookie_name, value=generate_csrf_token(secret=csrf.secret), path=csrf.cookie_path,
                    secure=csrf.cookie_secure, httponly=csrf.cookie_httponly, samesite=csrf.cookie_samesite,
                    domain=csrf.cookie_domain,
                ).to_header(header=""))


class RundaSessionConfig(ServerSideSessionConfig):
    _backend_class = RotatingSessionBackend


def session_config(settings: Settings) -> RundaSessionConfig:
    # The store renews the expiry on every request: max_age is the idle timeout.
    return RundaSessionConfig(
        key=SESSION_COOKIE,
        max_age=settings.session_idle_minutes * 60,
        renew_on_access=True,
        secure=settings.secure_cookies,
        httponly=True,
        samesite="lax",
        store="sessions",
        # Static files, the health check and calendar feeds (a calendar app, keyed by the URL's
        # token) need no person: no session read, no query, no cookie.
        exclude=["^/static/", "^/healthz$", "^/kalender/"],
    )


def csrf_config(settings: Settings) -> CSRFConfig:
    return CSRFConfig(
        secret=settings.secret_key,
        cookie_name=CSRF_COOKIE,
        header_name=CSRF_HEADER,
        cookie_secure=settings.secure_cookies,
        cookie_samesite="lax",
    )


def sign_in(connection: ASGIConnection, actor: SignedIn) -> None:
    """Start a fresh session for `actor` (a new session id, not the anonymous one)."""
    connection.set_session({"uid": actor.id, "at": time.time(), "_rotate": True})


def actor_middleware(settings: Settings, load_actor: ActorLoader):
    """Put the signed-in person (or None) in scope["user"] for every request, as `load_actor` finds them."""

    def factory(app: ASGIApp) -> ASGIApp:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            actor = None
            session = scope.get("session")
            if scope["type"] == "http" and isinstance(session, dict) and "uid" in session:
                actor = await load_actor(
                    int(session["uid"]), float(session.get("at", 0)),
                    absolute_hours=settings.session_absolute_hours,
                )
                if actor is None:
                    scope["session"] = {}
            scope["user"] = actor
            await app(scope, receive, send)

        return middleware

    return factory


def current_actor(connection: ASGIConnection) -> Any:
    """The signed-in person the loader gave (an accounts Actor); 401 when nobody is signed in."""
    actor = connection.scope.get("user")
    if actor is None:
        raise NotAuthorizedException()
    return actor


def requires(*roles: str):
    """Guard: a signed-in person, with one of `roles` when any are given."""

    def guard(connection: ASGIConnection, _: BaseRouteHandler) -> None:
        actor = current_actor(connection)
        if roles and actor.role not in roles:
            raise PermissionDeniedException()

    guard.roles = roles  # type: ignore[attr-defined]
    return guard


signed_in = requires()


def is_loopback(host: str | None) -> bool:
    try:
        return host is not None and ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def client_address(connection: ASGIConnection) -> str:
    return connection.client.host if connection.client else "unknown"


async def _is_rate_limited(request: ASGIConnection) -> bool:
    return bool(request.route_handler.opt.get("rate_limited"))


class CountingRateLimitMiddleware(RateLimitMiddleware):
    """Litestar's rate limit, counted by one atomic statement in the store.

    Litestar reads the history, then writes it back, behind a lock of its own process: with
    several processes the reads interleave and more than the limit gets through. Here each
    request adds one to the address's count for the current window and reads the new count
    in the same statement (PostgresStore.count), so the limit is exact with any number of
    processes."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        app = scope["litestar_app"]
        request = app.request_class(scope)
        if await self.should_check_request(request=request):
            window = DURATION_VALUES[self.unit]
            store = self.config.get_store_from_app(app)
            count, resets_in = await store.count(self.cache_key_from_request(request), window)
            headers = {
                self.config.rate_limit_policy_header_key: f"{self.max_requests}; w={window}",
                self.config.rate_limit_limit_header_key: str(self.max_requests),
                self.config.rate_limit_remaining_header_key: str(max(0, self.max_requests - count)),
                self.config.rate_limit_reset_header_key: str(resets_in),
            }
            if count > self.max_requests:
                # error_page shows the Swedish 429 page.
                raise TooManyRequestsException(headers={**headers, "retry-after": str(max(1, resets_in))})

            async def send_with_headers(message: Message) -> None:
                if message["type"] == "http.response.start":
                    response_headers = MutableScopeHeaders.from_message(message)
                    for key, value in headers.items():
                        response_headers[key] = value
                await send(message)

            await self.app(scope, receive, send_with_headers)
            return
        await self.app(scope, receive, send)


def rate_limit(per_minute: int) -> RateLimitConfig:
    """A per-address limit on the routes marked `opt={"rate_limited": True}`: at most
    `per_minute` requests to them, together, in each minute from an address's first.

    Counted in PostgreSQL, so every server process shares the same counters.
    """
    return RateLimitConfig(
        rate_limit=("minute", per_minute),
        store="rate_limit",
        identifier_for_request=client_address,
        check_throttle_handler=_is_rate_limited,
        middleware_class=CountingRateLimitMiddleware,
    )
