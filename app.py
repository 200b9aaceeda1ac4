"""The ASGI app: GraphQL at /graphql (GraphiQL's files under /static/graphiql/), liveness and
readiness, lifespan of DB and workers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

import db
from api import documents, graphiql
from api.errors import internal_error_body
from api.http import GraphQLView
from mailers.worker import run_worker, run_worker_process, runs_as_process
from ops import tasks
from ops.logs import configure_logging
from ops.memory import startup_objects_frozen
from ops.metrics import metrics_endpoint
from ops.middleware import RequestMiddleware
from ops.purge import run_purges
from security.passwords import PasswordHasher
from security.ratelimit import rate_limiter
from settings import Settings, get_settings

CORS_HEADERS = [
    "content-type",
    "authorization",
    "x-csrf-token",
    "x-api-key",
    "x-request-id",
    "accept-language",
]


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    if await db.ping(request.app.state.settings.readiness_timeout_seconds):
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
            await stack.enter_async_context(
                db.database(settings.database_url, settings.db_timeouts)
            )
            stack.push_async_callback(tasks.drain)
            app.state.hasher = PasswordHasher(
                settings.bcrypt_rounds,
                settings.hash_workers,
                settings.hash_queue_limit,
                nice=settings.hash_thread_nice,
            )
            stack.callback(app.state.hasher.close)
            stack.push_async_callback(rate_limiter(app.state, settings).aclose)
            if settings.mail_worker_in_app:
                worker = run_worker_process if runs_as_process(settings) else run_worker
                app.state.mail_worker = await stack.enter_async_context(worker(settings))
            if settings.purge_interval_seconds > 0:
                await stack.enter_async_context(run_purges(settings))
            stack.enter_context(startup_objects_frozen(settings.gc_freeze_after_start))
            yield

    configure_logging(settings.log_format_resolved, settings.log_level)
    middleware = [Middleware(RequestMiddleware, hsts=settings.hsts, error_body=internal_error_body)]
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
            Route("/graphql", graphql),  # every method: the view answers 405 itself
            Route(graphiql.ASSET_PATH + "{name}", graphiql.asset),
            Route("/documents/invoices/{token}", documents.download_invoice),
        ],
        middleware=middleware,
        lifespan=lifespan,
    )
    app.state.settings = settings
    return app
