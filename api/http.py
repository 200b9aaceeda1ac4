"""GraphQL over HTTP at /graphql, as the GraphQL-over-HTTP specification describes it.

- Responses are `application/graphql-response+json` when the Accept header
  prefers it, `application/json` otherwise (also for `*/*` or no Accept).
  With `application/graphql-response+json` a request that never reached
  execution (parse or validation error, bad variables, refused document)
  answers 4xx; with `application/json` every well-formed request answers 200.
  The one exception is Apollo's `PersistedQueryNotFound`, which is 200 with
  both (uncacheable), as Apollo's server does: clients treat it as "send the
  document", not as a failure.
- A request that is not well-formed (bad JSON, wrong parameter types, a
  batch, no document) is 400 in both; another HTTP method 405; a mutation by
  GET 405; a body that is not JSON (or a multipart upload, `api/uploads.py`) 415;
  a body over `max_body_bytes` (`upload_max_body_bytes` for uploads) 413. Their
  bodies are GraphQL errors with `extensions.code` too.
- GET serves queries, including hash-only persisted queries, so that they
  can be cached on the way.
- A browser asking for HTML gets GraphiQL while it is on.
"""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

from cross_web import AsyncHTTPRequestAdapter, HTTPException
from graphql import GraphQLError
from graphql.error import GraphQLSyntaxError
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.http.parse_content_type import parse_content_type
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET

from api import graphiql
from api.errors import is_unexpected, mask
from api.limits import NUL_REFUSED
from api.persisted import DOCUMENT_ID, PersistedQueries
from api.served import served_schema
from api.uploads import MULTIPART, body_limit, has_csrf_proof, is_multipart, parse_multipart
from db import is_outage
from i18n import negotiate_locale
from models.request_codes import ApiErrorCode, RequestErrorCode
from resolvers.context import Context
from security.clients import client_address
from security.sessions import authenticate
from settings import Settings

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
JSON = "application/json"

# With application/graphql-response+json, the status of a request that did not execute.
STATUS_BY_CODE = {
    ApiErrorCode.PERSISTED_QUERY_NOT_FOUND.name: 200,
    ApiErrorCode.INVALID_API_KEY.name: 401,
    ApiErrorCode.OPERATION_NOT_ALLOWED.name: 403,
    ApiErrorCode.PERSISTED_DOCUMENT_NOT_FOUND.name: 404,
    RequestErrorCode.RATE_LIMITED.name: 429,
    ApiErrorCode.INTERNAL_SERVER_ERROR.name: 500,
    ApiErrorCode.SERVICE_UNAVAILABLE.name: 503,
}


MAX_JSON_DEPTH = 32
_SURROGATE = re.compile("[\ud800-\udfff]")


def json_problem(value: Any) -> str | None:
    """What makes parsed JSON unfit for a request, if anything: nesting deeper than
    `MAX_JSON_DEPTH` (variables nest a few levels; deeper only costs recursion), a
    lone surrogate escape such as `\\ud800` (JSON allows it, Unicode does not: it
    could be neither stored nor logged) or a NUL character (no text of the portal
    holds one, and PostgreSQL cannot store it). Iterative, linear in the value's size."""
    pending: list[tuple[Any, int]] = [(value, 0)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                return "a string holds a lone surrogate (e.g. \\ud800), which is not Unicode"
            if "\x00" in item:
                return NUL_REFUSED
        elif isinstance(item, dict | list):
            if depth >= MAX_JSON_DEPTH:
                return f"JSON nested deeper than {MAX_JSON_DEPTH} levels"
            children = [*item.keys(), *item.values()] if isinstance(item, dict) else item
            pending.extend((child, depth + 1) for child in children)
    return None


class RequestError(Exception):
    """The request is refused before GraphQL sees it; answered as a GraphQL error."""

    def __init__(
        self,
        status: int,
        code: ApiErrorCode | RequestErrorCode,
        headers: dict[str, str] | None = None,
        **params: Any,
    ) -> None:
        super().__init__(code.name)
        self.status = status
        self.code = code
        self.headers = headers or {}
        self.params = params


def negotiate_media_type(accept: str | None) -> str | None:
    """The response media type the Accept header prefers; None when it allows neither."""
    if not accept or not accept.strip():
        return JSON
    best: str | None = None
    best_rank: tuple[float, int, int] | None = None
    for position, part in enumerate(accept.split(",")):
        media, _, params = part.strip().partition(";")
        media = media.strip().lower()
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality <= 0:
            continue
        if media == GRAPHQL_RESPONSE_JSON:
            offered = GRAPHQL_RESPONSE_JSON
        elif media in (JSON, "application/*", "*/*"):
            offered = JSON
        else:
            continue
        # Higher quality wins; then the explicit graphql-response type; then the earlier entry.
        rank = (quality, 1 if offered == GRAPHQL_RESPONSE_JSON else 0, -position)
        if best_rank is None or rank > best_rank:
            best, best_rank = offered, rank
    return best


class GraphQLView(GraphQL):
    """strawberry's ASGI view with this project's context, protocol rules and limits."""

    def __init__(self, settings: Settings, *, query: type | None = None) -> None:
        self.settings = settings
        self.queries = PersistedQueries.from_settings(settings)
        schema_args = {"query": query} if query is not None else {}
        super().__init__(
            served_schema(settings, self.queries, **schema_args),
            graphql_ide=None,  # served by `graphiql.page_response`, without a CDN
            allow_queries_via_get=True,
            multipart_uploads_enabled=True,  # parsed by `parse_http_body` (api/uploads.py)
        )

    async def close(self) -> None:
        await self.queries.close()

    # strawberry types the context as its generic; ours is the operations' `Context`.
    async def get_context(self, request: Any, response: Any) -> Context:  # type: ignore[override]
        try:
            session, via_cookie = await authenticate(request, self.settings)
        except Exception as error:
            if is_outage(error):
                raise RequestError(503, ApiErrorCode.SERVICE_UNAVAILABLE) from error
            raise
        return Context(
            request=request,
            response=response,
            settings=self.settings,
            hasher=request.app.state.hasher,
            locale=negotiate_locale(request.headers.get("accept-language")),
            client_address=client_address(request, self.settings.trusted_proxies),
            session=session,
            login=session.login if session else None,
            via_cookie=via_cookie,
        )

    # ------------------------------------------------------------- requests

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit = body_limit(scope, self.settings)
        request = Request(scope, self._limited(receive, limit))
        media_type = negotiate_media_type(request.headers.get("accept"))
        request.state.media_type = media_type or JSON
        try:
            if request.method not in ("GET", "POST"):
                raise RequestError(
                    405,
                    ApiErrorCode.METHOD_NOT_ALLOWED,
                    {"Allow": "GET, POST"},
                    reason="use GET or POST",
                )
            if self._wants_graphiql(request):
                response = graphiql.page_response(request.url.path, self.settings)
            elif media_type is None:
                raise RequestError(406, ApiErrorCode.NOT_ACCEPTABLE)
            else:
                declared = request.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > limit:
                    raise self._too_large(limit)
                if is_multipart(request.headers.get("content-type")) and not has_csrf_proof(
                    request.headers
                ):
                    raise RequestError(403, RequestErrorCode.CSRF_TOKEN_INVALID)
                response = await self.run(request)
        except RequestError as error:
            response = self._error_response(request, error)
        except HTTPException as error:
            response = self._error_response(
                request,
                RequestError(error.status_code, ApiErrorCode.BAD_REQUEST, reason=error.reason),
            )
        except ClientDisconnect:
            return  # the client left while sending its request: no one to answer
        await response(scope, receive, send)

    def _too_large(self, limit: int) -> RequestError:
        return RequestError(413, ApiErrorCode.REQUEST_TOO_LARGE, maxBytes=limit)

    def _limited(self, receive: Receive, limit: int) -> Receive:
        """`receive`, refusing bodies larger than `limit` whatever Content-Length claimed,
        and bodies not complete `http_body_timeout_seconds` after the first read (408)."""
        received = 0
        deadline: float | None = None
        complete = False

        async def receive_limited() -> Message:
            nonlocal received, deadline, complete
            if complete:
                return await receive()
            loop = asyncio.get_running_loop()
            if deadline is None:
                deadline = loop.time() + self.settings.http_body_timeout_seconds
            try:
                async with asyncio.timeout_at(deadline):
                    message_ = await receive()
            except TimeoutError:
                raise RequestError(408, ApiErrorCode.REQUEST_TIMEOUT) from None
            if message_["type"] == "http.request":
                received += len(message_.get("body", b""))
                if received > limit:
                    raise self._too_large(limit)
                complete = not message_.get("more_body", False)
            return message_

        return receive_limited

    def _wants_graphiql(self, request: Request) -> bool:
        return (
            self.settings.graphiql_enabled
            and request.method == "GET"
            and "text/html" in request.headers.get("accept", "")
            and not any(p in request.query_params for p in ("query", "extensions", DOCUMENT_ID))
        )

    def should_render_graphql_ide(self, request: Any) -> bool:
        return False  # decided in __call__, with GraphiQL served from this app

    def _error_response(self, request: Request, error: RequestError) -> Response:
        locale = negotiate_locale(request.headers.get("accept-language"))
        params = error.params
        body = {
            "errors": [
                {
                    "message": error.code.message(locale, **params),
                    "extensions": {"code": error.code.name, **params},
                }
            ]
        }
        media_type = request.state.media_type if error.status != 406 else JSON
        return Response(
            json.dumps(body, separators=(",", ":")),
            status_code=error.status,
            media_type=f"{media_type}; charset=utf-8",
            headers=error.headers,
        )

    def parse_json(self, data: str | bytes) -> Any:
        """JSON from a body or query parameter; anything malformed is a 400, never a 500."""
        try:
            text = data.decode("utf-8") if isinstance(data, bytes) else data
            value = json.loads(text)
        except UnicodeDecodeError as error:
            raise HTTPException(400, "the body is not valid UTF-8") from error
        except RecursionError as error:
            raise HTTPException(400, f"JSON nested deeper than {MAX_JSON_DEPTH} levels") from error
        except ValueError as error:  # JSONDecodeError, or an integer of thousands of digits
            raise HTTPException(400, "Unable to parse request body as JSON") from error
        if problem := json_problem(value):
            raise HTTPException(400, problem)
        return value

    async def parse_http_body(self, request: AsyncHTTPRequestAdapter) -> GraphQLRequestData:
        """One operation from the query string (GET) or a JSON object body (POST)."""
        if request.method == "GET":
            data: Any = dict(request.query_params)
            for name in ("variables", "extensions"):
                if data.get(name):
                    data[name] = self.parse_json(data[name])
        else:
            media, params = parse_content_type(request.content_type or "")
            if media == MULTIPART:
                data = await parse_multipart(request)
            elif media != JSON or params.get("charset", "utf-8").lower() not in ("utf-8", "utf8"):
                raise RequestError(415, ApiErrorCode.UNSUPPORTED_MEDIA_TYPE)
            else:
                body = await request.get_body()
                if not body.strip():
                    raise HTTPException(400, "the body is empty")
                data = self.parse_json(body)
        if isinstance(data, list):
            raise HTTPException(400, "batching is not supported: send one operation per request")
        if not isinstance(data, dict):
            raise HTTPException(400, "the body must be a JSON object")
        expected = {
            "query": str,
            "operationName": str,
            "variables": dict,
            "extensions": dict,
            DOCUMENT_ID: str,
        }
        for name, kind in expected.items():
            if data.get(name) is not None and not isinstance(data[name], kind):
                what = "a string" if kind is str else "an object"
                raise HTTPException(400, f"`{name}` must be {what} or null")
        extensions = dict(data.get("extensions") or {})
        if data.get(DOCUMENT_ID) is not None:
            extensions[DOCUMENT_ID] = data[DOCUMENT_ID]
        return GraphQLRequestData(
            query=data.get("query"),
            variables=data.get("variables"),
            operation_name=data.get("operationName"),
            extensions=extensions or None,
        )

    async def execute_single(self, request: Any, request_adapter: Any, *args: Any, **kwargs: Any):
        try:
            return await super().execute_single(request, request_adapter, *args, **kwargs)
        except HTTPException as error:
            if request_adapter.method == "GET" and isinstance(
                error.__cause__, InvalidOperationTypeError
            ):
                raise RequestError(
                    405,
                    ApiErrorCode.METHOD_NOT_ALLOWED,
                    {"Allow": "POST"},
                    reason="mutations need POST",
                ) from error
            raise

    # -------------------------------------------------------------- results

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        """The response body; remembers for `run` which status and headers it calls for.

        `data` is present only when execution began (GraphQL spec, "Response").
        """
        locale = negotiate_locale(request.headers.get("accept-language"))
        errors = [mask(e, locale) if is_unexpected(e) else e for e in result.errors or ()]
        executed = result.data is not None or any(e.path for e in errors)
        stage = getattr(request.state, "graphql_stage", None)
        formatted: list[Any] = [self._formatted(e, executed, stage) for e in errors]
        body: GraphQLHTTPResponse = {"data": result.data} if executed else {}
        if formatted:
            body["errors"] = formatted
        if result.extensions:
            body["extensions"] = result.extensions
        request.state.graphql_outcome = (executed, formatted)
        return body

    @staticmethod
    def _formatted(error: GraphQLError, executed: bool, stage: str | None) -> dict[str, Any]:
        """The error as JSON; graphql-core's parse and validation errors get a code too."""
        formatted: dict[str, Any] = dict(error.formatted)
        extensions = dict(formatted.get("extensions") or {})
        if "code" not in extensions and not executed:
            if isinstance(error, GraphQLSyntaxError):
                extensions["code"] = ApiErrorCode.GRAPHQL_PARSE_FAILED.name
            elif stage == "validated":
                extensions["code"] = ApiErrorCode.BAD_USER_INPUT.name
            else:
                extensions["code"] = ApiErrorCode.GRAPHQL_VALIDATION_FAILED.name
        if extensions:
            formatted["extensions"] = extensions
        return formatted

    # Narrower than strawberry's signature (ASGI requests only), which mypy calls an override.
    async def run(self, request: Any, context: Any = UNSET, root_value: Any = UNSET) -> Response:  # type: ignore[override]
        response = await super().run(request, context, root_value)
        outcome = getattr(request.state, "graphql_outcome", None)
        if outcome is None:
            return response
        executed, errors = outcome
        codes = [e.get("extensions", {}).get("code") for e in errors]
        media_type = request.state.media_type
        response.headers["content-type"] = f"{media_type}; charset=utf-8"
        response.headers["vary"] = "Accept"
        if ApiErrorCode.PERSISTED_QUERY_NOT_FOUND.name in codes:
            response.headers["cache-control"] = "private, no-cache, must-revalidate"
        for error in errors:
            retry_after = error.get("extensions", {}).get("retryAfter")
            if retry_after is not None:
                response.headers["retry-after"] = str(retry_after)
        if media_type == GRAPHQL_RESPONSE_JSON and not executed and codes:
            response.status_code = STATUS_BY_CODE.get(codes[0], 400)
        return response
