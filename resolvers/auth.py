"""Authentication for operations: one helper each, at the top of every operation."""

from __future__ import annotations

from enum import Enum

import strawberry
from graphql import OperationType

from models import Login
from resolvers.context import Context
from schema.errors import PublicError, register_messages
from security.sessions import csrf_ok


@strawberry.enum(description="Codes of errors that concern the request as a whole.")
class RequestErrorCode(Enum):
    UNAUTHENTICATED = strawberry.enum_value(
        "UNAUTHENTICATED", description="No valid session: log in (again)."
    )
    CSRF_TOKEN_INVALID = strawberry.enum_value(
        "CSRF_TOKEN_INVALID",
        description="A cookie-authenticated mutation lacked the session's X-CSRF-Token header.",
    )
    RATE_LIMITED = strawberry.enum_value(
        "RATE_LIMITED", description="Too many attempts; `retryAfter` says how many seconds to wait."
    )
    BUSY = strawberry.enum_value("BUSY", description="The server is busy; try again shortly.")


register_messages(
    {
        RequestErrorCode.UNAUTHENTICATED: (
            "Bitte melden Sie sich an.",
            "Please log in.",
        ),
        RequestErrorCode.CSRF_TOKEN_INVALID: (
            "Die Anfrage konnte nicht bestätigt werden. Bitte laden Sie die Seite neu.",
            "The request could not be verified. Please reload the page.",
        ),
        RequestErrorCode.RATE_LIMITED: (
            "Zu viele Versuche. Bitte warten Sie {retryAfter} Sekunden.",
            "Too many attempts. Please wait {retryAfter} seconds.",
        ),
        RequestErrorCode.BUSY: (
            "Der Dienst ist gerade ausgelastet. Bitte versuchen Sie es gleich noch einmal.",
            "The service is busy right now. Please try again in a moment.",
        ),
    }
)


def require_login(info: strawberry.Info[Context, None]) -> Login:
    """The logged-in login, or an UNAUTHENTICATED error.

    A session from a cookie may change data only with its CSRF token.
    """
    context = info.context
    if context.session is None or context.login is None:
        raise PublicError(RequestErrorCode.UNAUTHENTICATED, context.locale)
    if (
        context.via_cookie
        and info.operation.operation == OperationType.MUTATION
        and not csrf_ok(context.request, context.session, context.settings)
    ):
        raise PublicError(RequestErrorCode.CSRF_TOKEN_INVALID, context.locale)
    return context.login
