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
from enum import Enum
from typing import Any

import strawberry
from graphql import GraphQLError
from starlette.types import Scope
from strawberry.extensions import MaskErrors
from strawberry.types import ExecutionContext

from db import is_outage
from i18n import negotiate_locale
from schema.errors import PublicError, message, register_messages

log = logging.getLogger("kundenportal.api")


@strawberry.enum(
    description="Codes in `errors[].extensions.code` for failures of the request as a whole "
    "(how it was sent, which document it names, who sent it), as opposed to a payload's errors. "
    "The HTTP statuses named apply to `application/graphql-response+json` responses; "
    "`application/json` answers 200 to every well-formed request."
)
class ApiErrorCode(Enum):
    BAD_REQUEST = strawberry.enum_value(
        "BAD_REQUEST",
        description="Not a well-formed GraphQL-over-HTTP request (bad JSON, wrong parameter "
        "types, batch, no document); `message` says what. HTTP 400.",
    )
    METHOD_NOT_ALLOWED = strawberry.enum_value(
        "METHOD_NOT_ALLOWED",
        description="Only GET and POST are served, and mutations only by POST. HTTP 405.",
    )
    NOT_ACCEPTABLE = strawberry.enum_value(
        "NOT_ACCEPTABLE",
        description="The Accept header allows neither application/graphql-response+json "
        "nor application/json. HTTP 406.",
    )
    REQUEST_TOO_LARGE = strawberry.enum_value(
        "REQUEST_TOO_LARGE", description="The request body exceeds the server's limit. HTTP 413."
    )
    REQUEST_TIMEOUT = strawberry.enum_value(
        "REQUEST_TIMEOUT",
        description="The request body did not arrive completely in time. HTTP 408.",
    )
    UNSUPPORTED_MEDIA_TYPE = strawberry.enum_value(
        "UNSUPPORTED_MEDIA_TYPE",
        description="A POST body must be `application/json` (UTF-8). HTTP 415.",
    )
    GRAPHQL_PARSE_FAILED = strawberry.enum_value(
        "GRAPHQL_PARSE_FAILED",
        description="The document is not valid GraphQL syntax, or has more tokens than allowed.",
    )
    GRAPHQL_VALIDATION_FAILED = strawberry.enum_value(
        "GRAPHQL_VALIDATION_FAILED",
        description="The document does not fit the schema or exceeds the depth or alias limit.",
    )
    OPERATION_TOO_COSTLY = strawberry.enum_value(
        "OPERATION_TOO_COSTLY",
        description="The operation would read more fields than allowed; `cost` and `maxCost` "
        "give the numbers. Ask for smaller pages or fewer fields.",
    )
    BAD_USER_INPUT = strawberry.enum_value(
        "BAD_USER_INPUT",
        description="A variable's value does not fit its declared type.",
    )
    PERSISTED_QUERY_NOT_FOUND = strawberry.enum_value(
        "PERSISTED_QUERY_NOT_FOUND",
        description="Automatic persisted queries: the hash is not known (yet); send the "
        "document together with the hash to register it. Message `PersistedQueryNotFound`.",
    )
    PERSISTED_QUERY_HASH_MISMATCH = strawberry.enum_value(
        "PERSISTED_QUERY_HASH_MISMATCH",
        description="The sha256Hash sent is not the SHA-256 of the document sent with it.",
    )
    PERSISTED_QUERY_INVALID = strawberry.enum_value(
        "PERSISTED_QUERY_INVALID",
        description="`extensions.persistedQuery` is malformed: version must be 1 and "
        "sha256Hash 64 hex digits, bare or as `sha256:<hex>`.",
    )
    PERSISTED_DOCUMENT_NOT_FOUND = strawberry.enum_value(
        "PERSISTED_DOCUMENT_NOT_FOUND",
        description="The `documentId` names no operation registered for the partner whose "
        "X-Api-Key came with it. HTTP 404.",
    )
    FREE_DOCUMENTS_DISABLED = strawberry.enum_value(
        "FREE_DOCUMENTS_DISABLED",
        description="This server runs only persisted operations: send a registered partner's "
        "X-Api-Key with a hash or documentId instead of a document.",
    )
    OPERATION_NOT_ALLOWED = strawberry.enum_value(
        "OPERATION_NOT_ALLOWED",
        description="A partner sent an operation that is not in its uploaded manifest. HTTP 403.",
    )
    INVALID_API_KEY = strawberry.enum_value(
        "INVALID_API_KEY", description="The X-Api-Key header names no active partner. HTTP 401."
    )
    SERVICE_UNAVAILABLE = strawberry.enum_value(
        "SERVICE_UNAVAILABLE",
        description="A service this API depends on (the database) does not answer right now; "
        "nothing was changed. Try again shortly. HTTP 503.",
    )
    INTERNAL_SERVER_ERROR = strawberry.enum_value(
        "INTERNAL_SERVER_ERROR",
        description="Something failed unexpectedly; quote `errorId` to support. The details "
        "are only in the server log.",
    )


register_messages(
    {
        ApiErrorCode.BAD_REQUEST: (
            "Die Anfrage ist ungültig: {reason}",
            "The request is malformed: {reason}",
        ),
        ApiErrorCode.METHOD_NOT_ALLOWED: (
            "Diese HTTP-Methode ist hier nicht erlaubt: {reason}",
            "This HTTP method is not allowed here: {reason}",
        ),
        ApiErrorCode.NOT_ACCEPTABLE: (
            "Antworten gibt es nur als application/graphql-response+json oder application/json.",
            "Responses are available as application/graphql-response+json or application/json.",
        ),
        ApiErrorCode.REQUEST_TOO_LARGE: (
            "Die Anfrage ist zu groß (höchstens {maxBytes} Bytes).",
            "The request is too large (at most {maxBytes} bytes).",
        ),
        ApiErrorCode.REQUEST_TIMEOUT: (
            "Die Anfrage kam nicht rechtzeitig vollständig an.",
            "The request did not arrive completely in time.",
        ),
        ApiErrorCode.UNSUPPORTED_MEDIA_TYPE: (
            "Der Inhalt muss application/json in UTF-8 sein.",
            "The body must be application/json in UTF-8.",
        ),
        ApiErrorCode.PERSISTED_QUERY_HASH_MISMATCH: (
            "Der sha256Hash passt nicht zum Dokument.",
            "The sha256Hash does not match the document.",
        ),
        ApiErrorCode.PERSISTED_QUERY_INVALID: (
            "extensions.persistedQuery ist ungültig: {reason}",
            "extensions.persistedQuery is invalid: {reason}",
        ),
        ApiErrorCode.PERSISTED_DOCUMENT_NOT_FOUND: (
            "Unter dieser documentId ist keine Operation registriert "
            "(eine documentId gilt nur mit dem X-Api-Key ihres Partners).",
            "No operation is registered under this documentId "
            "(a documentId works only with its partner's X-Api-Key).",
        ),
        ApiErrorCode.FREE_DOCUMENTS_DISABLED: (
            "Dieser Server führt nur registrierte Operationen aus.",
            "This server runs registered operations only.",
        ),
        ApiErrorCode.OPERATION_NOT_ALLOWED: (
            "Diese Operation ist für diesen Partner nicht registriert.",
            "This operation is not registered for this partner.",
        ),
        ApiErrorCode.INVALID_API_KEY: (
            "Der API-Schlüssel ist ungültig oder widerrufen.",
            "The API key is invalid or revoked.",
        ),
        ApiErrorCode.SERVICE_UNAVAILABLE: (
            "Der Dienst ist vorübergehend nicht erreichbar. Bitte versuchen Sie es gleich noch "
            "einmal.",
            "The service is temporarily unavailable. Please try again shortly.",
        ),
        ApiErrorCode.INTERNAL_SERVER_ERROR: (
            "Unerwarteter Fehler. Bitte nennen Sie dem Support die Fehlerkennung {errorId}.",
            "Unexpected error. Please quote error id {errorId} to support.",
        ),
    }
)

# Apollo clients recognise this exact message; it is protocol, not prose.
PERSISTED_QUERY_NOT_FOUND_MESSAGE = "PersistedQueryNotFound"


def request_error(code: Enum, locale: str, **params: Any) -> GraphQLError:
    """A readable GraphQL error with `extensions.code` (and `params` as further extensions)."""
    return GraphQLError(
        message(code, locale, **params), extensions={"code": str(code.value), **params}
    )


def internal_error_body(scope: Scope, error_id: str) -> bytes:
    """The body of a 500 that escaped everything else: a masked GraphQL error naming
    `error_id` (the request id, also in the X-Request-ID header and the log line)."""
    headers = dict(scope.get("headers") or [])
    locale = negotiate_locale(headers.get(b"accept-language", b"").decode("latin-1"))
    code = ApiErrorCode.INTERNAL_SERVER_ERROR
    error = {
        "message": message(code, locale, errorId=error_id),
        "extensions": {"code": code.value, "errorId": error_id},
    }
    return json.dumps({"errors": [error]}, separators=(",", ":")).encode()


def persisted_query_not_found() -> GraphQLError:
    return GraphQLError(
        PERSISTED_QUERY_NOT_FOUND_MESSAGE,
        extensions={"code": ApiErrorCode.PERSISTED_QUERY_NOT_FOUND.value},
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
            message(ApiErrorCode.SERVICE_UNAVAILABLE, locale),
            nodes=error.nodes,
            path=error.path,
            extensions={"code": ApiErrorCode.SERVICE_UNAVAILABLE.value},
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
        message(ApiErrorCode.INTERNAL_SERVER_ERROR, locale, errorId=error_id),
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        extensions={"code": ApiErrorCode.INTERNAL_SERVER_ERROR.value, "errorId": error_id},
    )


def locale_of(execution_context: ExecutionContext) -> str:
    return getattr(execution_context.context, "locale", "de")


class MaskUnexpectedErrors(MaskErrors):
    """strawberry's MaskErrors, masking only unexpected exceptions, each with an error id."""

    def __init__(self) -> None:
        super().__init__(should_mask_error=is_unexpected)

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        return mask(error, locale_of(self.execution_context))


class ApiSchema(strawberry.Schema):
    """The schema, logging only what needs a look: unexpected errors (with their id, when masked).

    strawberry logs every error with a traceback, validation errors included;
    for a public API that buries the real failures.
    """

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        for error in errors:
            if not is_unexpected(error):
                log.debug("request error: %s", error.message)
