"""`kundenportal`: the one command line of the service, for developers and staff."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import io
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
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


@command("import")
async def import_command(args: argparse.Namespace) -> int:
    """Exit 0: imported; 1: the file has bad rows and nothing was imported; 2: no such file."""
    from dataio.importer import import_file
    from dataio.progress import Progress, wants_progress

    path: Path = args.file
    async with db.database(get_settings().database_url):
        try:
            progress = Progress(enabled=wants_progress(args.progress, path))
            report = await import_file(args.kind, path, dry_run=args.dry_run, progress=progress)
        except OSError as error:
            print(f"{path}: {error.strerror or error}", file=sys.stderr)
            return 2
    for problem in report.problems:
        print(f"{path}:{problem.line}: {problem.message}", file=sys.stderr)
    print(report.summary(), file=sys.stdout if report.ok else sys.stderr)
    return 0 if report.ok else 1


@command("export-readings")
async def export_readings_command(args: argparse.Namespace) -> int:
    from dataio.exporter import export_readings, write_atomically

    settings = get_settings()
    text = io.StringIO(newline="")
    async with db.database(settings.database_url):
        count = await export_readings(text, args.since, settings.local_timezone)
    if args.output is None:
        sys.stdout.buffer.write(text.getvalue().encode())
        sys.stdout.buffer.flush()
    else:
        await asyncio.to_thread(write_atomically, args.output, text.getvalue())
    print(f"{count} customer reading(s) submitted since {args.since:%d.%m.%Y}.", file=sys.stderr)
    return 0


def _date_argument(text: str) -> dt.date:
    from dataio.csvformat import FieldError, parse_date

    try:
        return parse_date(text)
    except FieldError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


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

    from dataio.importer import KINDS

    p = sub.add_parser(
        "import",
        help="Import master data from the billing system (CSV, see README).",
        description="Check a whole CSV file, then upsert it in one transaction, or import "
        "nothing and list every bad line. Exit code 0: imported, 1: bad lines, 2: no file.",
    )
    p.add_argument("kind", choices=list(KINDS), help="What the file holds.")
    p.add_argument("file", type=Path, help="The CSV file (';', decimal comma, UTF-8).")
    p.add_argument(
        "--dry-run", action="store_true", help="Check and try the import, then roll it back."
    )
    p.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="Progress bar on stderr (default: for large files when stderr is a terminal).",
    )

    p = sub.add_parser(
        "export-readings",
        help="Export readings customers submitted since a date as CSV for billing.",
    )
    p.add_argument(
        "--since",
        required=True,
        type=_date_argument,
        help="Local date (TT.MM.JJJJ or JJJJ-MM-TT): readings submitted on or after it.",
    )
    p.add_argument("--output", "-o", type=Path, help="File to write (default: stdout).")
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
