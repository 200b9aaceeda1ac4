"""One ASGI middleware for what every response needs: request id, headers, access log, metrics."""

from __future__ import annotations

import logging
import re
import time
import uuid

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


class RequestMiddleware:
    def __init__(self, app: ASGIApp, *, hsts: bool) -> None:
        self.app = app
        self.headers = [
            (b"x-content-type-options", b"nosniff"),
            (b"x-frame-options", b"DENY"),
            (b"referrer-policy", b"no-referrer"),
            (b"content-security-policy", CSP.encode()),
            (b"cross-origin-opener-policy", b"same-origin"),
            (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
            (b"cache-control", b"no-store"),
        ]
        if hsts:
            self.headers.append(
                (b"strict-transport-security", b"max-age=63072000; includeSubDomains")
            )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        rid = given if _VALID_ID.match(given) else uuid.uuid4().hex
        token = request_id.set(rid)
        started = time.perf_counter()
        status = 500
        path = loggable_path(scope.get("path", ""))
        route = (
            path if path in KNOWN_ROUTES else ("/static" if path.startswith("/static") else "other")
        )

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                names = {name.lower() for name, _ in message.get("headers", [])}
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", rid.encode()))
                headers.extend(h for h in self.headers if h[0] not in names)
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
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
