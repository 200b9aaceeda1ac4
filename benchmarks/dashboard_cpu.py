"""The dashboard read in one process: app CPU per request of the GraphQL dashboard (POST and
APQ GET) and of its ceiling, without wrk, uvicorn or a second process.

    .venv/bin/python -m benchmarks.dashboard_cpu                       # 100,000 customers
    .venv/bin/python -m benchmarks.dashboard_cpu --customers 20000 --keep-database
    .venv/bin/python -m benchmarks.dashboard_cpu --reuse benchmarks/results/population-….json
    .venv/bin/python -m benchmarks.dashboard_cpu --reuse … --profile post   # cProfile's top lines

A fresh PostgreSQL database of `benchmarks.population` (the load benchmark's data:
customers through the import, a period open today and three readings per manual meter,
logins with one customer number and 1 % with twenty), then `benchmarks.server.create_app`
(the real app plus the ceiling and the statement counter) driven through
`httpx.ASGITransport` with its lifespan. Each mix sends `--requests` requests, tokens in
turn, after a warm-up; CPU is `time.process_time()` of this process, so it holds the
client's share too: the `/healthz` mix measures that share (transport, middleware, a
response), and "net" subtracts it. A benchmark, not a test: it prints, asserts nothing
but that every answer is free of errors.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import io
import os
import pstats
import statistics
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx

from benchmarks import documents, gauge
from benchmarks.population import (
    Population,
    build_population,
    drop_database,
    load_population,
    save_population,
)

SECRET_KEY = "dashboard-cpu-benchmark-secret-key-0123456789"
RESULTS = Path(__file__).parent / "results"


def _environment(population: Population, mail_dir: str) -> None:
    os.environ.update(
        ENV="test",
        DATABASE_URL=population.database_url,
        SECRET_KEY=SECRET_KEY,
        BCRYPT_ROUNDS="4",
        MAIL_BACKEND="file",
        MAIL_DIR=mail_dir,
        LOG_LEVEL="WARNING",
        GRAPHIQL="false",
        PURGE_INTERVAL_SECONDS="0",
    )


@contextlib.asynccontextmanager
async def _client() -> AsyncIterator[httpx.AsyncClient]:
    from benchmarks.server import create_app
    from settings import get_settings

    get_settings.cache_clear()
    app: Any = create_app(get_settings())
    starlette = app.app
    async with starlette.router.lifespan_context(starlette):
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client


Send = Callable[[httpx.AsyncClient, str], Awaitable[httpx.Response]]


def _post(client: httpx.AsyncClient, token: str) -> Awaitable[httpx.Response]:
    return client.post(
        "/graphql",
        json={"query": documents.DASHBOARD, "operationName": "Dashboard"},
        headers={"Authorization": f"Bearer {token}"},
    )


PERSISTED = (
    '{"persistedQuery":{"version":1,"sha256Hash":"' + documents.sha256(documents.DASHBOARD) + '"}}'
)


# Built once: httpx checks every character of a URL it parses, a client cost (some 700
# calls per request, more than the server's whole query-string handling) that would be
# counted as the GET path's.
PERSISTED_URL = httpx.URL(
    "http://test/graphql", params={"operationName": "Dashboard", "extensions": PERSISTED}
)


def _get(client: httpx.AsyncClient, token: str) -> Awaitable[httpx.Response]:
    return client.get(PERSISTED_URL, headers={"Authorization": f"Bearer {token}"})


def _ceiling(client: httpx.AsyncClient, token: str) -> Awaitable[httpx.Response]:
    return client.get("/bench/dashboard", headers={"Authorization": f"Bearer {token}"})


def _health(client: httpx.AsyncClient, token: str) -> Awaitable[httpx.Response]:
    return client.get("/healthz")


MIXES: dict[str, Send] = {"healthz": _health, "post": _post, "get": _get, "ceiling": _ceiling}


async def _register_persisted(client: httpx.AsyncClient, token: str) -> None:
    response = await client.post(
        "/graphql",
        json={
            "query": documents.DASHBOARD,
            "extensions": {
                "persistedQuery": {
                    "version": 1,
                    "sha256Hash": documents.sha256(documents.DASHBOARD),
                }
            },
        },
        headers={"Authorization": f"Bearer {token}"},
    )
    assert "errors" not in response.json(), response.text


def _median(found: list[dict[str, float]]) -> dict[str, float]:
    """Each figure's median over the rounds."""
    return {key: statistics.median(r[key] for r in found) for key in found[0]}


async def _run(
    client: httpx.AsyncClient, send: Send, tokens: list[str], count: int
) -> dict[str, float]:
    for token in tokens[:20]:  # warm-up: caches, pool connections
        await send(client, token)
    statements = 0
    cpu, wall = time.process_time(), time.perf_counter()
    for n in range(count):
        response = await send(client, tokens[n % len(tokens)])
        if response.status_code != 200 or b'"errors"' in response.content:
            raise SystemExit(f"{response.status_code}: {response.text[:500]}")
        statements += int(response.headers.get("x-sql-statements", "0"))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return {"cpu_ms": 1000 * cpu / count, "rps": count / wall, "sql": statements / count}


async def measure(
    population: Population, count: int, profile: str | None, rounds_count: int = 5
) -> None:
    accounts = population.accounts
    singles = [a.token for a in accounts if len(a.customers) == 1]
    multis = [a.token for a in accounts if len(a.customers) > 1]
    # As in the load benchmark, 1 % of the logins hold twenty customer numbers.
    tokens = singles[:99] + multis[:1]
    with tempfile.TemporaryDirectory() as mail_dir:
        _environment(population, mail_dir)
        async with _client() as client:
            await _register_persisted(client, tokens[0])
            if profile:
                profiler = cProfile.Profile()
                profiler.enable()
                await _run(client, MIXES[profile], tokens, count)
                profiler.disable()
                out = io.StringIO()
                pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(25)
                print(out.getvalue())
                out = io.StringIO()
                pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(40)
                print(out.getvalue())
                return
            # Mixes in turn, `rounds` times, each round's figure kept: on a shared machine
            # the load changes within a minute, and the median of rounds run side by side
            # compares the mixes under the same load.
            rounds: dict[str, list[dict[str, float]]] = {name: [] for name in MIXES}
            for _ in range(rounds_count):
                for name, send in MIXES.items():
                    rounds[name].append(await _run(client, send, tokens, count // rounds_count))
    results = {name: _median(found) for name, found in rounds.items()}
    base = results["healthz"]["cpu_ms"]
    print(f"{'mix':<10} {'req/s':>8} {'CPU ms/req':>11} {'net ms/req':>11} {'SQL/req':>8}")
    for name, r in results.items():
        print(
            f"{name:<10} {r['rps']:>8.1f} {r['cpu_ms']:>11.2f} {r['cpu_ms'] - base:>11.2f} "
            f"{r['sql']:>8.2f}"
        )
    ceiling = results["ceiling"]["cpu_ms"] - base
    for name in ("post", "get"):
        share = ceiling / (results[name]["cpu_ms"] - base)
        print(f"{name}: {100 * share:.0f} % of the ceiling by net app CPU")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--admin-url", default="postgres://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--logins", type=int, default=1_000)
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=5, help="mixes in turn, medians kept")
    parser.add_argument("--reuse", type=Path, help="a population file --keep-database wrote")
    parser.add_argument("--keep-database", action="store_true")
    parser.add_argument("--profile", choices=sorted(MIXES), help="cProfile one mix instead")
    args = parser.parse_args()
    if args.reuse:
        population = load_population(args.reuse)
    else:
        with tempfile.TemporaryDirectory() as folder:
            population = asyncio.run(
                build_population(
                    args.admin_url,
                    Path(folder),
                    customers=args.customers,
                    logins=args.logins,
                    multi_logins=max(1, args.logins // 100),
                    multi_size=20,
                    secret_key=SECRET_KEY,
                    rounds=4,
                    pool="minsize=1&maxsize=10",
                    document_dir=Path(folder) / "documents",
                    pdf_logins=0,
                )
            )
    print(gauge.describe()[1])
    try:
        asyncio.run(measure(population, args.requests, args.profile, args.rounds))
    finally:
        if args.keep_database and not args.reuse:
            RESULTS.mkdir(exist_ok=True)
            kept = RESULTS / f"population-{population.database_name}.json"
            save_population(population, kept)
            print(f"kept database {population.database_name}: --reuse {kept}")
        elif not args.reuse:
            asyncio.run(drop_database(args.admin_url, population.database_name))


if __name__ == "__main__":
    main()
