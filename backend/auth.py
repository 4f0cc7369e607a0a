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
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware.rate_limit import RateLimitConfig
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
    """Server-side sessions whose id is replaced at sign-in (no session fixation)."""

    async def load_from_connection(self, connection: ASGIConnection) -> dict[str, Any]:
        session = await super().load_from_connection(connection)
        connection.scope.setdefault("state", {})["runda_session_loaded"] = dict(session)
        return session

    async def store_in_message(self, scope_session: Any, message: Message, connection: ASGIConnection) -> None:
        loaded = connection.scope.get("state", {}).get("runda_session_loaded")
        if (scope_session is not Empty and loaded and scope_session == loaded
                and connection.cookies.get(self.config.key)):
            # Unchanged: no write. The store renews the idle expiry on read (at most once a
            # minute), so a page view costs no session write and no commit.
            cookie_params = {
                "path": self.config.path, "secure": self.config.secure, "httponly": self.config.httponly,
                "samesite": self.config.samesite, "max_age": self.config.max_age,
            }
            header = Cookie(value=connection.cookies[self.config.key], key=self.config.key,
                            **cookie_params).to_header(header="")
            MutableScopeHeaders.from_message(message).add("Set-Cookie", header)
            return
        if scope_session is Empty or not scope_session.pop("_rotate", False):
            await super().store_in_message(scope_session, message, connection)
            return
        store = self.config.get_store_from_app(connection.scope["app"])
        old_id = connection.cookies.get(self.config.key)
        if old_id:
            await self.delete(old_id, store=store)
        session_id = self.generate_session_id()
        await self.set(session_id=session_id, data=self.serialize_data(scope_session, connection.scope), store=store)
        cookie_params = {
            "path": self.config.path, "secure": self.config.secure, "httponly": self.config.httponly,
            "samesite": self.config.samesite, "max_age": self.config.max_age,
        }
        header = Cookie(value=session_id, key=self.config.key, **cookie_params).to_header(header="")
        MutableScopeHeaders.from_message(message).add("Set-Cookie", header)


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
        # Static files and the health check need no person: no session read, no query.
        exclude=["^/static/", "^/healthz$"],
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


def rate_limit(per_minute: int) -> RateLimitConfig:
    """A per-address limit on the routes marked `opt={"rate_limited": True}`.

    Counted in PostgreSQL, so every server process shares the same counters.
    """
    return RateLimitConfig(
        rate_limit=("minute", per_minute),
        store="rate_limit",
        identifier_for_request=client_address,
        check_throttle_handler=_is_rate_limited,
    )
