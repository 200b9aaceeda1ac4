"""Errors of the API as clients meet it: request-level codes, and masking of the unexpected.

Expected failures (a malformed request, an unknown persisted query, a partner
sending an operation it did not register, a validation error, a `PublicError`)
reach the client readable, with `extensions.code`. Anything else is a bug or an
outage: the client gets `INTERNAL_SERVER_ERROR` and an `errorId` to quote, and
only the server log has the exception, under that id.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Iterator
from typing import Any

import strawberry
from graphql import GraphQLError
from starlette.types import Scope
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionContext

from api.executor import PlainLeavesFirst
from db import is_outage
from i18n import negotiate_locale
from models.errors import ErrorCode, PublicError
from models.request_codes import ApiErrorCode

log = logging.getLogger("kundenportal.api")


# Apollo clients recognise this exact message; it is protocol, not prose.
PERSISTED_QUERY_NOT_FOUND_MESSAGE = "PersistedQueryNotFound"


def request_error(code: ErrorCode, locale: str, **params: Any) -> GraphQLError:
    """A readable GraphQL error with `extensions.code` (and `params` as further extensions)."""
    return GraphQLError(code.message(locale, **params), extensions={"code": code.name, **params})


def internal_error_body(scope: Scope, error_id: str) -> bytes:
    """The body of a 500 that escaped everything else: a masked GraphQL error naming
    `error_id` (the request id, also in the X-Request-ID header and the log line)."""
    headers = dict(scope.get("headers") or [])
    locale = negotiate_locale(headers.get(b"accept-language", b"").decode("latin-1"))
    code = ApiErrorCode.INTERNAL_SERVER_ERROR
    error = {
        "message": code.message(locale, errorId=error_id),
        "extensions": {"code": code.name, "errorId": error_id},
    }
    return json.dumps({"errors": [error]}, separators=(",", ":")).encode()


def persisted_query_not_found() -> GraphQLError:
    return GraphQLError(
        PERSISTED_QUERY_NOT_FOUND_MESSAGE,
        extensions={"code": ApiErrorCode.PERSISTED_QUERY_NOT_FOUND.name},
    )


def is_unexpected(error: GraphQLError) -> bool:
    """True for errors caused by an exception the code did not mean to raise.

    graphql-core attaches the scalar's exception to errors about a bad variable
    or literal value too; those point at the document (nodes) but at no result
    path, and are the client's mistake, not ours.
    """
    original = error.original_error
    if original is None or isinstance(original, (GraphQLError, PublicError)):
        return False
    return not (error.path is None and error.nodes)


def mask(error: GraphQLError, locale: str) -> GraphQLError:
    """Replace an unexpected error by one with an id; log the original under that id.

    A database outage is no bug: it is answered SERVICE_UNAVAILABLE and logged as a warning.
    """
    original = error.original_error
    if is_outage(original):
        log.warning("database unavailable: %s", type(original).__name__)
        return GraphQLError(
            ApiErrorCode.SERVICE_UNAVAILABLE.message(locale),
            nodes=error.nodes,
            path=error.path,
            extensions={"code": ApiErrorCode.SERVICE_UNAVAILABLE.name},
        )
    error_id = secrets.token_hex(6)
    log.error(
        "unexpected error %s at %s: %s",
        error_id,
        ".".join(str(p) for p in error.path or ()) or "-",
        type(original).__name__,
        exc_info=(type(original), original, original.__traceback__) if original else None,
        extra={"error_id": error_id},
    )
    return GraphQLError(
        ApiErrorCode.INTERNAL_SERVER_ERROR.message(locale, errorId=error_id),
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        extensions={"code": ApiErrorCode.INTERNAL_SERVER_ERROR.name, "errorId": error_id},
    )


def locale_of(execution_context: ExecutionContext) -> str:
    return getattr(execution_context.context, "locale", "de")


class MaskUnexpectedErrors(SchemaExtension):
    """Masks the unexpected exceptions among an operation's errors, each with an error id
    (`mask`); the others reach the client as they are.

    strawberry's MaskErrors does the same, but first checks every result against a runtime
    Protocol (some 10 µs of `typing` machinery per operation, errors or not); this schema
    has neither subscriptions nor incremental delivery, so a result is one object with
    `errors`.
    """

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        errors = getattr(result, "errors", None)
        if result is not None and errors:
            locale = locale_of(self.execution_context)
            result.errors = [mask(e, locale) if is_unexpected(e) else e for e in errors]


class ApiSchema(strawberry.Schema):
    """The schema, logging only what needs a look: unexpected errors (with their id, when masked).

    strawberry logs every error with a traceback, validation errors included;
    for a public API that buries the real failures. It executes with
    `api.executor.PlainLeavesFirst`.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("execution_context_class", PlainLeavesFirst)
        super().__init__(*args, **kwargs)

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        for error in errors:
            if not is_unexpected(error):
                log.debug("request error: %s", error.message)
