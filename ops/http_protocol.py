"""uvicorn's HTTP protocol (httptools) with the two bounds it lacks: the size of a request
head and the time a client may take to send it.

uvicorn limits a head's size only for h11 (`h11_max_incomplete_event_size`) and the
time only between requests (keep-alive); with httptools a client could send 50 MB
of headers, or a header line every few seconds for ever, each holding a
connection. Here a head over `http_max_head_bytes` is a 400 and the connection
closes; a connection whose head is not complete `http_head_timeout_seconds` after
it opened, or after the previous response, is closed. Slow bodies are bounded by
the GraphQL view (`http_body_timeout_seconds`).
"""

from __future__ import annotations

import asyncio
import json
import logging
from functools import cache
from typing import Any

from starlette.types import Receive, Scope, Send
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, service_unavailable

from i18n import negotiate_locale
from models.request_codes import RequestErrorCode
from ops.middleware import new_request_id, security_headers
from settings import get_settings

log = logging.getLogger("kundenportal.access")


class HeadTooLarge(Exception):
    """Raised inside a parser callback: httptools turns it into a parse error (400)."""


@cache
def _bounds() -> tuple[int, float]:
    settings = get_settings()
    return settings.http_max_head_bytes, settings.http_head_timeout_seconds


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._head_bytes = 0
        self._head_timer: asyncio.TimerHandle | None = None
        self._await_head()

    def _await_head(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
        self._head_timer = self.loop.call_later(_bounds()[1], self._head_too_slow)

    def _head_too_slow(self) -> None:
        self._head_timer = None
        if not self.transport.is_closing():
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._head_bytes = 0
        if self._head_timer is None:
            self._await_head()

    def _count(self, size: int) -> None:
        self._head_bytes += size
        if self._head_bytes > _bounds()[0]:
            raise HeadTooLarge

    def on_url(self, url: bytes) -> None:
        self._count(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count(len(name) + len(value) + 4)
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None
        super().on_headers_complete()

    def send_400_response(self, msg: str) -> None:
        """uvicorn's 400 for a request it could not parse (or a head too large), with the
        request id, the security headers and a GraphQL error body like every answer."""
        rid = new_request_id()
        body = json.dumps(
            {"errors": [{"message": msg, "extensions": {"code": "BAD_REQUEST", "errorId": rid}}]}
        ).encode()
        head = [b"HTTP/1.1 400 Bad Request\r\n"]
        headers = [
            *security_headers(hsts=get_settings().hsts),
            (b"x-request-id", rid.encode()),
            (b"content-type", b"application/json; charset=utf-8"),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
        ]
        head += [name + b": " + value + b"\r\n" for name, value in headers]
        self.transport.write(b"".join(head) + b"\r\n" + body)
        self.transport.close()
        log.warning("request %s refused: %s", rid, msg)

    def _start_asgi_task(self, cycle: Any, app: Any) -> None:
        """uvicorn answers over `limit_concurrency` with a bare text 503; ours carries the
        request id, the security headers and a GraphQL error, like every answer."""
        chosen: Any = busy if app is service_unavailable else app
        super()._start_asgi_task(cycle, chosen)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._await_head()


async def busy(scope: Scope, receive: Receive, send: Send) -> None:
    """503 with Retry-After for a request over the concurrency limit (code BUSY)."""
    rid = new_request_id()
    headers = dict(scope.get("headers") or [])
    locale = negotiate_locale(headers.get(b"accept-language", b"").decode("latin-1"))
    code = RequestErrorCode.BUSY
    error = {"message": code.message(locale), "extensions": {"code": code.name, "errorId": rid}}
    body = json.dumps({"errors": [error]}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 503,
            "headers": [
                *security_headers(hsts=get_settings().hsts),
                (b"x-request-id", rid.encode()),
                (b"retry-after", b"1"),
                (b"content-type", b"application/json; charset=utf-8"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
    log.warning("request %s refused: over the concurrency limit", rid)


def uvicorn_limits(**overrides: Any) -> dict[str, Any]:
    """The uvicorn options `kundenportal serve` passes, from the settings."""
    settings = get_settings()
    return {
        "http": BoundedHttpToolsProtocol,
        "h11_max_incomplete_event_size": settings.http_max_head_bytes,
        "timeout_keep_alive": settings.http_keep_alive_seconds,
        "limit_concurrency": settings.http_limit_concurrency,
        "backlog": settings.http_backlog,
        **overrides,
    }
