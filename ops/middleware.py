"""One ASGI middleware for what every response needs: request id, headers, access log, metrics."""

from __future__ import annotations

import json
import logging
import os
import re
import time
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ops.logs import request_id
from ops.metrics import HTTP_LATENCY, HTTP_REQUESTS

log = logging.getLogger("kundenportal.access")
_VALID_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
KNOWN_ROUTES = {"/graphql", "/healthz", "/readyz", "/metrics"}
# Paths whose last part is a credential (a signed download link): logged without it.
SECRET_PATH_PREFIXES = ("/documents/invoices/",)


def loggable_path(path: str) -> str:
    for prefix in SECRET_PATH_PREFIXES:
        if path.startswith(prefix):
            return prefix + "…"
    return path


# A strict policy: only our own scripts, styles and fetches (GraphiQL's assets are served by us).
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'"
)


def security_headers(*, hsts: bool) -> list[tuple[bytes, bytes]]:
    """The headers every response carries (also those uvicorn writes itself)."""
    headers = [
        (b"x-content-type-options", b"nosniff"),
        (b"x-frame-options", b"DENY"),
        (b"referrer-policy", b"no-referrer"),
        (b"content-security-policy", CSP.encode()),
        (b"cross-origin-opener-policy", b"same-origin"),
        (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
        (b"cache-control", b"no-store"),
    ]
    if hsts:
        headers.append((b"strict-transport-security", b"max-age=63072000; includeSubDomains"))
    return headers


def new_request_id() -> str:
    """A random UUID (version 4) as 32 hex digits, as `uuid.uuid4().hex` writes it, in a
    third of the time (uuid's class checks its arguments): every request gets one."""
    raw = bytearray(os.urandom(16))
    raw[6] = raw[6] & 0x0F | 0x40  # version 4
    raw[8] = raw[8] & 0x3F | 0x80  # the RFC 4122 variant
    return raw.hex()


def plain_error_body(scope: Scope, error_id: str) -> bytes:
    """The body of an unexpected failure when the app gives no better one."""
    body = {"errors": [{"message": "Internal Server Error", "extensions": {"errorId": error_id}}]}
    return json.dumps(body).encode()


class RequestMiddleware:
    """Request id, security headers, access log and metrics for every response.

    An exception that escapes the app before it answered is logged with the
    request id and answered here (500, JSON from `error_body`), so even that
    response carries the request id and the security headers; Starlette's own
    last-resort answer would be a bare text/plain 500 without them.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        hsts: bool,
        error_body: Callable[[Scope, str], bytes] = plain_error_body,
    ) -> None:
        self.app = app
        self.error_body = error_body
        self.headers = security_headers(hsts=hsts)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        rid = given if _VALID_ID.match(given) else new_request_id()
        token = request_id.set(rid)
        started = time.perf_counter()
        status = 500
        path = loggable_path(scope.get("path", ""))
        route = (
            path if path in KNOWN_ROUTES else ("/static" if path.startswith("/static") else "other")
        )

        started_response = False

        async def send_with_headers(message: Message) -> None:
            nonlocal status, started_response
            if message["type"] == "http.response.start":
                started_response = True
                status = message["status"]
                names = {name.lower() for name, _ in message.get("headers", [])}
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", rid.encode()))
                headers.extend(h for h in self.headers if h[0] not in names)
                message["headers"] = headers
            await send(message)

        try:
            try:
                await self.app(scope, receive, send_with_headers)
            except Exception:
                log.exception("unexpected error %s: unhandled", rid, extra={"error_id": rid})
                if started_response:
                    raise  # half an answer is out: only closing the connection is left
                await send_with_headers(
                    {
                        "type": "http.response.start",
                        "status": 500,
                        "headers": [(b"content-type", b"application/json; charset=utf-8")],
                    }
                )
                await send_with_headers(
                    {"type": "http.response.body", "body": self.error_body(scope, rid)}
                )
        finally:
            elapsed = time.perf_counter() - started
            HTTP_REQUESTS.labels(route, f"{status // 100}xx").inc()
            HTTP_LATENCY.labels(route).observe(elapsed)
            client = scope.get("client") or ("", 0)
            log.info(
                "%s %s %s",
                scope.get("method"),
                path,
                status,
                extra={
                    "method": scope.get("method"),
                    "path": path,
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 1),
                    "client": client[0],
                },
            )
            request_id.reset(token)
