"""`kundenportal`: the one command line of the service, for developers and staff."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import db
from settings import ROOT, ConfigurationError, get_settings

SCHEMA_FILE = ROOT / "schema.graphql"

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


@command("partner")
async def partner_command(args: argparse.Namespace) -> int:
    """Partner apps: keys and the operations (trusted documents) they may run."""
    from api import partners
    from schema import build_schema

    settings = get_settings()
    async with db.database(settings.database_url):
        try:
            if args.action == "add":
                partner, key = await partners.add_partner(args.name, settings)
                print(f"Partner {partner.name!r} added. Its API key, shown only now:")
                print(key)
                print(
                    "Send it as the X-Api-Key header. Next: kundenportal partner upload NAME FILE"
                )
            elif args.action == "rotate":
                key = await partners.rotate_key(args.name, settings)
                print(f"New API key for {args.name!r} (the old one no longer works):")
                print(key)
            elif args.action == "revoke":
                partner = await partners.revoke(args.name)
                print(
                    f"Partner {partner.name!r} is revoked "
                    f"since {partner.revoked_at:%Y-%m-%d %H:%M} UTC."
                )
            elif args.action == "list":
                rows = await partners.listing()
                if not rows:
                    print("No partners.")
                for partner, count in rows:
                    state = (
                        f"revoked {partner.revoked_at:%Y-%m-%d}" if partner.revoked_at else "active"
                    )
                    print(f"{partner.name}\t{partner.key_prefix}…\t{count} operations\t{state}")
            elif args.action == "upload":
                text = await asyncio.to_thread(Path(args.manifest).read_text, encoding="utf-8")
                operations = partners.parse_manifest(text, build_schema()._schema)
                added, kept, removed = await partners.upload(
                    args.name, operations, replace=args.replace
                )
                print(
                    f"{args.name}: {added} operations added, {kept} already registered"
                    + (f", {removed} removed" if args.replace else "")
                    + "."
                )
        except (partners.PartnerError, OSError) as error:
            print(error, file=sys.stderr)
            return 1
    return 0


@command("export-schema")
async def export_schema_command(args: argparse.Namespace) -> int:
    """Write the schema's SDL to schema.graphql, or with --check say whether it is current."""
    from schema import build_schema

    sdl = str(build_schema()) + "\n"
    current = SCHEMA_FILE.read_text(encoding="utf-8") if SCHEMA_FILE.exists() else ""
    if args.check:
        if current != sdl:
            print("schema.graphql differs from the code: run `kundenportal export-schema`.")
            return 1
        print("schema.graphql is current.")
        return 0
    if current != sdl:
        SCHEMA_FILE.write_text(sdl, encoding="utf-8")
        print(f"Wrote {SCHEMA_FILE.name}.")
    else:
        print(f"{SCHEMA_FILE.name} is current.")
    return 0


@command("fetch-graphiql")
async def fetch_graphiql_command(args: argparse.Namespace) -> int:
    """Download GraphiQL's pinned files from the npm registry, checked against their hashes."""
    from api import graphiql

    try:
        await asyncio.to_thread(
            graphiql.fetch, get_settings().graphiql_assets_dir, force=args.force
        )
    except (OSError, graphiql.IntegrityError) as error:
        print(f"Could not fetch GraphiQL: {error}", file=sys.stderr)
        return 1
    return 0


def serve(args: argparse.Namespace) -> int:
    import uvicorn

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
    sub.add_parser("seed-demo", help="Load a few demo customers and print how to register.")

    p = sub.add_parser("partner", help="Partner apps: API keys and their trusted documents.")
    actions = p.add_subparsers(dest="action", required=True)
    actions.add_parser("add", help="Register a partner; prints its API key once.").add_argument(
        "name"
    )
    actions.add_parser("rotate", help="Give a partner a new key; the old one stops.").add_argument(
        "name"
    )
    actions.add_parser("revoke", help="Stop a partner's key for good.").add_argument("name")
    actions.add_parser("list", help="List partners, key prefixes and operation counts.")
    up = actions.add_parser(
        "upload",
        help="Register a partner's operations from a manifest: Apollo's persisted-query "
        "manifest or GraphQL Code Generator's {hash: document} JSON.",
    )
    up.add_argument("name")
    up.add_argument("manifest", help="Path of the manifest JSON file.")
    up.add_argument(
        "--replace", action="store_true", help="Remove the partner's operations not in it."
    )

    p = sub.add_parser("export-schema", help="Write the schema's SDL to schema.graphql.")
    p.add_argument("--check", action="store_true", help="Only say whether the file is current.")
    p = sub.add_parser("fetch-graphiql", help="Download GraphiQL's files (no CDN at run time).")
    p.add_argument("--force", action="store_true", help="Download again even if present.")
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
