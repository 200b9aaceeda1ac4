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


def _load_schema() -> None:
    """Import the schema before any resolver: resolvers import `schema.errors`, whose
    package assembles the schema from the resolvers, so the schema must come first."""
    import schema  # noqa: F401


def _staff(args: argparse.Namespace) -> str:
    import getpass

    return args.actor or getpass.getuser()


@command("delete-login")
async def delete_login_command(args: argparse.Namespace) -> int:
    """R8: delete a login on request, by e-mail or customer number, with a reason."""
    _load_schema()
    from resolvers.accounts.profile import delete_login_by_staff

    settings = get_settings()
    async with db.database(settings.database_url):
        mailed = await delete_login_by_staff(
            settings,
            staff=_staff(args),
            reason=args.reason,
            email=args.email,
            customer_number=args.customer,
        )
    if mailed is None:
        print("No login found.", file=sys.stderr)
        return 1
    print(f"Login deleted; confirmation mailed to {mailed}. The customer numbers are free.")
    return 0


@command("contact")
async def contact_command(args: argparse.Namespace) -> int:
    """Staff handle contact-form messages: list the open ones, close one when done."""
    _load_schema()
    from resolvers.accounts.contact import close_contact_message, list_contact_messages

    settings = get_settings()
    async with db.database(settings.database_url):
        if args.action == "close":
            if not await close_contact_message(args.id, staff=_staff(args)):
                print(f"No open message #{args.id}.", file=sys.stderr)
                return 1
            print(f"Message #{args.id} closed.")
            return 0
        messages = await list_contact_messages(include_closed=args.all)
    for m in messages:
        print(
            f"#{m.id}  {m.created_at:%Y-%m-%d %H:%M}  {m.status.value:<6}  {m.department:<7}  "
            f"{m.name} <{m.email}>  Kd.-Nr. {m.customer_number or '-'}\n"
            f"      {m.subject}\n      " + m.text.replace("\n", "\n      ")
        )
    if not messages:
        print("No open messages." if not args.all else "No messages.")
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

    p = sub.add_parser(
        "delete-login",
        help="Delete a login on request (R8); its customer numbers can be registered again.",
    )
    who = p.add_mutually_exclusive_group(required=True)
    who.add_argument("--email", help="The login's e-mail address.")
    who.add_argument("--customer", help="A customer number the login holds.")
    p.add_argument(
        "--reason",
        required=True,
        help="Why, for the audit trail, without personal data (e.g. 'contact message #12').",
    )
    p.add_argument("--actor", help="Who deletes (default: the operating-system user).")

    p = sub.add_parser("contact", help="List or close contact-form messages.")
    contact = p.add_subparsers(dest="action", required=True)
    listing = contact.add_parser("list", help="Show open messages, oldest first.")
    listing.add_argument("--all", action="store_true", help="Include closed messages.")
    closing = contact.add_parser("close", help="Mark a message as handled.")
    closing.add_argument("id", type=int)
    closing.add_argument("--actor", help="Who closes (default: the operating-system user).")
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
