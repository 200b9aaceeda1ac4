"""Benchmark: the reading-reminder job on 100,000 customers, and that it resumes after a kill.

    .venv/bin/python -m benchmarks.reminders_100k [--customers N] [--online-share F]
        [--batch-size N] [--seed S] [--admin-url postgres://postgres@127.0.0.1:5432/postgres]

A fresh PostgreSQL database (`kp_bench_<random>`, dropped at the end) gets the
customers of `benchmarks/import_100k.py` through the import, then a reading period
opening today for every manual meter and three yearly staff readings each (the
history of `population.py`, imported as well) and, for `--online-share`
of the customers, an active login holding that one customer number and the online
consent (R11), written in bulk as `benchmarks/population.py` does. So every
such customer with a manual meter is due the "opened" reminder today. Then:

1. `send_reading_reminders(..., dry_run=True)` in this process, timed, statements counted;
2. the real run in this process, timed, statements counted, mails in the outbox;
3. markers and reminder mails deleted (a fresh state), `kundenportal reading-reminders`
   as a subprocess, SIGKILLed once about half the due meters are marked;
4. the CLI again to the end; then the outbox and markers are checked: no customer
   with two reminder mails, no meter and period marked twice, every due meter marked
   and every due customer mailed once.

Not a test: it asserts nothing about time; it prints the figures and whether the
resumability checks held (exit status 1 when they did not).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from tortoise.connection import connections

import clock
import db
from benchmarks.import_100k import FILES, german_date, import_files, write_csv_files
from benchmarks.population import (
    _create_logins,
    _rows,
    create_database,
    database_url_for,
    drop_database,
    write_current_files,
)
from benchmarks.server import start_counting
from dataio.importer import import_file
from resolvers.reminders import send_reading_reminders
from settings import get_settings

ROOT = Path(__file__).resolve().parent.parent


def write_opening_periods(folder: Path, today: dt.date) -> Path:
    """A reading period from today to four weeks ahead for every generated manual meter."""
    meters = (folder / dict(FILES)["meters"]).read_text(encoding="utf-8").splitlines()[1:]
    path = folder / "ableseperioden_heute.csv"
    starts, ends = german_date(today), german_date(today + dt.timedelta(days=28))
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write("zaehlernummer;gruppe;beginn;ende;stichtag\r\n")
        for line in meters:
            number, _, _, kind, *_ = line.split(";")
            if kind == "manuell":
                out.write(f"{number};;{starts};{ends};{ends}\r\n")
    return path


async def build(folder: Path, customers: int, online: int, seed: int, today: dt.date) -> None:
    """Import customers and today's periods; logins with consent for `online` customers."""
    paths = await asyncio.to_thread(write_csv_files, folder, customers, seed)
    periods = await asyncio.to_thread(write_opening_periods, folder, today)
    _, history = await asyncio.to_thread(write_current_files, folder, today, seed)
    await import_files(paths)
    for kind, path in (("reading-periods", periods), ("radio-readings", history)):
        report = await import_file(kind, path, today=today)
        if not report.ok:
            raise RuntimeError(report.summary())
    settings = get_settings()
    await _create_logins(settings.secret_key, 4, online, 0, 1)
    await _rows(
        'UPDATE "customer" c SET "online_consent" = true, "online_consent_at" = now(),'
        ' "online_consent_version" = \'bench\', "online_consent_login_id" = lc."login_id"'
        ' FROM "login_customer" lc WHERE lc."customer_id" = c."id"'
    )
    await connections.get("default").execute_script("ANALYZE")


DUE_METERS = (
    'SELECT m."id" AS "meter_id", m."customer_id", p."id" AS "period_id"'
    ' FROM "meter" m JOIN "customer" c ON c."id" = m."customer_id" AND c."online_consent"'
    ' JOIN "login_customer" lc ON lc."customer_id" = c."id"'
    ' JOIN "login" l ON l."id" = lc."login_id" AND l."state" = \'active\''
    ' JOIN "reading_period" p ON p."meter_id" = m."id" AND p."starts_on" = $1'
    ' WHERE m."kind" = \'manual\' AND m."removed_on" IS NULL'
)


async def due(today: dt.date) -> tuple[int, int]:
    """(customers, meters) due the opening reminder today, counted in SQL, not by the job."""
    rows = await _rows(
        f'SELECT count(DISTINCT "customer_id") AS "customers", count(*) AS "meters"'
        f" FROM ({DUE_METERS}) d",
        today,
    )
    return rows[0]["customers"], rows[0]["meters"]


async def timed_run(today: dt.date, size: int, *, dry_run: bool) -> tuple[float, int, Any]:
    counter = start_counting()
    started = time.perf_counter()
    run = await send_reading_reminders(
        get_settings(), today=today, dry_run=dry_run, batch_size=size
    )
    return time.perf_counter() - started, counter[0], run


async def count(sql: str, *values: Any) -> int:
    return int((await _rows(sql, *values))[0]["n"])


MARKERS = 'SELECT count(*) AS "n" FROM "reading_reminder"'
MAILS = 'SELECT count(*) AS "n" FROM "outbox_mail" WHERE "kind" = \'reading_reminder\''


async def reset() -> None:
    await _rows('DELETE FROM "reading_reminder"')
    await _rows('DELETE FROM "outbox_mail" WHERE "kind" = \'reading_reminder\'')


def cli(url: str, batch_size: int) -> subprocess.Popen[str]:
    env = {**os.environ, "DATABASE_URL": url, "LOG_LEVEL": "WARNING"}
    command = [sys.executable, "-c", "import sys, cli; sys.exit(cli.main())", "reading-reminders"]
    command += ["--batch-size", str(batch_size)]
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)


async def kill_halfway(url: str, meters: int, batch_size: int) -> tuple[float, int]:
    """Start the CLI, SIGKILL it once half the due meters are marked; (seconds, markers)."""
    started = time.perf_counter()
    process = cli(url, batch_size)
    try:
        # Polling another process's progress: there is no event to wait for.
        while process.poll() is None and await count(MARKERS) < meters // 2:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
        process.wait()
    if process.returncode != -signal.SIGKILL:
        raise RuntimeError("the job finished before it could be killed: use more customers")
    return time.perf_counter() - started, await count(MARKERS)


async def check(today: dt.date) -> dict[str, int]:
    """The resumability figures: duplicates (must be 0) and what is missing (must be 0)."""
    return {
        # Every login holds one customer number: a recipient is a customer.
        "customers with two or more reminder mails": await count(
            'SELECT count(*) AS "n" FROM (SELECT "recipient" FROM "outbox_mail"'
            ' WHERE "kind" = \'reading_reminder\' GROUP BY "recipient" HAVING count(*) > 1) d'
        ),
        "meter and period marked twice": await count(
            'SELECT count(*) AS "n" FROM (SELECT 1 FROM "reading_reminder"'
            ' GROUP BY "meter_id", "period_id" HAVING count(*) > 1) d'
        ),
        "due meters not marked": await count(
            f'SELECT count(*) AS "n" FROM ({DUE_METERS}) d WHERE NOT EXISTS'
            ' (SELECT 1 FROM "reading_reminder" r WHERE r."meter_id" = d."meter_id"'
            ' AND r."period_id" = d."period_id")',
            today,
        ),
        "due customers without a mail": await count(
            f'SELECT count(DISTINCT d."customer_id") AS "n" FROM ({DUE_METERS}) d'
            ' JOIN "login_customer" lc ON lc."customer_id" = d."customer_id"'
            ' JOIN "login" l ON l."id" = lc."login_id" WHERE NOT EXISTS'
            ' (SELECT 1 FROM "outbox_mail" o WHERE o."kind" = \'reading_reminder\''
            ' AND o."recipient" = l."email")',
            today,
        ),
    }


async def run(args: argparse.Namespace) -> int:
    today = clock.utility_today(get_settings().utility_timezone)
    name = await create_database(args.admin_url)
    url = database_url_for(args.admin_url, name)
    online = int(args.customers * args.online_share)
    try:
        with tempfile.TemporaryDirectory(prefix="kp-bench-") as folder:
            started = time.perf_counter()
            await db.migrate(url)
            async with db.database(url):
                await build(Path(folder), args.customers, online, args.seed, today)
                print(f"database built in {time.perf_counter() - started:.0f} s")
                customers, meters = await due(today)
                print(
                    f"{args.customers:,} customers, {online:,} with online consent and an active"
                    f" login; due today: {customers:,} customers with {meters:,} manual meters"
                    " whose reading period opens today"
                )
                return await measure(args, url, today, customers, meters)
    finally:
        await drop_database(args.admin_url, name)


async def measure(
    args: argparse.Namespace, url: str, today: dt.date, customers: int, meters: int
) -> int:
    size = args.batch_size or get_settings().reminder_batch_size
    for dry_run in (True, False):
        seconds, statements, job = await timed_run(today, size, dry_run=dry_run)
        what = "dry run " if dry_run else "real run"
        print(
            f"{what}: {seconds:6.1f} s, {job.customers:,} consenting customers in"
            f" {job.batches} batches of {size}, {job.mails:,} mails for {job.meters:,} meters,"
            f" {statements:,} SQL statements ({statements / max(job.batches, 1):.0f} per batch,"
            f" BEGIN/COMMIT not counted), {job.customers / seconds:,.0f} customers/s"
        )
    print(f"outbox: {await count(MAILS):,} reminder mails queued, {await count(MARKERS):,} markers")

    await reset()
    seconds, marked = await kill_halfway(url, meters, size)
    print(f"fresh state; CLI killed (SIGKILL) after {seconds:.1f} s with {marked:,} meters marked")
    started = time.perf_counter()
    process = cli(url, size)
    output, _ = process.communicate()
    print(f"CLI again: {time.perf_counter() - started:.1f} s, exit {process.returncode}: {output}")
    mails = await count(MAILS)
    print(f"outbox: {mails:,} reminder mails for {customers:,} due customers")
    problems = await check(today)
    for label, number in problems.items():
        print(f"  {label}: {number}")
    held = mails == customers and not any(problems.values())
    print("resumability: " + ("held" if held else "BROKEN"))
    return 0 if held else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument(
        "--online-share",
        type=float,
        default=0.4,
        help="Share of customers with a login and online consent (default 0.4).",
    )
    parser.add_argument("--batch-size", type=int, help="REMINDER_BATCH_SIZE for the job.")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--admin-url",
        default="postgres://postgres@127.0.0.1:5432/postgres",
        help="A PostgreSQL URL whose server gets the benchmark's own database.",
    )
    args = parser.parse_args(argv)
    print(
        f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores, load average"
        f" {os.getloadavg()[0]:.1f}, Python {platform.python_version()}, {platform.platform()}"
    )
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
