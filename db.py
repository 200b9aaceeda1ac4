"""Tortoise configuration and the database's life inside a process."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
from tortoise import Tortoise
from tortoise.backends.asyncpg.client import AsyncpgDBClient
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.connection import connections
from tortoise.migrations.api.migrate import migrate as run_migrations

MODELS = ["models"]


async def keep_session_state(connection: Any) -> None:
    """asyncpg's pool `reset` for connections it takes back: nothing beyond what it always does.

    Tortoise takes a pooled connection for every statement outside a transaction, and
    by default asyncpg then sends `SELECT pg_advisory_unlock_all(); CLOSE ALL;
    UNLISTEN *; RESET ALL` before lending it again: one more round trip per statement,
    about a tenth of the app's CPU on the load benchmark's dashboard. This app
    creates none of that session state on pooled connections (no advisory locks,
    cursors outside transactions, LISTEN or SET; the mail worker listens on a
    `dedicated_connection`). asyncpg still rolls back a transaction left open and
    drops listeners before it calls this (`Connection._reset`).
    """


@dataclass(frozen=True)
class Timeouts:
    """How long the app waits for the database before it answers SERVICE_UNAVAILABLE.

    A database that refuses connections fails at once; one that accepts them and
    then says nothing (a network partition, a stuck failover, a full disk) would
    hold every request for minutes without these.
    """

    connect: float = 5.0
    """Opening a connection, TLS and start-up included (asyncpg `timeout`)."""
    acquire: float = 3.0
    """Waiting for a pooled connection while all are busy."""
    statement: float = 5.0
    """One statement's answer (asyncpg `command_timeout`; SQLite's busy timeout)."""


class _TimedPool:
    """asyncpg's pool, whose `acquire` waits at most `timeout` seconds (Tortoise passes none)."""

    def __init__(self, pool: Any, timeout: float | None) -> None:
        self._pool = pool
        self._timeout = timeout

    def acquire(self, *, timeout: float | None = None) -> Any:
        return self._pool.acquire(timeout=timeout or self._timeout)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._pool, name)


class TimedAsyncpgClient(AsyncpgDBClient):
    """Tortoise's asyncpg client with a bounded wait for a pooled connection."""

    def __init__(self, *args: Any, acquire_timeout: float | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.acquire_timeout = acquire_timeout

    async def create_pool(self, **kwargs: Any) -> Any:
        return _TimedPool(await super().create_pool(**kwargs), self.acquire_timeout)

    async def dedicated_connection(self, purpose: str) -> asyncpg.Connection:
        """A connection of its own beside the pool, for session state a pooled connection
        must not carry (LISTEN): the same server, credentials and timeouts; `purpose` is
        its `application_name` in `pg_stat_activity`. The caller closes it."""
        options = {k: v for k, v in self.extra.items() if k not in _POOL_ONLY}
        return await asyncpg.connect(
            host=self.host,
            port=self.port,
            user=self.user,
            password=self.password,
            database=self.database,
            server_settings={**self.server_settings, "application_name": purpose},
            **options,
        )


_POOL_ONLY = frozenset(
    {"reset", "init", "setup", "max_queries", "max_inactive_connection_lifetime"}
)
"""Options of asyncpg's pool that a single connection does not take."""


async def dedicated_connection(purpose: str) -> asyncpg.Connection | None:
    """`TimedAsyncpgClient.dedicated_connection` of the default database; None on SQLite."""
    client = connections.get("default")
    if not isinstance(client, TimedAsyncpgClient):
        return None
    return await client.dedicated_connection(purpose)


client_class = TimedAsyncpgClient  # this module is the engine of PostgreSQL connections


def tortoise_config(database_url: str, timeouts: Timeouts | None = None) -> dict[str, Any]:
    """Tortoise's configuration; with `timeouts` (the app, the mail worker) every wait for
    the database is bounded; without (migrations, imports, staff commands) statements
    may take as long as they need."""
    if database_url.startswith("sqlite://") and not database_url.startswith("sqlite://:memory:"):
        Path(database_url.removeprefix("sqlite://")).parent.mkdir(parents=True, exist_ok=True)
    connection: str | dict[str, Any] = database_url
    if database_url.startswith(("postgres://", "asyncpg://")):
        connection = expand_db_url(database_url)
        connection["engine"] = "db"
        credentials = connection["credentials"]
        credentials["reset"] = keep_session_state
        if timeouts is not None:
            credentials["timeout"] = timeouts.connect
            credentials["command_timeout"] = timeouts.statement
            credentials["acquire_timeout"] = timeouts.acquire
    elif database_url.startswith("sqlite://") and timeouts is not None:
        connection = expand_db_url(database_url)
        connection["credentials"].setdefault("busy_timeout", int(timeouts.statement * 1000))
    return {
        "connections": {"default": connection},
        "apps": {
            "models": {
                "models": MODELS,
                "default_connection": "default",
                "migrations": "migrations",
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


async def migrate(database_url: str) -> None:
    """Bring the schema to the newest migration; safe to run at every start."""
    await run_migrations(config=tortoise_config(database_url))
    await Tortoise.close_connections()


@asynccontextmanager
async def database(database_url: str, timeouts: Timeouts | None = None) -> AsyncIterator[None]:
    """Open the ORM for the app's whole life (global fallback: see STACK-NOTES)."""
    config = tortoise_config(database_url, timeouts)
    await Tortoise.init(config=config, _enable_global_fallback=True)
    try:
        yield
    finally:
        await Tortoise.close_connections()


_probes: set[asyncio.Task[Any]] = set()


async def ping(within: float = 2.0) -> bool:
    """True when the database answers a trivial query within `within` seconds.

    A probe that does not answer in time is cancelled but not waited for: asyncpg
    tidies a cancelled query up over the network, which a silent database would
    stretch to the connect timeout.
    """
    probe = asyncio.ensure_future(connections.get("default").execute_query("SELECT 1"))
    _probes.add(probe)
    probe.add_done_callback(_probes.discard)
    probe.add_done_callback(lambda t: t.cancelled() or t.exception())
    done, _ = await asyncio.wait({probe}, timeout=within)
    if not done:
        probe.cancel()
        return False
    return not probe.cancelled() and probe.exception() is None


def is_outage(error: BaseException | None) -> bool:
    """True when the database (or the network to it) is away, not when our code is wrong."""
    from tortoise.exceptions import DBConnectionError, OperationalError

    seen = 0
    while error is not None and seen < 5:
        if isinstance(error, DBConnectionError | ConnectionError | TimeoutError):
            return True
        if type(error).__module__.startswith("asyncpg") and type(error).__name__ in (
            "ConnectionDoesNotExistError",
            "InterfaceError",
            "CannotConnectNowError",
            "ConnectionFailureError",
        ):
            return True
        if isinstance(error, OSError) and not isinstance(error, FileNotFoundError):
            return True
        if isinstance(error, OperationalError) and "connection" in str(error).lower():
            return True
        error = error.__cause__ or error.__context__
        seen += 1
    return False


def __getattr__(name: str) -> Any:
    """`TORTOISE_ORM` for Tortoise's own tool: `tortoise -c db.TORTOISE_ORM makemigrations`."""
    if name == "TORTOISE_ORM":
        from settings import get_settings

        return tortoise_config(get_settings().database_url)
    raise AttributeError(name)
