"""API tokens on the web (admin): list, create (the token shown once), revoke, each token's
history; and the API's endpoints for admins, read from the OpenAPI schema the app serves."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from backend.accounts.tables import Role
from backend.auth import current_actor, requires
from backend.errors import DomainError
from backend.forms import Form, fields, text
from backend.integrations import service
from backend.integrations.api_routes import API_PATH, REQUESTS_PER_MINUTE, SCHEMA_JSON
from backend.integrations.tables import SCOPE_LABELS, TokenScope

BASE = "/admin/api-nycklar"
NOTICES = {"aterkallad": "Nyckeln är återkallad. Anrop med den nekas från och med nu."}
SCOPE_HINTS = {
    TokenScope.read: "hjälpmedel, artiklar, arbetsordrar, felanmälningar och FU-status.",
    TokenScope.write: "allt som en läsnyckel får, och dessutom beställa reparationer.",
}


class ApiTokenController(Controller):
    path = BASE
    guards = [requires(Role.admin)]

    async def _list(self, request: Request, *, form: dict | None = None, error: DomainError | None = None,
                    created: dict | None = None, status: int = 200) -> Template:
        actor = current_actor(request)
        return Template("integrations/tokens.html", context={
            "tokens": await service.tokens(actor.organisation), "form": form or {"scope": TokenScope.read.value},
            "error": error, "created": created,
            "scopes": [(scope.value, f"{SCOPE_LABELS[scope]}: {SCOPE_HINTS[scope]}") for scope in TokenScope],
        }, status_code=status)

    @get("/")
    async def tokens(self, request: Request) -> Template:
        return await self._list(request)

    @post("/")
    async def create(self, request: Request, data: Form) -> Template:
        actor = current_actor(request)
        form = fields(data)
        try:
            typed = {"name": text(form, "name", 1000), "scope": text(form, "scope", 20)}
            token_id, token = await service.create_token(actor, **typed)
        except DomainError as exc:
            return await self._list(request, form={k: v for k, v in form.items() if isinstance(v, str)},
                                    error=exc, status=400)
        return await self._list(request, created={"id": token_id, "name": typed["name"], "token": token})

    @get("/dokumentation")
    async def documentation(self, request: Request) -> Template:
        schema = request.app.openapi_schema.to_schema()
        return Template("integrations/docs.html", context={
            "endpoints": _endpoints(schema), "types": _types(schema), "schema_url": SCHEMA_JSON,
            "api_path": API_PATH, "per_minute": REQUESTS_PER_MINUTE,
        })

    async def _page(self, request: Request, token_id: int, *, error: DomainError | None = None,
                    notice: str | None = None, status: int = 200) -> Template:
        actor = current_actor(request)
        try:
            token = await service.token(actor.organisation, token_id)
        except service.TokenNotFound:
            raise NotFoundException() from None
        return Template("integrations/token.html", context={
            "token": token, "error": error, "notice": NOTICES.get(notice or ""),
            "history": await service.history(actor.organisation, token_id),
            "labels": service.HISTORY_LABELS, "values": service.HISTORY_VALUES,
        }, status_code=status)

    @get("/{token_id:int}")
    async def token(self, request: Request, token_id: FromPath[int], klart: FromQuery[str | None] = None) -> Template:
        return await self._page(request, token_id, notice=klart)

    @post("/{token_id:int}/aterkalla")
    async def revoke(self, request: Request, token_id: FromPath[int]) -> Template | Redirect:
        try:
            await service.revoke_token(current_actor(request), token_id)
        except service.TokenNotFound:
            raise NotFoundException() from None
        except DomainError as exc:
            return await self._page(request, token_id, error=exc, status=400)
        return Redirect(f"{BASE}/{token_id}?klart=aterkallad", status_code=303)


# --- the endpoints, from the OpenAPI schema -------------------------------------------------------

_METHODS = ("get", "post", "put", "patch", "delete")


def _ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def _type(schema: dict[str, Any]) -> str:
    """A schema's type in a few words: "string (date)", "DeviceSummary", "list of Article"…"""
    if "$ref" in schema:
        return _ref_name(schema["$ref"])
    for key in ("oneOf", "anyOf"):
        if key in schema:
            kinds = [_type(option) for option in schema[key] if option.get("type") != "null"]
            nullable = len(kinds) < len(schema[key])
            return " eller ".join(kinds) + (" eller null" if nullable else "")
    kind = schema.get("type", "")
    if isinstance(kind, list):
        nullable = "null" in kind
        kind = " eller ".join(k for k in kind if k != "null") + (" eller null" if nullable else "")
    if kind == "array":
        return f"lista av {_type(schema.get('items', {}))}"
    if "enum" in schema:
        return f"{kind}: " + ", ".join(str(v) for v in schema["enum"] if v is not None)
    return f"{kind} ({schema['format']})" if schema.get("format") else kind


def _endpoints(schema: dict[str, Any]) -> list[dict]:
    endpoints = []
    for path, item in schema.get("paths", {}).items():
        for method in _METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            body = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
            endpoints.append({
                "method": method.upper(), "path": path, "summary": operation.get("summary", ""),
                "description": operation.get("description", ""), "writes": method != "get",
                "parameters": [{"name": p["name"], "in": {"path": "sökväg", "query": "fråga"}.get(p["in"], p["in"]),
                                "required": p.get("required", False), "type": _type(p.get("schema", {})),
                                "description": p.get("description", "")}
                               for p in operation.get("parameters", [])],
                "body": _type(body) if body else None,
                "responses": [(code, _type(r.get("content", {}).get("application/json", {}).get("schema", {})))
                              for code, r in operation.get("responses", {}).items()],
            })
    return endpoints


def _types(schema: dict[str, Any]) -> list[dict]:
    types = []
    for name, definition in sorted(schema.get("components", {}).get("schemas", {}).items()):
        if "properties" not in definition:
            continue
        required = set(definition.get("required", []))
        types.append({"name": name, "fields": [(field, _type(spec), field in required)
                                              for field, spec in definition["properties"].items()]})
    return types
