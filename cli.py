"""`kundenportal`: the one command line of the service, for developers and staff."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import io
import logging
import os
import signal
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import clock
import db
from settings import ROOT, ConfigurationError, Settings, get_settings

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
    """Exit 0: loaded; 2: refused, because ENV=prod."""
    from demo import seed_demo, seed_money_demo

    settings = get_settings()
    if settings.is_prod:
        print(
            "seed-demo refuses to run with ENV=prod: demo customers with a published "
            "password do not belong in a live database.",
            file=sys.stderr,
        )
        return 2
    async with db.database(settings.database_url):
        today = clock.utility_today(settings.utility_timezone)
        print(await seed_demo(today))
        print(await seed_money_demo(settings, today))
    return 0


@command("import")
async def import_command(args: argparse.Namespace) -> int:
    """Exit 0: imported; 1: the file has bad rows and nothing was imported; 2: no such file."""
    from dataio.importer import import_file
    from dataio.progress import Progress, wants_progress

    path: Path = args.file
    settings = get_settings()
    async with db.database(settings.database_url):
        try:
            progress = Progress(enabled=wants_progress(args.progress, path))
            report = await import_file(
                args.kind,
                path,
                dry_run=args.dry_run,
                progress=progress,
                today=clock.utility_today(settings.utility_timezone),
            )
        except OSError as error:
            print(f"{path}: {error.strerror or error}", file=sys.stderr)
            return 2
    return _reported(path, report)


def _reported(path: Path, report: Any) -> int:
    """An import's report as staff read it: `FILE:LINE: reason` lines, then the summary."""
    for problem in report.problems:
        print(f"{path}:{problem.line}: {problem.message}", file=sys.stderr)
    print(report.summary(), file=sys.stdout if report.ok else sys.stderr)
    return 0 if report.ok else 1


async def _export(
    args: argparse.Namespace,
    export: Callable[[io.StringIO, dt.date, str], Coroutine[Any, Any, int]],
    summary: str,
) -> int:
    """Write an export for billing to `--output` (atomically) or stdout; the count to stderr."""
    from dataio.exporter import write_atomically

    settings = get_settings()
    text = io.StringIO(newline="")
    async with db.database(settings.database_url):
        count = await export(text, args.since, settings.utility_timezone)
    if args.output is None:
        sys.stdout.buffer.write(text.getvalue().encode())
        sys.stdout.buffer.flush()
    else:
        await asyncio.to_thread(write_atomically, args.output, text.getvalue())
    print(summary.format(count=count, since=f"{args.since:%d.%m.%Y}"), file=sys.stderr)
    return 0


@command("export-readings")
async def export_readings_command(args: argparse.Namespace) -> int:
    from dataio.exporter import export_readings

    return await _export(
        args, export_readings, "{count} customer reading(s) submitted since {since}."
    )


@command("export-move-outs")
async def export_move_outs_command(args: argparse.Namespace) -> int:
    from dataio.moveouts import export_move_outs

    return await _export(
        args, export_move_outs, "{count} move-out(s) reported or completed since {since}."
    )


@command("photo")
async def photo_command(args: argparse.Namespace) -> int:
    """Write the meter photo of a reading to a file, for staff checking a disputed reading;
    audited. Exit 1 when the reading has no photo."""
    from documents.store import open_store, read
    from models import MeterPhoto
    from security.audit import actor_for_staff, record_audit

    settings = get_settings()
    async with db.database(settings.database_url):
        photo = await MeterPhoto.get_or_none(reading_id=args.reading_id)
        data = await read(open_store(settings), photo.storage_key) if photo else None
        if photo is None or data is None:
            print(f"Reading {args.reading_id} has no photo.", file=sys.stderr)
            return 1
        await record_audit(
            "meter_photo_exported",
            actor=actor_for_staff(_staff(args)),
            reading_id=args.reading_id,
        )
    await asyncio.to_thread(args.output.write_bytes, data)
    print(
        f"{photo.content_type}, {photo.width}×{photo.height}, {len(data)} bytes.", file=sys.stderr
    )
    return 0


def _date_argument(text: str) -> dt.date:
    from dataio.csvformat import FieldError, parse_date

    try:
        return parse_date(text)
    except FieldError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


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


def _staff(args: argparse.Namespace) -> str:
    import getpass

    return args.actor or getpass.getuser()


@command("delete-login")
async def delete_login_command(args: argparse.Namespace) -> int:
    """R8: delete a login on request, by e-mail or customer number, with a reason."""
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


@command("remove-second-factors")
async def remove_second_factors_command(args: argparse.Namespace) -> int:
    """Remove every second factor of a login after verifying the person's identity."""
    from resolvers.second_factor.manage import remove_second_factors_by_staff

    settings = get_settings()
    async with db.database(settings.database_url):
        done = await remove_second_factors_by_staff(
            settings,
            staff=_staff(args),
            reason=args.reason,
            email=args.email,
            customer_number=args.customer,
        )
    if done is None:
        print("No login found.", file=sys.stderr)
        return 1
    mailed, removed = done
    print(f"{removed} second factor(s) removed; notice mailed to {mailed}.")
    return 0


@command("contact")
async def contact_command(args: argparse.Namespace) -> int:
    """Staff handle contact-form messages: list the open ones, close one when done."""
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


@command("reading-reminders")
async def reading_reminders_command(args: argparse.Namespace) -> int:
    """Mail the reading reminders due today (the app also runs this on the purge schedule)."""
    from resolvers.reminders import send_reading_reminders

    settings = get_settings()
    today = clock.utility_today(settings.utility_timezone)
    async with db.database(settings.database_url):
        run = await send_reading_reminders(
            settings, today=today, dry_run=args.dry_run, batch_size=args.batch_size
        )
    verb = "would be queued" if args.dry_run else "queued"
    kinds = ", ".join(f"{kind} {n}" for kind, n in sorted(run.by_kind.items())) or "none"
    print(
        f"{run.mails} reminder mails {verb} ({kinds}) for {run.meters} meters; "
        f"{run.final_reading_mails} final-reading mails {verb}; "
        f"{run.customers} consenting customers checked in {run.batches} batches."
    )
    return 0


@command("worker")
async def worker_command(args: argparse.Namespace) -> int:
    """Deliver the outbox in a process of its own until SIGTERM/SIGINT, then drain."""
    from mailers.worker import run_worker
    from ops.logs import configure_logging
    from ops.memory import startup_objects_frozen

    if args.settings_from_stdin:  # started by an app: its settings, exactly
        settings = Settings.model_validate_json(sys.stdin.buffer.read())
    else:
        settings = get_settings()
    settings.check_for_production()
    configure_logging(settings.log_format_resolved, settings.log_level)
    log = logging.getLogger("kundenportal.mail")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    if args.parent:
        # Ctrl-C in a terminal reaches the whole process group; the app then stops its
        # child itself (SIGTERM, after the requests). A parent that ended without doing
        # so (SIGKILL, a crash) leaves the child to init, which the watch notices.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        watch = asyncio.create_task(_stop_when_orphaned(args.parent, stop))
    else:
        loop.add_signal_handler(signal.SIGINT, stop.set)
    async with db.database(settings.database_url, settings.db_timeouts), run_worker(settings):
        with startup_objects_frozen(settings.gc_freeze_after_start):
            log.info("mail worker started (%s back end)", settings.mail_backend)
            await stop.wait()
        log.info(
            "mail worker stopping: delivering what is due for up to %g s",
            settings.mail_drain_seconds,
        )
    if args.parent:
        await watch  # ends with `stop`
    log.info("mail worker stopped")
    return 0


async def _stop_when_orphaned(parent: int, stop: asyncio.Event) -> None:
    """Set `stop` once this process is no longer `parent`'s child (the parent is gone)."""
    while not stop.is_set():
        if os.getppid() != parent:
            logging.getLogger("kundenportal.mail").warning("the app that started it is gone")
            stop.set()
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 1.0)


def _age(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f} {unit}"
    return f"{seconds:.0f} s"


@command("mail-queue")
async def mail_queue_command(args: argparse.Namespace) -> int:
    """Show the outbox (counts, oldest waiting mail, latest failures), or retry failed mails."""
    from mailers.outbox import (
        NotRetryable,
        latest_failures,
        mask_address,
        queue_metrics,
        retry_failed,
        retry_mail,
    )
    from models import MailStatus

    settings = get_settings()
    async with db.database(settings.database_url):
        if args.retry_failed:
            print(f"{await retry_failed()} failed mail(s) queued again.")
            return 0
        if args.retry is not None:
            try:
                await retry_mail(args.retry)
            except NotRetryable as error:
                print(f"Not queued: {error}.", file=sys.stderr)
                return 1
            print(f"Mail {args.retry} queued again.")
            return 0
        metrics = await queue_metrics()
        failures = await latest_failures(args.failures)
    print(f"queued  {metrics['queued']:>8}", end="")
    if metrics["queued"]:
        print(f"   oldest waiting {_age(metrics['oldest_queued_age_seconds'])}", end="")
    print(f"\nsent    {metrics['sent']:>8}\nfailed  {metrics['failed']:>8}")
    if failures:
        print("\nLatest failures (time: when it failed, or when it is tried again):")
        for mail in failures:
            state = "failed" if mail.status == MailStatus.FAILED else "retry "
            print(
                f"  #{mail.id}  {state} {mail.next_attempt_at:%Y-%m-%d %H:%M} UTC  "
                f"{mask_address(mail.recipient)}  {mail.kind}  "
                f"attempt {mail.attempts}: {mail.last_error}"
            )
    return 0


@command("send-test-mail")
async def send_test_mail_command(args: argparse.Namespace) -> int:
    """Send the `test_notice` mail through the outbox now, to check the mail set-up."""
    from tortoise.transactions import in_transaction

    from mailers.outbox import queue_mail
    from mailers.worker import claim, deliver_claimed
    from models import MailStatus, OutboxMail

    settings = get_settings()
    settings.check_for_production()
    async with db.database(settings.database_url):
        async with in_transaction() as conn:
            queued = await queue_mail(
                "test_notice",
                to=args.address,
                locale=args.locale,
                settings=settings,
                using_db=conn,
                name=args.address,
            )
        mail = await claim(settings, queued.id)
        if mail is not None:
            await deliver_claimed(mail, settings)
        else:  # a running worker was quicker: wait for its outcome
            deadline = asyncio.get_running_loop().time() + settings.mail_lease_seconds / 2 + 5
            while asyncio.get_running_loop().time() < deadline:
                mail = await OutboxMail.get(id=queued.id)
                if mail.status != MailStatus.QUEUED or mail.last_error:
                    break
                await asyncio.sleep(0.2)
        mail = await OutboxMail.get(id=queued.id)
    where = (
        f"{settings.smtp_host}:{settings.smtp_port}"
        if settings.mail_backend == "smtp"
        else str(settings.mail_dir)
    )
    if mail.status == MailStatus.SENT:
        print(f"Test mail {mail.id} {mail.message_id} handed to {where}.")
        return 0
    state = "failed" if mail.status == MailStatus.FAILED else "queued for retry"
    print(
        f"Test mail {mail.id} not delivered to {where} ({state}): {mail.last_error}",
        file=sys.stderr,
    )
    return 1


# ------------------------------------------------------------------------ money


def _write_export(output: Path | None, text: str, *, private: bool = False) -> None:
    """To stdout, or atomically to `output` (readable by its owner only when `private`)."""
    from dataio.exporter import write_atomically

    if output is None:
        sys.stdout.buffer.write(text.encode())
        sys.stdout.buffer.flush()
        return
    write_atomically(output, text)
    if private:
        output.chmod(0o600)


@command("export-budget-requests")
async def export_budget_requests_command(args: argparse.Namespace) -> int:
    from dataio.money_exports import export_budget_requests

    settings = get_settings()
    text = io.StringIO(newline="")
    async with db.database(settings.database_url):
        count = await export_budget_requests(
            text, args.since, settings.utility_timezone, now=clock.now()
        )
    await asyncio.to_thread(_write_export, args.output, text.getvalue())
    print(f"{count} installment request(s) made since {args.since:%d.%m.%Y}.", file=sys.stderr)
    return 0


@command("export-bank-changes")
async def export_bank_changes_command(args: argparse.Namespace) -> int:
    """Bank details changes past their cooling-off time, with full IBANs: a private file."""
    from dataio.money_exports import (
        claim_due_bank_changes,
        exported_bank_changes,
        write_bank_changes,
    )
    from security.bankdata import cipher_for

    settings = get_settings()
    text = io.StringIO(newline="")
    async with db.database(settings.database_url):
        if args.repeat is not None:
            changes = await exported_bank_changes(args.repeat, settings.utility_timezone)
        else:
            changes = await claim_due_bank_changes(clock.now())
        write_bank_changes(
            text,
            changes,
            cipher_for(settings),
            creditor_id=settings.sepa_creditor_id,
            timezone=settings.utility_timezone,
        )
    await asyncio.to_thread(_write_export, args.output, text.getvalue(), private=True)
    print(f"{len(changes)} bank details change(s).", file=sys.stderr)
    return 0


@command("export-online-customers")
async def export_online_customers_command(args: argparse.Namespace) -> int:
    from dataio.money_exports import export_online_customers

    settings = get_settings()
    text = io.StringIO(newline="")
    async with db.database(settings.database_url):
        count = await export_online_customers(text, settings.utility_timezone)
    await asyncio.to_thread(_write_export, args.output, text.getvalue())
    print(f"{count} online customer(s): no paper invoice.", file=sys.stderr)
    return 0


@command("import-invoice-documents")
async def import_invoice_documents_command(args: argparse.Namespace) -> int:
    """Exit 0: imported; 1: bad rows, nothing imported; 2: no index file."""
    from dataio.invoice_documents import import_invoice_documents
    from documents.store import open_store

    settings = get_settings()
    index = args.index or args.folder / "index.csv"
    async with db.database(settings.database_url):
        try:
            report = await import_invoice_documents(
                args.folder,
                index=index,
                store=open_store(settings),
                settings=settings,
                dry_run=args.dry_run,
            )
        except OSError as error:
            print(f"{index}: {error.strerror or error}", file=sys.stderr)
            return 2
    return _reported(index, report)


@command("reencrypt-bank-data")
async def reencrypt_bank_data_command(args: argparse.Namespace) -> int:
    """Key rotation: encrypt every stored IBAN with the first of BANK_DATA_KEYS."""
    from security.bankdata import cipher_for, reencrypt_bank_data

    settings = get_settings()
    async with db.database(settings.database_url):
        count = await reencrypt_bank_data(cipher_for(settings))
    print(f"{count} IBAN(s) encrypted with the newest key; older keys may now be removed.")
    return 0


@command("new-bank-data-key")
async def new_bank_data_key_command(args: argparse.Namespace) -> int:
    from cryptography.fernet import Fernet

    print(Fernet.generate_key().decode())
    return 0


def serve(args: argparse.Namespace) -> int:
    import uvicorn

    from ops.http_protocol import uvicorn_limits
    from ops.tls import tls12_context

    settings = get_settings()
    settings.check_for_production()
    if args.migrate:
        asyncio.run(db.migrate(settings.database_url))
    scheme = "https" if args.certfile else "http"
    host = f"[{args.host}]" if ":" in args.host else args.host
    print(f"Serving the API at {scheme}://{host}:{args.port}/graphql", file=sys.stderr, flush=True)
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
        **uvicorn_limits(),
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

    p = sub.add_parser(
        "remove-second-factors",
        help="Remove every second factor (passkeys, authenticator app, recovery codes) of a "
        "login whose owner lost them, after verifying the person's identity.",
    )
    who = p.add_mutually_exclusive_group(required=True)
    who.add_argument("--email", help="The login's e-mail address.")
    who.add_argument("--customer", help="A customer number the login holds.")
    p.add_argument(
        "--reason",
        required=True,
        help="How the identity was verified and why, for the audit trail, without personal data.",
    )
    p.add_argument("--actor", help="Who removes them (default: the operating-system user).")

    p = sub.add_parser("contact", help="List or close contact-form messages.")
    contact = p.add_subparsers(dest="action", required=True)
    listing = contact.add_parser("list", help="Show open messages, oldest first.")
    listing.add_argument("--all", action="store_true", help="Include closed messages.")
    closing = contact.add_parser("close", help="Mark a message as handled.")
    closing.add_argument("id", type=int)
    closing.add_argument("--actor", help="Who closes (default: the operating-system user).")

    p = sub.add_parser("audit", help="List security-relevant events, newest first.")
    p.add_argument("--login", type=int, help="Only events of this login id.")
    p.add_argument("--action", help="Only this action, e.g. login_failed.")
    p.add_argument("--limit", type=int, default=100)
    sub.add_parser("purge", help="Run every retention job once.")
    p = sub.add_parser(
        "reading-reminders",
        help="Mail the reading reminders due today (safe to repeat: never twice).",
    )
    p.add_argument("--dry-run", action="store_true", help="Only count the mails that are due.")
    p.add_argument(
        "--batch-size", type=int, help="Customers per transaction (REMINDER_BATCH_SIZE)."
    )
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

    p = sub.add_parser(
        "worker",
        help="Deliver queued mails in this process until SIGTERM; run the app with "
        "MAIL_WORKER_IN_APP=false then.",
    )
    # How an app starts its own worker (MAIL_WORKER_SUBPROCESS), not for people.
    p.add_argument("--parent", type=int, default=0, help=argparse.SUPPRESS)
    p.add_argument("--settings-from-stdin", action="store_true", help=argparse.SUPPRESS)
    p = sub.add_parser("mail-queue", help="Show the mail outbox, or queue failed mails again.")
    p.add_argument("--failures", type=int, default=10, help="How many failures to list.")
    what = p.add_mutually_exclusive_group()
    what.add_argument("--retry", type=int, metavar="ID", help="Queue failed mail ID again.")
    what.add_argument("--retry-failed", action="store_true", help="Queue every failed mail again.")
    p = sub.add_parser("send-test-mail", help="Send a test mail now, to check the mail set-up.")
    p.add_argument("address", help="Recipient address.")
    p.add_argument("--locale", choices=("de", "en"), default="de")

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
    p = sub.add_parser(
        "export-budget-requests",
        help="Export installment change requests made since a date as CSV for billing.",
    )
    p.add_argument("--since", required=True, type=_date_argument, help="Local date.")
    p.add_argument("--output", "-o", type=Path, help="File to write (default: stdout).")
    p = sub.add_parser(
        "export-bank-changes",
        help="Export bank details changes past their cooling-off time (full IBANs) for billing.",
    )
    p.add_argument("--output", "-o", type=Path, help="File to write, mode 0600 (default: stdout).")
    p.add_argument(
        "--repeat",
        type=_date_argument,
        help="Write again the changes exported on this local date (after a failed delivery).",
    )
    p = sub.add_parser(
        "export-online-customers",
        help="Export the customers who receive no paper invoice (online customers, R11).",
    )
    p.add_argument("--output", "-o", type=Path, help="File to write (default: stdout).")
    p = sub.add_parser(
        "import-invoice-documents",
        help="Attach invoice PDFs from a folder with an index CSV (all or nothing).",
    )
    p.add_argument("folder", type=Path, help="Folder with the PDFs and index.csv.")
    p.add_argument("--index", type=Path, help="Index CSV (default: FOLDER/index.csv).")
    p.add_argument("--dry-run", action="store_true", help="Check only; attach nothing.")
    sub.add_parser(
        "reencrypt-bank-data", help="Encrypt every stored IBAN with the first BANK_DATA_KEYS key."
    )
    sub.add_parser("new-bank-data-key", help="Print a new key for BANK_DATA_KEYS.")

    p = sub.add_parser("photo", help="Write the meter photo of a reading to a file (audited).")
    p.add_argument("reading_id", type=int, help="`ablese_id` of the readings' export.")
    p.add_argument("--output", "-o", type=Path, required=True, help="File to write.")
    p.add_argument("--actor", help="Who asks (default: the operating-system user).")

    p = sub.add_parser(
        "export-move-outs",
        help="Export move-outs with forwarding address and final readings as CSV for billing.",
    )
    p.add_argument(
        "--since",
        required=True,
        type=_date_argument,
        help="Local date: move-outs reported, or given a final reading, on or after it.",
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
