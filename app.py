"""The ASGI app: GraphQL at /graphql, liveness and readiness, lifespan of DB and workers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from strawberry.asgi import GraphQL

import db
from i18n import negotiate_locale
from mailers.worker import run_worker
from ops.logs import configure_logging
from ops.metrics import metrics_endpoint
from ops.middleware import RequestMiddleware
from ops.purge import run_purges
from resolvers.context import Context
from schema import build_schema
from security.clients import client_address
from security.passwords import PasswordHasher
from security.sessions import authenticate
from settings import Settings, get_settings

CORS_HEADERS = [
    "content-type",
    "authorization",
    "x-csrf-token",
    "x-api-key",
    "x-request-id",
    "accept-language",
]


class GraphQLApp(GraphQL):
    """strawberry's ASGI view with this project's context."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(
            build_schema(),
            graphql_ide="graphiql" if settings.graphiql_enabled else None,
        )
        self.settings = settings

    async def get_context(self, request: Any, response: Any) -> Context:  # type: ignore[override]
        session, via_cookie = await authenticate(request, self.settings)
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


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    if await db.ping():
        return JSONResponse({"status": "ready"})
    return JSONResponse({"status": "database unavailable"}, status_code=503)


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or get_settings()
    settings.check_for_production()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            await stack.enter_async_context(db.database(settings.database_url))
            app.state.hasher = PasswordHasher(
                settings.bcrypt_rounds, settings.hash_workers, settings.hash_queue_limit
            )
            stack.callback(app.state.hasher.close)
            if settings.mail_worker_in_app:
                await stack.enter_async_context(run_worker(settings))
            if settings.purge_interval_seconds > 0:
                await stack.enter_async_context(run_purges(settings))
            yield

    configure_logging(settings.log_format_resolved, settings.log_level)
    graphql = GraphQLApp(settings)
    middleware = [Middleware(RequestMiddleware, hsts=settings.hsts)]
    if settings.cors_origins:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=settings.cors_origins,
                allow_credentials=True,
                allow_methods=["GET", "POST"],
                allow_headers=CORS_HEADERS,
                expose_headers=["X-Request-ID"],
                max_age=600,
            )
        )
    app = Starlette(
        routes=[
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", metrics_endpoint),
            Route("/graphql", graphql, methods=["GET", "POST"]),
        ],
        middleware=middleware,
        lifespan=lifespan,
    )
    app.state.settings = settings
    return app
