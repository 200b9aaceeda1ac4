"""Tortoise configuration and the database's life inside a process."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from tortoise import Tortoise
from tortoise.connection import connections
from tortoise.migrations.api.migrate import migrate as run_migrations

MODELS = ["models"]


def tortoise_config(database_url: str) -> dict[str, Any]:
    if database_url.startswith("sqlite://") and not database_url.startswith("sqlite://:memory:"):
        Path(database_url.removeprefix("sqlite://")).parent.mkdir(parents=True, exist_ok=True)
    return {
        "connections": {"default": database_url},
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
async def database(database_url: str) -> AsyncIterator[None]:
    """Open the ORM for the app's whole life (global fallback: see STACK-NOTES)."""
    await Tortoise.init(config=tortoise_config(database_url), _enable_global_fallback=True)
    try:
        yield
    finally:
        await Tortoise.close_connections()


async def ping() -> bool:
    """True when the database answers a trivial query."""
    try:
        await connections.get("default").execute_query("SELECT 1")
    except Exception:
        return False
    return True


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
