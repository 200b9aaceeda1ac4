"""Benchmark: import 100,000 customers with meters, invoices, reading periods and readings.

    .venv/bin/python -m benchmarks.import_100k [--customers N] [--seed S] [--keep]
        [--admin-url postgres://postgres@127.0.0.1:5432/postgres]

Generates the CSV files the billing system would deliver (seeded, so every run
sees the same data) into a temporary folder, creates a fresh PostgreSQL database
(`kp_bench_<random>`), migrates it, imports the files in dependency order through
`dataio.importer.import_file` (what `kundenportal import` runs), prints rows/s per
file and the total, and drops the database again (unless --keep).

Not a test: it asserts nothing about time. For other benchmarks that need a
database full of customers: `write_csv_files(folder, customers, seed)` writes the
files, `await load_customers(database_url, customers, seed)` migrates the given
database and imports them.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import platform
import random
import shutil
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import clock
from settings import get_settings

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import db  # noqa: E402
from dataio.csvformat import SEPARATOR  # noqa: E402
from dataio.importer import ImportReport, import_file  # noqa: E402
from dataio.progress import Progress  # noqa: E402

FIRST_NUMBER = 2_000_000
GROUPS = 25  # radio-meter districts, each with one group reading period
KEY_DATE = dt.date(2025, 12, 31)
FILES = (  # (kind, file name) in the order in which files refer to each other
    ("customers", "kunden.csv"),
    ("invoices", "rechnungen.csv"),
    ("meters", "zaehler.csv"),
    ("reading-periods", "ableseperioden.csv"),
    ("radio-readings", "funkablesungen.csv"),
)
FIRST_NAMES = ("Anna", "Ben", "Clara", "David", "Emma", "Felix", "Greta", "Hans", "Ida", "Jonas")
LAST_NAMES = ("Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker")
STREETS = ("Hauptstraße", "Schulweg", "Am Wasserturm", "Lindenallee", "Gartenstraße", "Ringweg")
CITIES = (("12345", "Musterstadt"), ("12346", "Musterdorf"), ("12347", "Neustadt an der Aue"))


def german_date(day: dt.date) -> str:
    return day.strftime("%d.%m.%Y")


def german_amount(cents: int) -> str:
    """Thousands dots and a decimal comma, as the billing system writes them."""
    sign = "-" if cents < 0 else ""
    euros, rest = divmod(abs(cents), 100)
    return f"{sign}{euros:,}".replace(",", ".") + f",{rest:02d}"


def write_csv_files(folder: Path, customers: int, seed: int = 1) -> dict[str, Path]:
    """The five files for `customers` customers; the same seed gives the same bytes.

    Per customer: a main meter (15 % radio), for a quarter a second meter, two
    annual bills (10 % of customers have only a deposit invoice, so they cannot
    register), for a third a further invoice or credit note (negative amount); a
    reading period per manual meter and one per radio district; a radio reading per
    radio meter.
    """
    rng = random.Random(seed)
    paths = {kind: folder / name for kind, name in FILES}
    handles = {kind: path.open("w", encoding="utf-8", newline="") for kind, path in paths.items()}
    try:
        out = {kind: handle.write for kind, handle in handles.items()}
        out["customers"]("\ufeffkundennummer;name;strasse;plz;ort;telefon;email\r\n")
        out["invoices"]("rechnungsnummer;kundennummer;rechnungsdatum;art;betrag\r\n")
        out["meters"]("zaehlernummer;kundennummer;hauptzaehler;art;gruppe;eingebaut_am\r\n")
        out["reading-periods"]("zaehlernummer;gruppe;beginn;ende;stichtag\r\n")
        out["radio-readings"]("zaehlernummer;ablesedatum;zaehlerstand;quelle\r\n")
        for district in range(GROUPS):
            out["reading-periods"](
                f";FUNK-{district:02d};{german_date(KEY_DATE - dt.timedelta(days=14))};"
                f"{german_date(KEY_DATE + dt.timedelta(days=14))};{german_date(KEY_DATE)}\r\n"
            )
        for index in range(customers):
            number = str(FIRST_NUMBER + index)
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            postal_code, city = rng.choice(CITIES)
            phone = (
                f"0{rng.randint(30, 9999)} {rng.randint(100000, 9999999)}"
                if rng.random() < 0.6
                else ""
            )
            email = f"{first.lower()}.{index}@example.org" if rng.random() < 0.5 else ""
            name = f'"{last}; {first}"' if index % 1000 == 0 else f"{first} {last}"
            out["customers"](
                SEPARATOR.join(
                    (
                        number,
                        name,
                        f"{rng.choice(STREETS)} {rng.randint(1, 200)}",
                        postal_code,
                        city,
                        phone,
                        email,
                    )
                )
                + "\r\n"
            )
            if rng.random() < 0.9:
                for year in (2023, 2024):
                    billed = german_date(dt.date(year + 1, 1, 1 + index % 28))
                    out["invoices"](
                        f"R-{year}-{number};{number};{billed};"
                        f"Jahresabrechnung;{german_amount(rng.randint(15_000, 250_000))}\r\n"
                    )
            else:
                out["invoices"](
                    f"A-2025-{number};{number};{german_date(dt.date(2025, 3, 1))};"
                    f"Sonstige;{german_amount(rng.randint(5_000, 30_000))}\r\n"
                )
            if rng.random() < 0.33:
                out["invoices"](
                    f"G-2025-{number};{number};{german_date(dt.date(2025, 6, 1 + index % 28))};"
                    f"Sonstige;{german_amount(rng.randint(-20_000, 20_000))}\r\n"
                )
            meters = [(f"Z-{number}", "ja", rng.random() < 0.15)]
            if rng.random() < 0.25:
                meters.append((f"G-{number}", "nein", rng.random() < 0.5))
            for meter, main, radio in meters:
                installed = dt.date(2000 + rng.randint(0, 20), rng.randint(1, 12), 1)
                group = f"FUNK-{index % GROUPS:02d}" if radio else ""
                out["meters"](
                    f"{meter};{number};{main};{'Funk' if radio else 'manuell'};{group};"
                    f"{german_date(installed)}\r\n"
                )
                if radio:
                    value = f"{rng.randint(10_000, 9_999_999) / 1000:.3f}".replace(".", ",")
                    out["radio-readings"](f"{meter};{german_date(KEY_DATE)};{value};Funk\r\n")
                else:
                    start = KEY_DATE - dt.timedelta(days=rng.randint(7, 21))
                    end = start + dt.timedelta(days=28)
                    out["reading-periods"](
                        f"{meter};;{german_date(start)};{german_date(end)};{german_date(KEY_DATE)}\r\n"
                    )
    finally:
        for handle in handles.values():
            handle.close()
    return paths


@dataclass
class FileResult:
    kind: str
    rows: int
    seconds: float

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


async def import_files(paths: dict[str, Path], *, progress: bool = False) -> list[FileResult]:
    """Import the files in dependency order into the open database; stop at a bad file."""
    results = []
    for kind, _ in FILES:
        started = time.perf_counter()
        report: ImportReport = await import_file(
            kind,
            paths[kind],
            progress=Progress(enabled=progress),
            today=clock.utility_today(get_settings().utility_timezone),
        )
        seconds = time.perf_counter() - started
        if not report.ok:
            details = "\n".join(f"  line {p.line}: {p.message}" for p in report.problems[:10])
            raise RuntimeError(f"{report.summary()}\n{details}")
        results.append(FileResult(kind, report.rows, seconds))
    return results


async def load_customers(
    database_url: str, customers: int, seed: int = 1, *, progress: bool = False
) -> list[FileResult]:
    """Generate `customers` customers and import them into `database_url` (migrated first)."""
    with tempfile.TemporaryDirectory(prefix="kp-bench-") as folder:
        paths = await asyncio.to_thread(write_csv_files, Path(folder), customers, seed)
        await db.migrate(database_url)
        async with db.database(database_url):
            return await import_files(paths, progress=progress)


async def _admin(admin_url: str, sql: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(admin_url.replace("postgres://", "postgresql://", 1))
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


def _print_results(results: list[FileResult], total: float) -> None:
    print(f"{'file':<17}{'rows':>10}{'seconds':>10}{'rows/s':>10}")
    for r in results:
        print(f"{r.kind:<17}{r.rows:>10,}{r.seconds:>10.2f}{r.rows_per_second:>10,.0f}")
    rows = sum(r.rows for r in results)
    imported = sum(r.seconds for r in results)
    print(f"{'import, total':<17}{rows:>10,}{imported:>10.2f}{rows / imported:>10,.0f}")
    print(f"migrate and import: {total:.1f} s")


async def run(admin_url: str, paths: dict[str, Path], *, progress: bool, keep: bool) -> None:
    """Create a database of its own, migrate it, import the files, drop it (unless `keep`)."""
    name = f"kp_bench_{uuid.uuid4().hex[:10]}"
    parts = urlsplit(admin_url)
    url = urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, ""))
    await _admin(admin_url, f'CREATE DATABASE "{name}"')
    try:
        started = time.perf_counter()
        await db.migrate(url)
        async with db.database(url):
            results = await import_files(paths, progress=progress)
        _print_results(results, time.perf_counter() - started)
    finally:
        if keep:
            print(f"kept database {url}")
        else:
            await _admin(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="Keep the database and files.")
    parser.add_argument("--progress", action="store_true", help="Progress bars on stderr.")
    parser.add_argument(
        "--admin-url",
        default="postgres://postgres@127.0.0.1:5432/postgres",
        help="A PostgreSQL URL whose server gets the benchmark's own database.",
    )
    args = parser.parse_args(argv)

    print(
        f"{dt.datetime.now():%Y-%m-%d %H:%M}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, {platform.platform()}"
    )
    folder = Path(tempfile.mkdtemp(prefix="kp-bench-"))
    try:
        started = time.perf_counter()
        paths = write_csv_files(folder, args.customers, args.seed)
        size = sum(p.stat().st_size for p in paths.values()) / 1e6
        print(
            f"{args.customers:,} customers as CSV in {folder} ({size:.1f} MB, "
            f"{time.perf_counter() - started:.1f} s to generate)"
        )
        asyncio.run(run(args.admin_url, paths, progress=args.progress, keep=args.keep))
    finally:
        if args.keep:
            print(f"kept the files in {folder}")
        else:
            shutil.rmtree(folder)
    return 0


if __name__ == "__main__":
    sys.exit(main())
