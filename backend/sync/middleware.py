"""Idempotent writes on the web: a POST with an `Idempotency-Key` header is applied at most once.

Wrapped around the routes a technician writes to (the outbox's targets). It reads the key
and the body (never past the route's size limit: 413) and hands the route a `Delivery`
(scope state "runda.delivery"). The route runs its write through `service.apply_or_keep`,
which replays the first answer for a key seen before (refusing the same key with another
change, 422), or applies the write or keeps it as a conflict, with the receipt, in one
transaction: what is kept is decided there, never from the answer's status code. A redirect
becomes JSON for the outbox.
"""

from __future__ import annotations

import json
import uuid

from litestar.datastructures import Headers
from litestar.response import Response
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from backend.sync import service

REPLAYED_BODY = (
    "<!doctype html><html lang=\"sv\"><meta charset=\"utf-8\"><title>Redan mottagen – Runda</title>"
    "<p>Ändringen är redan mottagen. Inget har sparats två gånger.</p></html>"
).encode()

DELIVERY = "runda.delivery"


def delivery_of(scope: Scope) -> service.Delivery | None:
    """The keyed write this request carries, if any (set by `idempotent_writes`)."""
    return scope.get("state", {}).get(DELIVERY)


def _error(status: int, text: str) -> list[Message]:
    body = (f"<!doctype html><html lang=\"sv\"><meta charset=\"utf-8\"><title>Runda</title><p>{text}</p></html>"
            ).encode()
    return [
        {"type": "http.response.start", "status": status,
         "headers": [(b"content-type", b"text/html; charset=utf-8"), (b"content-length", str(len(body)).encode())]},
        {"type": "http.response.body", "body": body},
    ]


async def _send_all(send: Send, messages: list[Message]) -> None:
    for message in messages:
        await send(message)


def idempotent_writes(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        headers = Headers.from_scope(scope)
        raw_key = headers.get("idempotency-key")
        actor = scope.get("user")
        if scope["type"] != "http" or scope["method"] != "POST" or raw_key is None or actor is None:
            await app(scope, receive, send)
            return
        try:
            key = str(uuid.UUID(raw_key))
        except ValueError:
            await _send_all(send, _error(400, "Ändringens nyckel (Idempotency-Key) ska vara ett UUID."))
            return

        # The route's size limit holds before anything is kept in memory: a body declared, or
        # found while reading, to be larger is answered 413 and the rest is never read.
        limit = _body_limit(scope)
        if limit is not None and _declared_length(headers) > limit:
            await _send_all(send, _too_large(limit))
            return
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if limit is not None and size > limit:
                await _send_all(send, _too_large(limit))
                return
            chunks.append(chunk)
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        digest = service.body_hash(body, headers.get("content-type", ""))
        path = scope["path"]
        sent_body = False

        async def replay_receive() -> Message:
            nonlocal sent_body
            if sent_body:
                return {"type": "http.disconnect"}
            sent_body = True
            return {"type": "http.request", "body": body, "more_body": False}

        captured: list[Message] = []

        async def capture(message: Message) -> None:
            captured.append(message)

        scope.setdefault("state", {})[DELIVERY] = service.Delivery(key=key, path=path, digest=digest)
        await app(scope, replay_receive, capture)
        if "application/json" in headers.get("accept", ""):
            captured = _as_json(captured)
        await _send_all(send, captured)

    return middleware


def _body_limit(scope: Scope) -> int | None:
    """The matched route's request_max_body_size (its own, its controller's, or the app's)."""
    handler = scope.get("route_handler")
    return handler.resolve_request_max_body_size() if handler is not None else None


def _declared_length(headers: Headers) -> int:
    try:
        return int(headers.get("content-length", "0"))
    except ValueError:
        return 0


def _too_large(limit: int) -> list[Message]:
    megabytes = max(1, round(limit / 1_000_000))
    return _error(413, f"Ändringen är för stor för att tas emot (högst {megabytes} MB). Ingenting har sparats.")


def _as_json(messages: list[Message]) -> list[Message]:
    """The outbox asks for JSON: a redirect becomes 200 {"status", "location"} so a script can
    read where it leads (a fetch cannot read an opaque redirect). Other answers stay as they are."""
    start = next(m for m in messages if m["type"] == "http.response.start")
    if not 300 <= start["status"] < 400:
        return messages
    location = next((v.decode() for k, v in start.get("headers", []) if k.lower() == b"location"), "")
    replayed = any(k.lower() == b"idempotent-replayed" for k, _ in start.get("headers", []))
    body = json.dumps({"status": start["status"], "location": location, "replayed": replayed}).encode()
    return [{"type": "http.response.start", "status": 200,
             "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                         (b"cache-control", b"no-store")]},
            {"type": "http.response.body", "body": body}]


def replayed(receipt: service.Receipt) -> Response:
    """The first answer to a key, for a route whose write found the key taken meanwhile."""
    headers = {"idempotent-replayed": "true", **({"location": receipt.location} if receipt.location else {})}
    return Response(REPLAYED_BODY, status_code=receipt.status, media_type="text/html", headers=headers)


def key_reused() -> Response:
    body = _error(422, service.KeyReused().message)[1]["body"]
    return Response(body, status_code=422, media_type="text/html")
