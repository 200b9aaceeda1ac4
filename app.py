"""The ASGI app: GraphQL at /graphql, liveness and readiness, lifespan of DB and workers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from strawberry.asgi import GraphQL

import db
from i18n import negotiate_locale
from resolvers.context import Context
from schema import build_schema
from security.clients import client_address
from settings import Settings, get_settings


class GraphQLApp(GraphQL):
    """strawberry's ASGI view with this project's context."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(
            build_schema(),
            graphql_ide="graphiql" if settings.graphiql_enabled else None,
        )
        self.settings = settings

    async def get_context(self, request: Any, response: Any) -> Context:  # type: ignore[override]
        return Context(
            request=request,
            response=response,
            settings=self.settings,
            locale=negotiate_locale(request.headers.get("accept-language")),
            client_address=client_address(request, self.settings.trusted_proxies),
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
            yield

    graphql = GraphQLApp(settings)
    app = Starlette(
        routes=[
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/graphql", graphql, methods=["GET", "POST"]),
        ],
        lifespan=lifespan,
    )
    app.state.settings = settings
    return app
