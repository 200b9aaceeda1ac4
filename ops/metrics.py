"""Prometheus metrics at /metrics: requests, latency, operations, rate limits, mail, database."""

from __future__ import annotations

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from starlette.requests import Request
from starlette.responses import Response

import db
from mailers import queue_metrics

REGISTRY = CollectorRegistry(auto_describe=True)

HTTP_REQUESTS = Counter(
    "kp_http_requests_total",
    "HTTP requests by route and status class.",
    ["route", "status"],
    registry=REGISTRY,
)
HTTP_LATENCY = Histogram(
    "kp_http_request_seconds",
    "HTTP request latency.",
    ["route"],
    registry=REGISTRY,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
OPERATIONS = Counter(
    "kp_graphql_operations_total",
    "GraphQL operations by name and outcome.",
    ["operation", "outcome"],
    registry=REGISTRY,
)
RATE_LIMIT_HITS = Counter(
    "kp_rate_limit_hits_total",
    "Requests refused by a rate limit, by purpose.",
    ["purpose"],
    registry=REGISTRY,
)
MAIL_QUEUE = Gauge(
    "kp_mail_queue",
    "Mails in the outbox by state.",
    ["state"],
    registry=REGISTRY,
)
MAIL_OLDEST_QUEUED = Gauge(
    "kp_mail_oldest_queued_seconds",
    "Age of the oldest queued mail.",
    registry=REGISTRY,
)
DB_UP = Gauge("kp_database_up", "1 when the database answers.", registry=REGISTRY)


async def metrics_endpoint(request: Request) -> Response:
    """Refresh the gauges that are read at scrape time, then expose everything."""
    up = await db.ping()
    DB_UP.set(1 if up else 0)
    if up:
        await _refresh_mail_gauges()
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)


async def _refresh_mail_gauges() -> None:
    queue = await queue_metrics()
    for state in ("queued", "sent", "failed"):
        MAIL_QUEUE.labels(state).set(queue[state])
    MAIL_OLDEST_QUEUED.set(queue["oldest_queued_age_seconds"])
