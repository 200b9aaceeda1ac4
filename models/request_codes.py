"""Codes of failures of the request as a whole, in `errors[].extensions.code`."""

from __future__ import annotations

from models.errors import Declared, ErrorCode


class RequestErrorCode(ErrorCode):
    """Codes of errors that concern the request as a whole."""

    UNAUTHENTICATED = Declared(
        "No valid session: log in (again).",
        "Bitte melden Sie sich an.",
        "Please log in.",
    )
    CSRF_TOKEN_INVALID = Declared(
        "A cookie-authenticated mutation lacked the session's X-CSRF-Token header.",
        "Die Anfrage konnte nicht bestätigt werden. Bitte laden Sie die Seite neu.",
        "The request could not be verified. Please reload the page.",
    )
    RATE_LIMITED = Declared(
        "Too many attempts; `retryAfter` says how many seconds to wait.",
        "Zu viele Versuche. Bitte warten Sie {retryAfter} Sekunden.",
        "Too many attempts. Please wait {retryAfter} seconds.",
    )
    BUSY = Declared(
        "The server is busy; try again shortly.",
        "Der Dienst ist gerade ausgelastet. Bitte versuchen Sie es gleich noch einmal.",
        "The service is busy right now. Please try again in a moment.",
    )


class ApiErrorCode(ErrorCode):
    """Codes in `errors[].extensions.code` for failures of the request as a whole (how it was
    sent, which document it names, who sent it), as opposed to a payload's errors. The HTTP
    statuses named apply to `application/graphql-response+json` responses;
    `application/json` answers 200 to every well-formed request.
    """

    BAD_REQUEST = Declared(
        "Not a well-formed GraphQL-over-HTTP request (bad JSON, wrong parameter types, batch, "
        "no document); `extensions.reason` says what (in English, as the English message). "
        "HTTP 400.",
        "Die Anfrage ist ungültig (JSON, Parameter oder Dokument; Einzelheiten in "
        "extensions.reason).",
        "The request is malformed: {reason}",
    )
    METHOD_NOT_ALLOWED = Declared(
        "Only GET and POST are served, and mutations only by POST. HTTP 405.",
        "Diese HTTP-Methode ist hier nicht erlaubt: Anfragen nur per GET oder POST, "
        "Mutationen nur per POST.",
        "This HTTP method is not allowed here: requests only by GET or POST, mutations only "
        "by POST.",
    )
    NOT_ACCEPTABLE = Declared(
        "The Accept header allows neither application/graphql-response+json nor "
        "application/json. HTTP 406.",
        "Antworten gibt es nur als application/graphql-response+json oder application/json.",
        "Responses are available as application/graphql-response+json or application/json.",
    )
    REQUEST_TOO_LARGE = Declared(
        "The request body exceeds the server's limit. HTTP 413.",
        "Die Anfrage ist zu groß (höchstens {maxBytes} Bytes).",
        "The request is too large (at most {maxBytes} bytes).",
    )
    REQUEST_TIMEOUT = Declared(
        "The request body did not arrive completely in time. HTTP 408.",
        "Die Anfrage kam nicht rechtzeitig vollständig an.",
        "The request did not arrive completely in time.",
    )
    UNSUPPORTED_MEDIA_TYPE = Declared(
        "A POST body must be `application/json` (UTF-8). HTTP 415.",
        "Der Inhalt muss application/json in UTF-8 sein.",
        "The body must be application/json in UTF-8.",
    )
    GRAPHQL_PARSE_FAILED = Declared(
        "The document is not valid GraphQL syntax, or has more tokens than allowed.",
    )
    GRAPHQL_VALIDATION_FAILED = Declared(
        "The document does not fit the schema or exceeds the depth or alias limit.",
    )
    OPERATION_TOO_COSTLY = Declared(
        "The operation would read more fields than allowed; `cost` and `maxCost` give the "
        "numbers. Ask for smaller pages or fewer fields.",
    )
    BAD_USER_INPUT = Declared(
        "A variable's value does not fit its declared type.",
    )
    PERSISTED_QUERY_NOT_FOUND = Declared(
        "Automatic persisted queries: the hash is not known (yet); send the document together "
        "with the hash to register it. Message `PersistedQueryNotFound`.",
    )
    PERSISTED_QUERY_HASH_MISMATCH = Declared(
        "The sha256Hash sent is not the SHA-256 of the document sent with it.",
        "Der sha256Hash passt nicht zum Dokument.",
        "The sha256Hash does not match the document.",
    )
    PERSISTED_QUERY_INVALID = Declared(
        "`extensions.persistedQuery` is malformed: version must be 1 and sha256Hash 64 hex "
        "digits, bare or as `sha256:<hex>`.",
        "extensions.persistedQuery ist ungültig: {reason}",
        "extensions.persistedQuery is invalid: {reason}",
    )
    PERSISTED_DOCUMENT_NOT_FOUND = Declared(
        "The `documentId` names no operation registered for the partner whose X-Api-Key came "
        "with it. HTTP 404.",
        "Unter dieser documentId ist keine Operation registriert (eine documentId gilt nur mit "
        "dem X-Api-Key ihres Partners).",
        "No operation is registered under this documentId (a documentId works only with its "
        "partner's X-Api-Key).",
    )
    FREE_DOCUMENTS_DISABLED = Declared(
        "This server runs only persisted operations: send a registered partner's X-Api-Key "
        "with a hash or documentId instead of a document.",
        "Dieser Server führt nur registrierte Operationen aus.",
        "This server runs registered operations only.",
    )
    OPERATION_NOT_ALLOWED = Declared(
        "A partner sent an operation that is not in its uploaded manifest. HTTP 403.",
        "Diese Operation ist für diesen Partner nicht registriert.",
        "This operation is not registered for this partner.",
    )
    INVALID_API_KEY = Declared(
        "The X-Api-Key header names no active partner. HTTP 401.",
        "Der API-Schlüssel ist ungültig oder widerrufen.",
        "The API key is invalid or revoked.",
    )
    SERVICE_UNAVAILABLE = Declared(
        "A service this API depends on (the database) does not answer right now; nothing was "
        "changed. Try again shortly. HTTP 503.",
        "Der Dienst ist vorübergehend nicht erreichbar. Bitte versuchen Sie es gleich noch einmal.",
        "The service is temporarily unavailable. Please try again shortly.",
    )
    INTERNAL_SERVER_ERROR = Declared(
        "Something failed unexpectedly; quote `errorId` to support. The details are only in "
        "the server log.",
        "Unerwarteter Fehler. Bitte nennen Sie dem Support die Fehlerkennung {errorId}.",
        "Unexpected error. Please quote error id {errorId} to support.",
    )


MAX_PAGE_SIZE = 100
"""The most items a page of a list holds (`first`, `schema.connections`)."""


class PageErrorCode(ErrorCode):
    """Codes of errors in the arguments of a paginated field."""

    INVALID_PAGE = Declared(
        f"`first` is not between 0 and {MAX_PAGE_SIZE}.",
        "Die Seitenangabe ist ungültig: höchstens {maximum} Einträge pro Seite.",
        "Invalid page: at most {maximum} items per page.",
    )
    INVALID_CURSOR = Declared(
        "`after` is no cursor of this list: malformed, or taken from another list. Use "
        "`pageInfo.endCursor` or an edge's `cursor` of the same field, or leave it out to "
        "start from the beginning.",
        "Die Position in der Liste ist ungültig. Bitte laden Sie die Liste neu.",
        "Invalid cursor. Please load the list from the start.",
    )
    TOO_MANY_IDS = Declared(
        f"`nodes(ids:)` was given more than {MAX_PAGE_SIZE} IDs.",
        "Zu viele IDs: höchstens {maximum} auf einmal.",
        "Too many IDs: at most {maximum} at once.",
    )
