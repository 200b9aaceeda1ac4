"""The ASGI app: GraphQL at /graphql (GraphiQL's files under /graphiql/), liveness and
readiness, lifespan of DB and workers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

import db
from api import graphiql
from api.http import GraphQLView
from mailers.worker import run_worker
from security.passwords import PasswordHasher
from settings import Settings, get_settings


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    if await db.ping():
        return JSONResponse({"status": "ready"})
    return JSONResponse({"status": "database unavailable"}, status_code=503)


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or get_settings()
    settings.check_for_production()

    graphql = GraphQLView(settings)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            stack.push_async_callback(graphql.close)
            await stack.enter_async_context(db.database(settings.database_url))
            app.state.hasher = PasswordHasher(
                settings.bcrypt_rounds, settings.hash_workers, settings.hash_queue_limit
            )
            stack.callback(app.state.hasher.close)
            if settings.mail_worker_in_app:
                await stack.enter_async_context(run_worker(settings))
            yield

    app = Starlette(
        routes=[
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/graphql", graphql),  # every method: the view answers 405 itself
            Route(graphiql.ASSET_PATH + "{name}", graphiql.asset),
        ],
        lifespan=lifespan,
    )
    app.state.settings = settings
    return app
