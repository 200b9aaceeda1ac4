"""The load benchmark's database: customers through the import path, logins and sessions in bulk.

`build_population` creates a PostgreSQL database of its own, migrates it and imports
the importer benchmark's generated billing files (`import_100k.write_csv_files`)
plus two files of its own through the same `import_file`: a reading period open
today for every manual meter, and three yearly staff readings per manual meter
(so a dashboard has last readings and a submission has a history to be checked
against). Then it writes active logins straight into the tables: one bcrypt hash
(cost as the server's) computed once and shared, most logins with one customer
number, some with twenty, each with a session whose token the load generator
sends as `Authorization: Bearer`. The rows are what registration and the `login`
mutation would leave behind, so the real `login` mutation accepts them. Every
customer gets a monthly budget plan (the `budget-plans` import), and the newest
invoice of some logins a 5 MB PDF (the invoice document import, into a document
store folder of the run's own).
"""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import hashlib
import json
import random
import shutil
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import bcrypt
from tortoise.connection import connections

import clock
import db
from benchmarks.import_100k import FILES, import_files, write_csv_files
from dataio.importer import import_file
from dataio.invoice_documents import import_invoice_documents
from documents.store import FolderStore
from security.tokens import hash_secret, new_token
from settings import Settings, get_settings

PASSWORD = "Bench-Passw0rd!2024"  # meets R3; every generated login has it


@dataclass
class Account:
    """One generated login with its session token and the meter it submits readings for."""

    login_id: int
    email: str
    token: str
    customers: list[str]
    meter: str  # main meter of the first (active) customer: manual, period open today
    last_value_milli: int  # the meter's last reading in litres (m³ × 1000)


@dataclass
class Population:
    database_url: str
    database_name: str
    customers: int
    accounts: list[Account]
    registrable: list[tuple[str, str]]  # (customer number, main meter number), no login yet
    document_dir: str = ""  # the document store the server is given (DOCUMENT_DIR)
    pdf_logins: list[int] = field(default_factory=list)  # logins whose newest invoice has a PDF
    seconds: dict[str, float] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)


def database_url_for(admin_url: str, name: str, query: str = "") -> str:
    parts = urlsplit(admin_url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, query, ""))


async def admin_sql(admin_url: str, sql: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(admin_url.replace("postgres://", "postgresql://", 1))
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


async def create_database(admin_url: str) -> str:
    name = f"kp_bench_{uuid.uuid4().hex[:10]}"
    await admin_sql(admin_url, f'CREATE DATABASE "{name}"')
    return name


async def drop_database(admin_url: str, name: str) -> None:
    await admin_sql(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _german(day: dt.date) -> str:
    return day.strftime("%d.%m.%Y")


def write_current_files(folder: Path, today: dt.date, seed: int) -> tuple[Path, Path]:
    """For each manual meter of the generated `zaehler.csv`: a period open today, and
    staff readings one, two and three years ago (about 40–200 m³ a year)."""
    rng = random.Random(seed + 1)
    meters_file = folder / dict(FILES)["meters"]
    periods = folder / "ableseperioden_aktuell.csv"
    readings = folder / "ablesungen.csv"
    starts, ends = today - dt.timedelta(days=10), today + dt.timedelta(days=18)
    with (
        meters_file.open(encoding="utf-8") as source,
        periods.open("w", encoding="utf-8", newline="") as out_periods,
        readings.open("w", encoding="utf-8", newline="") as out_readings,
    ):
        out_periods.write("zaehlernummer;gruppe;beginn;ende;stichtag\r\n")
        out_readings.write("zaehlernummer;ablesedatum;zaehlerstand;quelle\r\n")
        for row in csv.DictReader(source, delimiter=";"):
            if row["art"] != "manuell":
                continue
            meter = row["zaehlernummer"]
            out_periods.write(f"{meter};;{_german(starts)};{_german(ends)};{_german(ends)}\r\n")
            value = rng.randint(100_000, 5_000_000)  # litres
            for years_ago in (3, 2, 1):
                value += rng.randint(40_000, 200_000)
                day = today - dt.timedelta(days=365 * years_ago)
                shown = f"{value // 1000},{value % 1000:03d}"
                out_readings.write(f"{meter};{_german(day)};{shown};Ableser\r\n")
    return periods, readings


def write_budget_plans(folder: Path, today: dt.date) -> Path:
    """A monthly budget plan for every customer (50 € a month, 20–200 € allowed, due on
    the first of each month from this one, last year's consumption and price given)."""
    plans = folder / "abschlagsplaene.csv"
    first = _german(today.replace(day=1))
    with (
        (folder / dict(FILES)["customers"]).open(encoding="utf-8-sig") as source,
        plans.open("w", encoding="utf-8", newline="") as out,
    ):
        out.write(
            "kundennummer;abschlag;rhythmus;erste_faelligkeit;berechneter_abschlag;"
            "minimum;maximum;verbrauch_vorjahr;preis_je_m3\r\n"
        )
        for row in csv.DictReader(source, delimiter=";"):
            out.write(f"{row['kundennummer']};50,00;monatlich;{first};50,00;20,00;200,00;"
                      "120,000;4,9500\r\n")  # fmt: skip
    return plans


PDF_BYTES = 5_000_000  # INVOICE_PDF_MAX_BYTES: the largest PDF the import takes


def big_pdf(index: int) -> bytes:
    """A PDF-shaped file of exactly PDF_BYTES (what the import checks: header, %%EOF,
    size); `index` makes each file's bytes, and so its store key, its own."""
    head = f"%PDF-1.4\n% bench invoice {index}\n".encode()
    tail = b"\n%%EOF\n"
    filler = random.Random(index).randbytes(PDF_BYTES - len(head) - len(tail))
    return head + filler + tail


async def _attach_pdfs(
    folder: Path, document_dir: Path, accounts: list[Account], files: int, settings: Settings
) -> list[int]:
    """The newest invoice of each given login's customer gets one of `files` distinct
    5 MB PDFs, through the invoice document import (`import-invoice-documents`)."""
    newest = await _rows(
        'SELECT DISTINCT ON (i."customer_id") c."number" AS "customer", i."number"'
        ' FROM "invoice" i JOIN "customer" c ON c."id" = i."customer_id"'
        ' WHERE c."number" = ANY($1::text[])'
        ' ORDER BY i."customer_id", i."date" DESC, i."id" DESC',
        [a.customers[0] for a in accounts],
    )
    invoice_of = {row["customer"]: row["number"] for row in newest}
    pdfs = folder / "pdfs"
    pdfs.mkdir()
    sums = []
    for index in range(files):
        data = big_pdf(index)
        (pdfs / f"r{index}.pdf").write_bytes(data)
        sums.append(hashlib.sha256(data).hexdigest())
    lines = ["rechnungsnummer;datei;sha256"]
    chosen = []
    for n, account in enumerate(accounts):
        number = invoice_of.get(account.customers[0])
        if number is not None:
            lines.append(f"{number};r{n % files}.pdf;{sums[n % files]}")
            chosen.append(account.login_id)
    (pdfs / "index.csv").write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    report = await import_invoice_documents(
        pdfs, store=FolderStore(document_dir), settings=settings
    )
    if not report.ok:
        raise RuntimeError(report.summary())
    # The import announces each PDF to online customers: mail of the set-up, not of a mix.
    await connections.get("default").execute_query(
        'UPDATE "outbox_mail" SET "status" = \'sent\', "sent_at" = now()'
        " WHERE \"status\" = 'queued'"
    )
    shutil.rmtree(pdfs)
    return chosen


async def _import_current(periods: Path, readings: Path, plans: Path) -> int:
    rows = 0
    kinds = (("reading-periods", periods), ("radio-readings", readings), ("budget-plans", plans))
    for kind, path in kinds:
        report = await import_file(
            kind, path, today=clock.utility_today(get_settings().utility_timezone)
        )
        if not report.ok:
            raise RuntimeError(report.summary())
        rows += report.rows
    return rows


async def _rows(sql: str, *values: Any) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = await connections.get("default").execute_query_dict(
        sql, list(values)
    )
    return result


async def _create_logins(
    secret_key: str,
    rounds: int,
    logins: int,
    multi_logins: int,
    multi_size: int,
) -> tuple[list[Account], list[tuple[str, str]]]:
    """Active logins holding customers whose main meter is manual (their period is open
    today): `logins - multi_logins` with one customer number, `multi_logins` with
    `multi_size`. The customers left over with an annual bill can still register."""
    candidates = await _rows(
        'SELECT c."id", c."number", m."number" AS "meter",'
        ' EXISTS (SELECT 1 FROM "invoice" i WHERE i."customer_id" = c."id"'
        '         AND i."kind" = \'annual\') AS "annual",'
        ' (SELECT r."value" FROM "meter_reading" r WHERE r."meter_id" = m."id"'
        '  ORDER BY r."read_on" DESC LIMIT 1) AS "last_value"'
        ' FROM "customer" c JOIN "meter" m ON m."customer_id" = c."id" AND m."is_main"'
        ' WHERE m."kind" = \'manual\' ORDER BY c."id"'
    )
    needed = logins + multi_logins * (multi_size - 1)
    if len(candidates) < needed + 100:
        raise RuntimeError(
            f"{len(candidates)} customers with a manual main meter: too few for {logins} logins"
        )
    password_hash = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds)).decode()
    holdings: list[list[dict[str, Any]]] = []
    taken = 0
    for index in range(logins):
        size = multi_size if index >= logins - multi_logins else 1
        holdings.append(candidates[taken : taken + size])
        taken += size
    emails = [f"bench.{index}@example.org" for index in range(logins)]
    now = dt.datetime.now(dt.UTC)
    created = await _rows(
        'INSERT INTO "login" ("email", "email_key", "password_hash", "state", "preferred_language",'
        ' "created_at", "confirmed_at")'
        " SELECT e, e, $2, 'active', 'de', $3, $3 FROM unnest($1::text[]) AS e"
        ' RETURNING "id", "email"',
        emails,
        password_hash,
        now,
    )
    ids = {row["email"]: row["id"] for row in created}
    link_logins, link_customers, link_times = [], [], []
    for email, held in zip(emails, holdings, strict=True):
        for order, customer in enumerate(held):
            link_logins.append(ids[email])
            link_customers.append(customer["id"])
            link_times.append(now + dt.timedelta(milliseconds=order))
    await _rows(
        'INSERT INTO "login_customer" ("login_id", "customer_id", "added_at")'
        " SELECT * FROM unnest($1::int[], $2::int[], $3::timestamptz[])",
        link_logins,
        link_customers,
        link_times,
    )
    tokens = [new_token() for _ in emails]
    expires = now + dt.timedelta(days=14)
    await _rows(
        'INSERT INTO "session" ("login_id", "token_hash", "created_at", "last_used_at",'
        ' "expires_at", "authenticated_at", "client", "client_address")'
        " SELECT l, t, $3, $3, $4, $3, 'wrk', '127.0.0.1'"
        " FROM unnest($1::int[], $2::text[]) AS u(l, t)",
        [ids[email] for email in emails],
        [hash_secret(token, secret_key, scope="session") for token in tokens],
        now,
        expires,
    )
    accounts = [
        Account(
            login_id=ids[email],
            email=email,
            token=token,
            customers=[c["number"] for c in held],
            meter=held[0]["meter"],
            last_value_milli=int(held[0]["last_value"] * 1000),
        )
        for email, token, held in zip(emails, tokens, holdings, strict=True)
    ]
    registrable = [(c["number"], c["meter"]) for c in candidates[taken:] if c["annual"]]
    return accounts, registrable


async def build_population(
    admin_url: str,
    folder: Path,
    *,
    customers: int,
    logins: int,
    multi_logins: int,
    multi_size: int,
    secret_key: str,
    rounds: int,
    pool: str,
    document_dir: Path,
    pdf_logins: int = 200,
    pdf_files: int = 16,
    seed: int = 1,
    log: Any = print,
) -> Population:
    """A new database filled as the module docstring says; the caller drops it."""
    name = await create_database(admin_url)
    url = database_url_for(admin_url, name)
    population = Population(database_url_for(admin_url, name, pool), name, customers, [], [])
    try:
        started = time.perf_counter()
        paths = await asyncio.to_thread(write_csv_files, folder, customers, seed)
        today = clock.utility_today(get_settings().utility_timezone)
        extra = await asyncio.to_thread(write_current_files, folder, today, seed)
        plans = await asyncio.to_thread(write_budget_plans, folder, today)
        population.seconds["generate"] = time.perf_counter() - started
        started = time.perf_counter()
        await db.migrate(url)
        async with db.database(url):
            results = await import_files(paths)
            population.rows["imported"] = sum(r.rows for r in results)
            population.rows["imported"] += await _import_current(*extra, plans)
            population.seconds["import"] = time.perf_counter() - started
            log(
                f"  imported {population.rows['imported']:,} rows "
                f"in {population.seconds['import']:.0f} s"
            )
            started = time.perf_counter()
            population.accounts, population.registrable = await _create_logins(
                secret_key, rounds, logins, multi_logins, multi_size
            )
            singles = [a for a in population.accounts if len(a.customers) == 1]
            population.document_dir = str(document_dir)
            population.pdf_logins = await _attach_pdfs(
                folder, document_dir, singles[len(singles) - pdf_logins :], pdf_files,
                Settings(_env_file=None, env="test", document_dir=document_dir),
            )  # fmt: skip
            log(
                f"  {len(population.pdf_logins)} invoices with a 5 MB PDF "
                f"({pdf_files} distinct files) in {document_dir}"
            )
            # VACUUM too: else autovacuum visits the freshly imported tables during the
            # first mixes (PostgreSQL CPU per dashboard doubled in the first mix of a run).
            await connections.get("default").execute_script("VACUUM ANALYZE")
            population.seconds["logins"] = time.perf_counter() - started
    except BaseException:
        await drop_database(admin_url, name)
        raise
    return population


def save_population(population: Population, path: Path) -> None:
    """For `--reuse`: a kept database and its accounts, so a profile needs no new import."""
    path.write_text(json.dumps(asdict(population)))


def load_population(path: Path) -> Population:
    data = json.loads(path.read_text())
    data["accounts"] = [Account(**a) for a in data["accounts"]]
    data["registrable"] = [tuple(r) for r in data["registrable"]]
    return Population(**data)
