"""`kundenportal`: the one command line of the service, for developers and staff."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable, Coroutine
from typing import Any

import db
from settings import ConfigurationError, get_settings

COMMANDS: dict[str, Callable[[argparse.Namespace], Coroutine[Any, Any, int]]] = {}


def command(name: str) -> Callable:
    def register(fn: Callable[[argparse.Namespace], Coroutine[Any, Any, int]]) -> Callable:
        COMMANDS[name] = fn
        return fn

    return register


@command("migrate")
async def migrate_command(args: argparse.Namespace) -> int:
    settings = get_settings()
    await db.migrate(settings.database_url)
    print("Database is at the newest migration.")
    return 0


@command("seed-demo")
async def seed_demo_command(args: argparse.Namespace) -> int:
    from demo import seed_demo

    settings = get_settings()
    async with db.database(settings.database_url):
        print(await seed_demo())
    return 0


@command("audit")
async def audit_command(args: argparse.Namespace) -> int:
    """List security-relevant events, newest first."""
    from models import AuditEvent

    settings = get_settings()
    async with db.database(settings.database_url):
        query = AuditEvent.all().order_by("-at", "-id")
        if args.login:
            query = query.filter(login_id=args.login)
        if args.action:
            query = query.filter(action=args.action)
        for event in await query.limit(args.limit):
            print(
                f"{event.at:%Y-%m-%d %H:%M:%S}  {event.action:<22} {event.outcome:<9} "
                f"actor={event.actor} login={event.login_id or '-'} "
                f"from={event.client_address or '-'} {event.details or ''}"
            )
    return 0


@command("purge")
async def purge_command(args: argparse.Namespace) -> int:
    """Run every retention job once (the app also runs them on a schedule)."""
    from ops.purge import purge_all

    settings = get_settings()
    async with db.database(settings.database_url):
        for name, removed in (await purge_all(settings)).items():
            print(f"{name}: {removed} removed")
    return 0


def serve(args: argparse.Namespace) -> int:
    import uvicorn

    from ops.tls import tls12_context

    settings = get_settings()
    settings.check_for_production()
    if args.migrate:
        asyncio.run(db.migrate(settings.database_url))
    uvicorn.run(
        "app:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        ssl_certfile=args.certfile,
        ssl_keyfile=args.keyfile,
        ssl_context_factory=tls12_context if args.certfile else None,
        proxy_headers=False,
        server_header=False,
        timeout_graceful_shutdown=20,
        log_level="info",
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kundenportal", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("serve", help="Serve the API with uvicorn.")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--certfile", help="TLS certificate (PEM); serves HTTPS when given.")
    p.add_argument("--keyfile", help="TLS private key (PEM).")
    p.add_argument(
        "--no-migrate", dest="migrate", action="store_false", help="Skip migrating at start-up."
    )

    sub.add_parser("migrate", help="Create or upgrade the database schema.")
    p = sub.add_parser("audit", help="List security-relevant events, newest first.")
    p.add_argument("--login", type=int, help="Only events of this login id.")
    p.add_argument("--action", help="Only this action, e.g. login_failed.")
    p.add_argument("--limit", type=int, default=100)
    sub.add_parser("purge", help="Run every retention job once.")
    sub.add_parser("seed-demo", help="Load a few demo customers and print how to register.")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "serve":
            return serve(args)
        return asyncio.run(COMMANDS[args.command](args))
    except ConfigurationError as error:
        print(error, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
