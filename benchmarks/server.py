"""The app as the load benchmark serves it: the real one, plus ceilings and an SQL counter.

    uvicorn benchmarks.server:create_app --factory

`create_app` is `app.create_app` (same settings, middleware, lifespan, GraphQL view)
with three routes added, for the benchmark only:

- `GET /bench/dashboard`: the dashboard query's database reads (on PostgreSQL the
  same one statement, `resolvers.dashboard.read_tree`; else the same loader batch
  functions, one statement each), answered with the same JSON as the
  GraphQL query `benchmarks.documents.DASHBOARD`, without GraphQL. Its
  throughput is the ceiling the GraphQL dashboard is measured against.
- `POST /bench/submit`: takes the `submitReading` request body and runs the same
  resolver function (`resolvers.readings.submit_reading`: same checks, same
  writes, same mail) without GraphQL; the ceiling of `submitReading`.
- `GET /bench/dashboard/physical`: the same JSON once more, with the fewest round
  trips the data allows: one SQL statement straight through asyncpg (its own
  pool of `--pool` connections, reset as the app's), no ORM, no GraphQL. It
  checks the session (and touches it once a minute) in the same statement that
  reads customers, invoices, meters, periods and last readings as JSON; Python
  then applies the reading-window rule (`Meter.reading_window`, the one
  function R15 lives in) and shapes the answer. The physical limit of this
  design on this machine: what remains when the ORM and GraphQL are gone.
- `GET /bench/sql`: SQL statements counted per route since the last
  `?reset=1`. Every statement a request sends through the ORM is counted (the
  Tortoise client's execute methods are wrapped, in this module only); the mail
  worker's and other background statements are not. Each response also carries
  its own count in `X-SQL-Statements`. BEGIN/COMMIT are not counted.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections import Counter
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from decimal import Decimal, InvalidOperation
from types import SimpleNamespace
from typing import Any

from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

import app as product
import clock
import db
import schema  # noqa: F401  (registers each area's error type)
from models import Customer, Meter, MeterKind, MeterReading, ReadingPeriod
from resolvers.accounts.logins import customer_numbers_of
from resolvers.dashboard import read_tree
from resolvers.loaders import (
    _customers_by_login,
    _invoice_pages,
    _last_readings_by_meter,
    _meters_by_customer,
    _periods_by_meter,
    period_key,
)
from resolvers.readings import submit_reading
from schema.errors import user_errors
from schema.ids import encode_id
from security.sessions import TOUCH_EVERY, authenticate, presented_token, token_hash
from settings import Settings, get_settings

# ------------------------------------------------------------ SQL statements

_statements: ContextVar[list[int] | None] = ContextVar("bench_statements", default=None)
_totals: dict[str, Counter[str]] = {}
EXECUTE_METHODS = (
    "execute_insert",
    "execute_many",
    "execute_query",
    "execute_query_dict",
    "execute_script",
)


def _counted(method: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    @functools.wraps(method)
    async def execute(*args: Any, **kwargs: Any) -> Any:
        counter = _statements.get()
        if counter is not None:
            counter[0] += 1
        return await method(*args, **kwargs)

    # A marker attribute on a function, so the patch is applied once; functions take any.
    execute.__bench_counted__ = True  # type: ignore[attr-defined]
    return execute


def count_statements() -> None:
    """Wrap the execute methods of Tortoise's asyncpg and SQLite clients (once per process)."""
    from tortoise.backends.asyncpg.client import AsyncpgDBClient
    from tortoise.backends.asyncpg.client import TransactionWrapper as PgTransaction
    from tortoise.backends.sqlite.client import SqliteClient
    from tortoise.backends.sqlite.client import SqliteTransactionWrapper as SqliteTransaction

    for cls in (AsyncpgDBClient, PgTransaction, SqliteClient, SqliteTransaction):
        for name in EXECUTE_METHODS:
            method = cls.__dict__.get(name)
            if method is not None and not getattr(method, "__bench_counted__", False):
                setattr(cls, name, _counted(method))


def start_counting() -> list[int]:
    """Count the statements of the current task (and tasks it starts) from now on:
    the returned list's one element is the count, for benchmarks outside a request."""
    count_statements()
    counter = [0]
    _statements.set(counter)
    return counter


class CountStatements:
    """Per request: count its statements, send the count as a header, add to the totals."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        counter = [0]
        token = _statements.set(counter)

        async def send_counted(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.append((b"x-sql-statements", str(counter[0]).encode()))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_counted)
        except ClientDisconnect:
            pass  # wrk closes its connections mid-request when its time is up
        finally:
            _statements.reset(token)
            path = scope.get("path", "")
            if not path.startswith("/bench/sql"):
                totals = _totals.setdefault(path, Counter())
                totals["requests"] += 1
                totals["statements"] += counter[0]


async def sql_counts(request: Request) -> Response:
    body = {path: dict(totals) for path, totals in _totals.items()}
    if request.query_params.get("reset"):
        _totals.clear()
    return JSONResponse(body)


# ------------------------------------------------------------------ ceilings


def _unauthenticated() -> Response:
    body = {"errors": [{"message": "Please log in.", "extensions": {"code": "UNAUTHENTICATED"}}]}
    return JSONResponse(body, status_code=401)


def _reading(row: Any) -> dict[str, Any] | None:
    if row is None:
        return None
    return {
        "id": encode_id("Reading", row.id),
        "value": str(Decimal(row.value)),
        "readOn": row.read_on.isoformat(),
        "source": str(row.source).upper(),
    }


def _date(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def invoices_json(total: int, latest: list[Any]) -> dict[str, Any]:
    """`invoices(first: 3) { totalCount edges { node } }`."""
    nodes = [
        {
            "id": encode_id("Invoice", invoice.id),
            "number": invoice.number,
            "date": _date(invoice.date),
            "kind": str(invoice.kind).upper(),
            "amountCents": invoice.amount_cents,
        }
        for invoice in latest[:3]
    ]
    return {"totalCount": total, "edges": [{"node": node} for node in nodes]}


def dashboard_json(
    email: str,
    active_customer_id: int | None,
    numbers: list[str],
    customers: list[Any],
    invoices: list[tuple[int, list[Any]]],
    meters: list[list[Meter]],
    periods: dict[int, list[ReadingPeriod]],
    readings: dict[int, Any],
    settings: Settings,
) -> dict[str, Any]:
    """What `benchmarks.documents.DASHBOARD` answers, built by hand: customers with
    `id number name city`, invoices as (total, newest first), readings with
    `id value read_on source replaced_by_id`."""
    today = clock.utility_today(settings.utility_timezone)
    chosen = active_customer_id
    active = next((c.id for c in customers if c.id == chosen), customers[0].id if customers else 0)
    shown = []
    for customer, (total, latest), own_meters in zip(customers, invoices, meters, strict=True):
        meter_list = []
        for meter in own_meters:
            window = meter.reading_window(periods[meter.id], today)
            meter_list.append(
                {
                    "id": encode_id("Meter", meter.id),
                    "number": meter.number,
                    "isMain": meter.is_main,
                    "kind": str(meter.kind).upper(),
                    "readingWindow": {
                        "state": str(window.state).upper(),
                        "startsOn": _date(window.starts_on),
                        "endsOn": _date(window.ends_on),
                        "acceptsReadings": window.accepts_readings,
                    },
                    "lastReading": _reading(readings[meter.id]),
                }
            )
        shown.append(
            {
                "id": encode_id("Customer", customer.id),
                "number": customer.number,
                "isActive": customer.id == active,
                "baseData": {"name": customer.name, "city": customer.city},
                "invoices": invoices_json(total, latest),
                "meters": meter_list,
            }
        )
    return {"data": {"me": {"email": email, "customerNumbers": numbers}, "customers": shown}}


async def dashboard(request: Request) -> Response:
    """The dashboard's reads in the order the GraphQL execution batches them."""
    settings: Settings = request.app.state.settings
    session, _ = await authenticate(request, settings)
    if session is None:
        return _unauthenticated()
    login = session.login
    if Customer._meta.db.capabilities.dialect == "postgres":
        # The same one statement the GraphQL dashboard reads on PostgreSQL.
        tree = await read_tree(login.id, 3)
        numbers = [c.number for c in tree.customers]
        pages = [tree.invoice_page(c.id, 3) for c in tree.customers]
        body = dashboard_json(
            login.email,
            session.active_customer_id,
            numbers,
            tree.customers,
            [(page.total, page.rows) for page in pages],
            [tree.meters[c.id] for c in tree.customers],
            tree.periods,
            tree.last,
            settings,
        )
        return JSONResponse(body)
    numbers = await customer_numbers_of(login)
    (customers,) = await _customers_by_login([login.id])
    ids = [c.id for c in customers]
    invoices = await _invoice_pages([(i, 3, None) for i in ids]) if ids else []
    meters = await _meters_by_customer(ids) if ids else []
    every = [m for own in meters for m in own]
    periods: dict[int, list[ReadingPeriod]] = {}
    readings: dict[int, MeterReading | None] = {}
    if every:
        found = await _periods_by_meter([period_key(m) for m in every])
        periods = {m.id: p for m, p in zip(every, found, strict=True)}
        last = await _last_readings_by_meter([m.id for m in every])
        readings = {m.id: r for m, r in zip(every, last, strict=True)}
    body = dashboard_json(
        login.email,
        session.active_customer_id,
        numbers,
        customers,
        [(page.total, page.rows) for page in invoices],
        meters,
        periods,
        readings,
        settings,
    )
    return JSONResponse(body)


# -------------------------------------------------------------- physical limit

PHYSICAL_SQL = """
WITH s AS (
  SELECT s."id", s."login_id", s."active_customer_id", l."email"
  FROM "session" s JOIN "login" l ON l."id" = s."login_id"
  WHERE s."token_hash" = $1 AND s."expires_at" > $2 AND s."last_used_at" > $3
), touched AS (
  UPDATE "session" SET "last_used_at" = $2
  WHERE "id" IN (SELECT "id" FROM s) AND "last_used_at" <= $4
  RETURNING 1
), c AS (
  SELECT c."id", c."number", c."name", c."city", lc."added_at", lc."id" AS "link"
  FROM "login_customer" lc JOIN "customer" c ON c."id" = lc."customer_id"
  WHERE lc."login_id" IN (SELECT "login_id" FROM s)
), m AS (
  SELECT m."id", m."customer_id", m."number", m."is_main", m."kind", m."group",
         m."installed_on", m."removed_on"
  FROM "meter" m WHERE m."customer_id" IN (SELECT "id" FROM c)
)
SELECT
  (SELECT row_to_json(s) FROM s) AS "session",
  (SELECT count(*) FROM touched) AS "touched",
  (SELECT json_agg(json_build_object(
      'id', c."id", 'number', c."number", 'name', c."name", 'city', c."city",
      'total', (SELECT count(*) FROM "invoice" i WHERE i."customer_id" = c."id"),
      'latest', (SELECT json_agg(x) FROM (
          SELECT i."id", i."number", i."date", i."kind", i."amount_cents" FROM "invoice" i
          WHERE i."customer_id" = c."id" ORDER BY i."date" DESC, i."id" DESC LIMIT 3) x)
    ) ORDER BY c."added_at", c."link") FROM c) AS "customers",
  (SELECT json_agg(m ORDER BY m."is_main" DESC, m."number") FROM m) AS "meters",
  (SELECT json_agg(p) FROM (
      SELECT DISTINCT p."id", p."meter_id", p."meter_group", p."starts_on", p."ends_on",
             p."key_date"
      FROM m CROSS JOIN LATERAL (
        SELECT * FROM "reading_period" p WHERE p."meter_id" = m."id"
        UNION ALL
        SELECT * FROM "reading_period" p
        WHERE m."group" IS NOT NULL AND p."meter_group" = m."group") p) p
  ) AS "periods",
  (SELECT json_agg(r) FROM (
      SELECT m."id" AS "meter_id", r."id", r."value"::text AS "value", r."read_on", r."source"
      FROM m CROSS JOIN LATERAL (
        SELECT r."id", r."value", r."read_on", r."source" FROM "meter_reading" r
        WHERE r."meter_id" = m."id" AND r."replaced_by_id" IS NULL
        ORDER BY r."read_on" DESC, r."id" DESC LIMIT 1) r) r
  ) AS "readings"
"""

_pools: dict[str, Any] = {}


async def _physical_pool(settings: Settings) -> Any:
    """The endpoint's own asyncpg pool, as large as the app's and reset the same way."""
    import asyncpg

    url = settings.database_url
    pool = _pools.get(url)
    if pool is None:
        size = int(dict(p.split("=", 1) for p in url.partition("?")[2].split("&") if "=" in p)
                   .get("maxsize", "5"))  # fmt: skip
        dsn = url.split("?")[0].replace("postgres://", "postgresql://", 1)
        pool = _pools[url] = await asyncpg.create_pool(
            dsn, min_size=1, max_size=size, reset=db.keep_session_state
        )
    return pool


def _day(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


async def dashboard_physical(request: Request) -> Response:
    """The dashboard in one statement through asyncpg; Python applies R15 and shapes it."""
    settings: Settings = request.app.state.settings
    token, _ = presented_token(request)
    if not token or len(token) > 200:
        return _unauthenticated()
    now = clock.now()
    pool = await _physical_pool(settings)
    async with pool.acquire() as connection:
        row = await connection.fetchrow(
            PHYSICAL_SQL,
            token_hash(token, settings),
            now,
            now - dt.timedelta(minutes=settings.session_idle_minutes),
            now - TOUCH_EVERY,
        )
    counter = _statements.get()
    if counter is not None:
        counter[0] += 1
    if row is None or row["session"] is None:
        return _unauthenticated()
    session = json.loads(row["session"])
    customers = [SimpleNamespace(**c) for c in json.loads(row["customers"] or "[]")]
    meters: dict[int, list[Meter]] = {c.id: [] for c in customers}
    for m in json.loads(row["meters"] or "[]"):
        meters[m["customer_id"]].append(
            Meter(
                id=m["id"], customer_id=m["customer_id"], number=m["number"],
                is_main=m["is_main"], kind=MeterKind(m["kind"]), group=m["group"],
                installed_on=_day(m["installed_on"]), removed_on=_day(m["removed_on"]),
            )
        )  # fmt: skip
    every = [m for own in meters.values() for m in own]
    found = [
        ReadingPeriod(
            id=p["id"], meter_id=p["meter_id"], meter_group=p["meter_group"],
            starts_on=_day(p["starts_on"]), ends_on=_day(p["ends_on"]),
            key_date=_day(p["key_date"]),
        )
        for p in json.loads(row["periods"] or "[]")
    ]  # fmt: skip
    periods = {
        m.id: [p for p in found if p.meter_id == m.id or (m.group and p.meter_group == m.group)]
        for m in every
    }
    # The newest standing reading of each meter (DISTINCT ON in the statement).
    readings: dict[int, Any] = {m.id: None for m in every}
    for r in json.loads(row["readings"] or "[]"):
        readings[r["meter_id"]] = SimpleNamespace(
            id=r["id"], value=r["value"], read_on=_day(r["read_on"]), source=r["source"],
        )  # fmt: skip
    invoices = []
    for customer in customers:
        latest = [
            SimpleNamespace(
                id=i["id"], number=i["number"], date=_day(i["date"]), kind=i["kind"],
                amount_cents=i["amount_cents"],
            )
            for i in customer.latest or []
        ]  # fmt: skip
        invoices.append((customer.total, latest))
    body = dashboard_json(
        session["email"],
        session["active_customer_id"],
        [c.number for c in customers],
        customers,
        invoices,
        [meters[c.id] for c in customers],
        periods,
        readings,
        settings,
    )
    return JSONResponse(body)


async def submit(request: Request) -> Response:
    """`submitReading` without GraphQL: the body's `variables.input`, the same resolver."""
    settings: Settings = request.app.state.settings
    session, via_cookie = await authenticate(request, settings)
    if session is None:
        return _unauthenticated()
    try:
        body = await request.body()
    except ClientDisconnect:  # wrk closes its connections mid-request when its time is up
        return Response(status_code=499)
    try:
        given = json.loads(body)["variables"]["input"]
        value = Decimal(str(given["value"]))
    except (ValueError, KeyError, TypeError, InvalidOperation):
        return JSONResponse({"errors": [{"message": "bad input"}]}, status_code=400)
    context: Any = SimpleNamespace(
        request=request,
        response=None,
        settings=settings,
        locale="de",
        session=session,
        login=session.login,
        loaders={},
        via_cookie=via_cookie,
        mutation=True,
    )
    outcome = await submit_reading(
        context,
        meter_pk=None,
        meter_number=given.get("meterNumber"),
        value=value,
        confirm_unusual=bool(given.get("confirmUnusual", False)),
        idempotency_key=given.get("idempotencyKey"),
    )
    done = outcome.value
    errors = [
        {"code": e.code.name, "field": e.field, "message": e.message}
        for e in user_errors(outcome.problems, "de")
    ]
    payload = {
        "errors": errors,
        "reading": _reading(done.reading) if done else None,
        "correctedReading": {"id": encode_id("Reading", done.corrected.id)}
        if done and done.corrected
        else None,
        "mailedTo": outcome.mailed_to,
    }
    return JSONResponse({"data": {"submitReading": payload}})


def create_app(settings: Settings | None = None) -> ASGIApp:
    settings = settings or get_settings()
    count_statements()
    starlette: Starlette = product.create_app(settings)
    starlette.router.routes.extend(
        [
            Route("/bench/dashboard", dashboard, methods=["GET"]),
            Route("/bench/dashboard/physical", dashboard_physical, methods=["GET"]),
            Route("/bench/submit", submit, methods=["POST"]),
            Route("/bench/sql", sql_counts, methods=["GET"]),
        ]
    )
    return CountStatements(starlette)
