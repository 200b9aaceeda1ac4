"""Load benchmark: the real service under uvicorn, driven by wrk, against its own ceilings.

    python3 dev.py bench [--quick] [--seconds 10] [--customers 100000] ...
    .venv/bin/python -m benchmarks.load compare OLD.json NEW.json

One run, about five minutes on 2 cores (see README "Performance"):

1. A fresh PostgreSQL database (`kp_bench_<random>`, dropped at the end),
   migrated, filled through the import path with N customers, meters, invoices,
   readings and reading periods open today, and 10,000 active logins with
   sessions (`benchmarks.population`).
2. The service (`benchmarks.server:create_app`, the real app plus ceiling
   endpoints, the physical-limit dashboard and an SQL counter) under uvicorn with
   ENV=test, BCRYPT_ROUNDS=12, mail over SMTP to an aiosmtpd server in a thread
   of this process, Redis database 14 when it answers.
3. From this process: wrk (`benchmarks/mixes.lua`) for the dashboard query, its
   ceiling, its physical limit, the same query as a persisted (hash-only) GET,
   `login`, `submitReading` and its ceiling; an httpx client for `register` +
   `confirmPin` (the PIN read from the mail the SMTP server received); the peak
   (`submitReading` while clients register); the budget billing view and a change
   request, the payment details view and a change, 5 MB invoice PDF downloads
   (with the app's memory sampled). The outbox mails each of them queued are read
   back: per second, p50/p99 from queueing to delivery, PIN mails apart. Then the
   dashboard's p99 with 2 connections, alone and while 20 clients keep logging
   in; then 2 app processes.
4. A table on stdout, every target met or MISSED, and the same figures as JSON
   in `benchmarks/results/`.

A benchmark, not a test: nothing is asserted about time; the targets are
printed as met or missed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import email
import json
import os
import platform
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from email import policy
from pathlib import Path
from typing import Any
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from benchmarks import baseline, documents, gauge  # noqa: E402
from benchmarks.population import (  # noqa: E402
    PASSWORD,
    Account,
    Population,
    build_population,
    drop_database,
    load_population,
    save_population,
)

LUA = Path(__file__).resolve().parent / "mixes.lua"
RESULTS = Path(__file__).resolve().parent / "results"
SECRET_KEY = "bench-" + "k" * 40
ROUNDS = 12
PDF_MB = 5  # population.PDF_BYTES, in MB
TARGETS = {
    "dashboard_vs_ceiling_cpu": 0.8,  # ceiling's app CPU per request / the dashboard's
    "dashboard_cpu_ms": 2.2,  # app CPU per GraphQL dashboard
    # 2 x the dashboard's requests/s of the first round (226, bcrypt at cost 12 then took
    # 294 ms of CPU per login on this VM: compare the login mix's CPU to see its speed)
    "dashboard_rps": 452.0,
    "dashboard_sql": 2,  # statements per dashboard
    "submit_vs_ceiling": 0.40,
    "p99_login_factor": 2.0,
    "mail_p99_s": 5.0,  # outbox created_at -> sent, at the peak mix
    "one_poll_s": 1.5,  # an idle worker picks a mail up within MAIL_POLL_SECONDS (1), + delivery
    "pdf_rss_growth_mb": 32.0,  # 32 clients × 5 MB read whole would be 160 MB
}
PEAK = "peak"  # the mail worker the app starts as its child process (the default)
PEAK_APART = "peak, worker apart"  # the mail worker as `kundenportal worker` beside the app
APQ = "dashboard, persisted (APQ GET)"
# The plain POST once more right after the persisted GET: the GET is compared with the
# mean of the POSTs before and after it, so that a drift of the machine's load during
# the run does not decide which of the two looks cheaper.
DASHBOARD_AGAIN = "dashboard, again after the persisted GET"


def log(text: str) -> None:
    print(text, flush=True)


@dataclass
class MixResult:
    """One mix: what wrk (or the httpx client) measured, latencies in milliseconds."""

    name: str
    requests: int
    seconds: float
    errors: int
    p50: float
    p95: float
    p99: float
    connections: int
    statements_per_request: float | None = None
    app_cpu_ms: float | None = None  # CPU of the app processes per request
    db_cpu_ms: float | None = None  # CPU of PostgreSQL's backends per request
    sample_error: str = ""
    mail: dict[str, Any] | None = None  # MailFigures of the mails it queued
    extra: dict[str, Any] = field(default_factory=dict)  # memory, MB/s, …

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


@dataclass
class Report:
    started: str
    machine: dict[str, Any]
    config: dict[str, Any]
    population: dict[str, Any] = field(default_factory=dict)
    checks: dict[str, Any] = field(default_factory=dict)
    mixes: dict[str, dict[str, Any]] = field(default_factory=dict)
    sql: dict[str, int] = field(default_factory=dict)
    memory_mb: dict[str, float] = field(default_factory=dict)
    ratios: dict[str, float] = field(default_factory=dict)
    targets: dict[str, bool] = field(default_factory=dict)
    # The first round's dashboard, run again by its own benchmark in this run
    # (`benchmarks.baseline`), or {"missing": why}.
    baseline: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0


# --------------------------------------------------------------------- server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                stat = (entry / "stat").read_text()
                if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry.name))
    return found


def _status_kb(pid: int, key: str) -> int:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids: list[int]) -> dict[int, float]:
    """User + system CPU time of each process (from /proc/PID/stat)."""
    found = {}
    for pid in pids:
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            found[pid] = (int(fields[11]) + int(fields[12])) / TICK
    return found


def postgres_backends(database: str) -> list[int]:
    """PostgreSQL's processes serving `database` (their title names it)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                title = (entry / "cmdline").read_bytes().replace(b"\0", b" ")
                if title.startswith(b"postgres: ") and f" {database} ".encode() in title:
                    pids.append(int(entry.name))
    return pids


class RssSampler:
    """Resident memory (VmRSS) of the app processes, sampled in a thread every 0.1 s."""

    def __init__(self, server: Server) -> None:
        import threading

        self.server = server
        self.before = self.now()
        self.peak = self.before
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def now(self) -> float:
        return sum(_status_kb(pid, "VmRSS") for pid in self.server.app_pids()) / 1024

    def _run(self) -> None:
        while not self._stop.wait(0.1):
            self.peak = max(self.peak, self.now())
            self.samples += 1

    def stop(self) -> dict[str, float]:
        self._stop.set()
        self._thread.join()
        after = self.now()
        return {
            "rss_before_mb": round(self.before, 1),
            "rss_peak_mb": round(self.peak, 1),
            "rss_after_mb": round(after, 1),
            "rss_growth_mb": round(self.peak - self.before, 1),
            "rss_samples": self.samples,
        }


class CpuMeter:
    """CPU seconds the app processes and the database's backends spend between two points."""

    def __init__(self, server: Server, database: str) -> None:
        self.server, self.database = server, database
        self.app = cpu_seconds(server.cpu_pids())
        self.db = cpu_seconds(postgres_backends(database))

    def spent(self) -> tuple[float, float]:
        app = cpu_seconds(self.server.cpu_pids())
        db = cpu_seconds(postgres_backends(self.database))
        return (
            sum(v - self.app.get(pid, 0.0) for pid, v in app.items()),
            sum(v - self.db.get(pid, 0.0) for pid, v in db.items()),
        )


class Server:
    """uvicorn with the bench factory in a process group of its own; with `mail_worker`,
    the outbox worker runs beside it as `kundenportal worker` (the app's own is off)."""

    def __init__(self, env: dict[str, str], workers: int, mail_worker: bool = False) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.workers = workers
        self.mail_worker: subprocess.Popen[bytes] | None = None
        if mail_worker:
            env = {**env, "MAIL_WORKER_IN_APP": "false"}
            self.mail_worker = subprocess.Popen(
                [sys.executable, "cli.py", "worker"], cwd=ROOT, env=env, start_new_session=True
            )
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "benchmarks.server:create_app",
                "--factory",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--workers",
                str(workers),
                "--no-access-log",
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=env,
            start_new_session=True,
        )

    def app_pids(self) -> list[int]:
        """The processes that serve requests: the workers, or uvicorn itself with one."""
        if self.workers == 1:
            return [self.process.pid]
        return _children(self.process.pid)

    def started_workers(self) -> list[int]:
        """The mail workers the app processes started as their children (PostgreSQL's
        default, `MAIL_WORKER_SUBPROCESS`)."""
        return [child for pid in self.app_pids() for child in _children(pid)]

    def cpu_pids(self) -> list[int]:
        """Whose CPU is the app's: the serving processes and the mail workers they started
        (the in-loop worker's sending was the app's CPU too, so figures stay comparable)."""
        return self.app_pids() + self.started_workers()

    def peak_rss_mb(self) -> float:
        """Peak resident memory (VmHWM) summed over the app's processes and their workers."""
        return sum(_status_kb(pid, "VmHWM") for pid in self.cpu_pids()) / 1024

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited with {self.process.returncode}")
            if self.mail_worker is not None and self.mail_worker.poll() is not None:
                raise RuntimeError(f"the mail worker exited with {self.mail_worker.returncode}")
            with contextlib.suppress(httpx.HTTPError):
                ready = httpx.get(self.base + "/readyz", timeout=2).status_code == 200
                if ready and (self.workers == 1 or len(self.app_pids()) >= self.workers):
                    return
            time.sleep(0.2)
        raise RuntimeError("the server did not get ready")

    def worker_pids(self) -> list[int]:
        """The mail workers: the one beside the app, or those the app started."""
        if self.mail_worker is not None:
            return [self.mail_worker.pid]
        return self.started_workers()

    def stop(self) -> None:
        for process in (self.process, self.mail_worker):
            if process is None or process.poll() is not None:
                continue
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


# ------------------------------------------------------------------------ wrk


def wrk(
    server: Server,
    mix: str,
    *,
    seconds: float,
    connections: int,
    threads: int,
    data: Path,
    work: Path,
    query: str | None = None,
    path: str = "/graphql",
    run_id: str = "run",
) -> subprocess.Popen[str]:
    """Start wrk on one mix; `finish_wrk` waits for it and reads its result line."""
    env = dict(os.environ)
    env.update(
        BENCH_MIX=mix,
        BENCH_DATA=str(data),
        BENCH_THREADS=str(threads),
        BENCH_PATH=path,
        BENCH_RUN=run_id,
        BENCH_PASSWORD=PASSWORD,
        BENCH_SAMPLE=str(work / f"sample-{mix}-{run_id}.txt"),
    )
    if query is not None:
        query_file = work / f"query-{mix}.json"
        query_file.write_text(json.dumps(query))
        env["BENCH_QUERY"] = str(query_file)
    return subprocess.Popen(
        [
            "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{max(1, round(seconds))}s",
            "--timeout",
            "30s",
            "-s",
            str(LUA),
            server.base,
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def finish_wrk(
    process: subprocess.Popen[str], name: str, connections: int, sample: Path | None = None
) -> MixResult:
    out, _ = process.communicate()
    match = re.search(r"BENCH_RESULT (\{.*\})", out)
    if not match:  # counted as a failed mix with wrk's own words, the run goes on
        return MixResult(name, 0, 0.0, 1, 0.0, 0.0, 0.0, connections, sample_error=out[-400:])
    r = json.loads(match.group(1))
    text = ""
    if sample is not None and sample.exists():
        text = sample.read_text()[:400]
    return MixResult(
        name=name,
        requests=r["requests"],
        seconds=r["duration_us"] / 1e6,
        errors=r["errors"] + r["socket_errors"],
        p50=r["p50"] / 1000,
        p95=r["p95"] / 1000,
        p99=r["p99"] / 1000,
        connections=connections,
        sample_error=text,
    )


# ------------------------------------------------------ register + confirmPin


class Relay:
    """The mail server of the benchmark: aiosmtpd on loopback in a thread of this process.

    The app's outbox worker delivers to it over SMTP (MAIL_BACKEND=smtp), so its
    connection reuse and lanes are what is measured. Each DATA is answered after
    `delay` seconds (a relay on the same network takes a few milliseconds). It
    notes the SMTP connections opened and the PIN of every registration mail
    (recipients `new.*`), for the register mix.
    """

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.peers: set[Any] = set()
        self.received = 0
        self.pins: dict[str, tuple[str, float]] = {}  # address -> (PIN, time it arrived)
        self.port = free_port()
        self.controller: Any = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.delay:
            await asyncio.sleep(self.delay)
        self.peers.add(session.peer)
        self.received += 1
        recipients = [str(r).lower() for r in envelope.rcpt_tos]
        if any(r.startswith("new.") for r in recipients):
            message = email.message_from_bytes(envelope.content, policy=policy.default)
            body = message.get_body(preferencelist=("plain",))
            text = body.get_content() if body is not None else ""
            found = re.search(r"\b(\d{6})\b", text)
            if found:
                for address in recipients:
                    self.pins[address] = (found.group(1), time.time())
        return "250 OK"

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()

    async def pin_for(self, address: str, wait: float = 30) -> tuple[str, float] | None:
        """The PIN mailed to `address` and when it arrived; None if none came in `wait` s."""
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if address in self.pins:
                return self.pins.pop(address)
            await asyncio.sleep(0.05)
        return None


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


async def register_mix(
    base: str, registrable: list[tuple[str, str]], relay: Relay, seconds: float, flows: int
) -> tuple[MixResult, MixResult, MixResult, MixResult]:
    """`flows` clients each registering (a fresh customer, the main meter as proof),
    reading the PIN from the mail and confirming, until `seconds` are over."""
    run = uuid.uuid4().hex[:6]
    queue = list(registrable)
    random.shuffle(queue)  # a reused population has the first ones registered already
    register_ms: list[float] = []
    confirm_ms: list[float] = []
    flow_ms: list[float] = []
    errors = {"register": 0, "confirm": 0, "mail": 0}
    mail_ms: list[float] = []
    samples: list[str] = []
    deadline = time.monotonic() + seconds

    async def post(client: httpx.AsyncClient, query: str, variables: dict[str, Any]) -> Any:
        """Status and body; a refused or broken answer is an error of the mix, not a crash."""
        try:
            response = await client.post("/graphql", json={"query": query, "variables": variables})
            return response.status_code, response.json()
        except (httpx.HTTPError, ValueError) as error:
            return 0, {"errors": [{"message": f"{type(error).__name__}: {error}"}]}

    async def flow(client: httpx.AsyncClient) -> None:
        while time.monotonic() < deadline and queue:
            number, meter = queue.pop()
            address = f"new.{run}.{number}@example.org"
            started = time.perf_counter()
            status, body = await post(
                client,
                documents.REGISTER,
                {
                    "input": {
                        "customerNumber": number,
                        "meterNumber": meter,
                        "email": address,
                        "password": PASSWORD,
                    }
                },
            )
            register_ms.append((time.perf_counter() - started) * 1000)
            answered = time.time()
            payload = (body.get("data") or {}).get("register") or {}
            if status != 200 or body.get("errors") or payload.get("errors"):
                errors["register"] += 1
                samples.append(json.dumps(body)[:400])
                continue
            mailed = await relay.pin_for(address)
            if mailed is None:  # counted with its reason; the run goes on
                errors["mail"] += 1
                samples.append(f"no PIN mail for {address} within 30 s of register answering")
                continue
            pin, arrived = mailed
            mail_ms.append(max(0.0, arrived - answered) * 1000)
            confirm_started = time.perf_counter()
            status, body = await post(
                client, documents.CONFIRM_PIN, {"input": {"email": address, "pin": pin}}
            )
            confirm_ms.append((time.perf_counter() - confirm_started) * 1000)
            payload = (body.get("data") or {}).get("confirmPin") or {}
            if status != 200 or not payload.get("confirmed"):
                errors["confirm"] += 1
                samples.append(json.dumps(body)[:400])
                continue
            flow_ms.append((time.perf_counter() - started) * 1000)

    started = time.perf_counter()
    limits = httpx.Limits(max_connections=flows)
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as client:
        await asyncio.gather(*(flow(client) for _ in range(flows)))
    elapsed = time.perf_counter() - started

    def result(name: str, values: list[float], failed: int) -> MixResult:
        return MixResult(
            name=name,
            requests=len(values),
            seconds=elapsed,
            errors=failed,
            p50=_percentile(values, 50),
            p95=_percentile(values, 95),
            p99=_percentile(values, 99),
            connections=flows,
            sample_error=samples[0] if samples else "",
        )

    return (
        result("register", register_ms, errors["register"]),
        result("confirmPin", confirm_ms, errors["confirm"]),
        result("register+PIN mail+confirmPin", flow_ms, sum(errors.values())),
        result("PIN mail arrived after register", mail_ms, errors["mail"]),
    )


# ------------------------------------------------------------------- helpers


def write_accounts(path: Path, accounts: list[Account]) -> Path:
    lines = [f"{a.token}\t{a.meter}\t{a.last_value_milli}\t{a.email}\n" for a in accounts]
    path.write_text("".join(lines))
    return path


def gql(
    base: str, query: str, variables: dict[str, Any] | None = None, token: str | None = None
) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    body: dict[str, Any] = {"query": query}
    if variables:
        body["variables"] = variables
    return httpx.post(base + "/graphql", json=body, headers=headers, timeout=30)


def statements(response: httpx.Response) -> int:
    return int(response.headers.get("x-sql-statements", "-1"))


async def queued_mails(database_url: str) -> int:
    import asyncpg

    url = database_url.split("?")[0].replace("postgres://", "postgresql://", 1)
    connection = await asyncpg.connect(url)
    try:
        count: int = await connection.fetchval(
            "SELECT count(*) FROM outbox_mail WHERE status = 'queued'"
        )
        return count
    finally:
        await connection.close()


@dataclass
class MailFigures:
    """The outbox mails queued while a mix ran: how many, how fast and how late they went out."""

    queued: int = 0
    delivered: int = 0
    per_second: float = 0.0  # delivered / (last sent - first queued)
    p50_s: float = 0.0  # created_at -> sent_at
    p99_s: float = 0.0
    pin_count: int = 0
    pin_p50_s: float = 0.0
    pin_p99_s: float = 0.0
    smtp_connections: int = 0
    errors: int = 0  # late (still queued after the drain) or failed, each with its reason
    reasons: dict[str, int] = field(default_factory=dict)


async def _mails_since(database_url: str, since: dt.datetime) -> list[Any]:
    import asyncpg

    url = database_url.split("?")[0].replace("postgres://", "postgresql://", 1)
    connection = await asyncpg.connect(url)
    try:
        return list(
            await connection.fetch(
                'SELECT "kind", "status", "created_at", "sent_at", "last_error"'
                ' FROM "outbox_mail" WHERE "created_at" >= $1',
                since,
            )
        )
    finally:
        await connection.close()


def mail_figures(database_url: str, since: dt.datetime, connections: int) -> MailFigures:
    """After the drain: delivery times of the mails queued since `since` (outbox
    `created_at` to `sent_at`), PIN mails apart. A mail not sent is an error with its
    reason (still queued: late; failed: the server's answer), never an exception."""
    figures = MailFigures(smtp_connections=connections)
    try:
        rows = asyncio.run(_mails_since(database_url, since))
    except Exception as error:  # the figures are lost, the run goes on
        figures.errors = 1
        figures.reasons[f"outbox not readable: {type(error).__name__}: {error}"[:200]] = 1
        return figures
    waits, pins = [], []
    first, last = None, None
    for row in rows:
        figures.queued += 1
        if row["status"] != "sent" or row["sent_at"] is None:
            reason = (
                "still queued after the drain (late)"
                if row["status"] == "queued"
                else f"{row['status']}: {row['last_error'][:120]}"
            )
            figures.errors += 1
            figures.reasons[reason] = figures.reasons.get(reason, 0) + 1
            continue
        figures.delivered += 1
        wait = (row["sent_at"] - row["created_at"]).total_seconds()
        waits.append(wait)
        if row["kind"] == "registration_pin":
            pins.append(wait)
        first = row["created_at"] if first is None else min(first, row["created_at"])
        last = row["sent_at"] if last is None else max(last, row["sent_at"])
    if first is not None and last is not None and last > first:
        figures.per_second = round(figures.delivered / (last - first).total_seconds(), 1)
    figures.p50_s = round(_percentile(waits, 50), 3)
    figures.p99_s = round(_percentile(waits, 99), 3)
    figures.pin_count = len(pins)
    figures.pin_p50_s = round(_percentile(pins, 50), 3)
    figures.pin_p99_s = round(_percentile(pins, 99), 3)
    return figures


def drain_mail(database_url: str, timeout: float = 60) -> float:
    """Wait until the outbox is empty, so the next mix does not pay for this one's mail.
    Mail still queued after `timeout` is left for `mail_figures` to count as late."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        with contextlib.suppress(OSError, asyncio.TimeoutError):
            if asyncio.run(queued_mails(database_url)) == 0:
                break
        time.sleep(0.25)
    return time.monotonic() - started


def settle(server: Server, timeout: float = 30) -> None:
    """Wait until the app processes are idle: requests a mix left in flight (a bcrypt
    queue) would otherwise be paid for by the next mix."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        before = sum(cpu_seconds(server.cpu_pids()).values())
        time.sleep(0.3)
        if sum(cpu_seconds(server.cpu_pids()).values()) - before < 0.03:
            return


def sql_totals(base: str, reset: bool = False) -> dict[str, dict[str, int]]:
    body: dict[str, dict[str, int]] = httpx.get(
        base + "/bench/sql" + ("?reset=1" if reset else ""), timeout=10
    ).json()
    return body


def per_request(totals: dict[str, dict[str, int]], path: str) -> float | None:
    """Statements per request of `path`, or of every path under it ending in a token
    (`/documents/invoices/<token>`)."""
    entries = [v for k, v in totals.items() if k == path or k.startswith(path + "/")]
    if path == "/bench/dashboard":
        entries = [totals[path]] if path in totals else []
    requests = sum(e.get("requests", 0) for e in entries)
    if not requests:
        return None
    return sum(e.get("statements", 0) for e in entries) / requests


def git_commit() -> str:
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        return head + ("+dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def redis_reachable(url: str) -> bool:
    import redis

    try:
        client = redis.Redis.from_url(url, socket_timeout=1)
        ok = bool(client.ping())
        client.close()
        return ok
    except redis.RedisError:
        return False


def flush_redis(url: str, prefix: str) -> int:
    import redis

    client = redis.Redis.from_url(url, socket_timeout=5)
    try:
        keys = list(client.scan_iter(match=prefix + "*", count=1000))
        for start in range(0, len(keys), 500):
            client.delete(*keys[start : start + 500])
        return len(keys)
    finally:
        client.close()


@contextlib.contextmanager
def step(name: str) -> Iterator[None]:
    started = time.perf_counter()
    log(f"- {name} …")
    yield
    log(f"  ({time.perf_counter() - started:.0f} s)")


# ---------------------------------------------------------------------- run


def server_env(args: argparse.Namespace, population: Population, relay: Relay) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key in ("PATH", "HOME", "LANG", "LC_ALL", "TZ", "PYTHONPATH")
    }
    env.update(
        ENV="test",
        DATABASE_URL=population.database_url,
        SECRET_KEY=SECRET_KEY,
        BCRYPT_ROUNDS=str(ROUNDS),
        MAIL_BACKEND="smtp",
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=str(relay.port),
        DOCUMENT_DIR=population.document_dir or str(ROOT / "var" / "bench-documents"),
        LOG_LEVEL="WARNING",
        GRAPHIQL="false",
        # Every client of the benchmark comes from 127.0.0.1: per-address limits that
        # protect a real deployment would refuse the register mix after 20 attempts.
        REGISTER_ATTEMPTS_PER_ADDRESS="1000000",
        MAILS_PER_CLIENT_PER_DAY="1000000",
        PIN_ATTEMPTS_PER_ADDRESS="1000000",
        # The hourly purge would run once at start-up, in the middle of the first mix.
        PURGE_INTERVAL_SECONDS="0",
    )
    if args.redis_prefix:
        env.update(
            REDIS_URL=args.redis_url,
            RATE_LIMIT_PREFIX=args.redis_prefix + "rl",
            APQ_REDIS_PREFIX=args.redis_prefix + "apq:",
        )
    return env


def check_answers(
    report: Report, base: str, single: Account, multi: Account, run_id: str, dashboard: str
) -> None:
    """The GraphQL answers and the ceilings' answers are the same JSON; record SQL counts."""
    for account, label in ((single, "1"), (multi, str(len(multi.customers)))):
        graphql = gql(base, dashboard, token=account.token)
        if graphql.json().get("errors"):
            raise RuntimeError(f"dashboard failed: {graphql.text[:600]}")
        report.sql[f"dashboard, {label} customer number(s)"] = statements(graphql)
        for path, what in (
            ("/bench/dashboard", "ceiling"),
            ("/bench/dashboard/physical", "physical"),
        ):
            answer = httpx.get(
                base + path, headers={"Authorization": f"Bearer {account.token}"}, timeout=30
            )
            if graphql.json() != answer.json():
                raise RuntimeError(
                    f"{what} and GraphQL dashboard differ:\n"
                    f"{graphql.text[:600]}\n{answer.text[:600]}"
                )
            report.sql[f"dashboard {what}, {label} customer number(s)"] = statements(answer)
    report.checks["ceiling and physical dashboard JSON identical"] = True

    submitted = []
    for target in ("/graphql", "/bench/submit"):
        value = (single.last_value_milli + 500) / 1000
        body = {
            "query": documents.SUBMIT_READING,
            "variables": {
                "input": {
                    "meterNumber": single.meter,
                    "value": f"{value:.3f}",
                    "idempotencyKey": f"check-{run_id}-{target}",
                }
            },
        }
        response = httpx.post(
            base + target,
            json=body,
            headers={"Authorization": f"Bearer {single.token}"},
            timeout=30,
        )
        payload = response.json()["data"]["submitReading"]
        if payload["errors"] or not payload["reading"]:
            raise RuntimeError(f"submitReading through {target} failed: {response.text[:600]}")
        submitted.append((payload, statements(response)))
    (graphql_payload, graphql_sql), (ceiling_payload, ceiling_sql) = submitted
    same_shape = set(graphql_payload) == set(ceiling_payload)
    report.checks["ceiling submitReading JSON same shape"] = same_shape
    report.sql["submitReading"] = graphql_sql
    report.sql["submitReading ceiling"] = ceiling_sql
    login = gql(base, documents.LOGIN, {"input": {"email": single.email, "password": PASSWORD}})
    logged_in = bool(((login.json().get("data") or {}).get("login") or {}).get("token"))
    report.checks["login of a generated account"] = logged_in or login.text[:300]
    report.sql["login"] = statements(login)


def run(args: argparse.Namespace) -> Report:
    started = time.perf_counter()
    report = Report(
        started=dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        machine={
            "cores": os.cpu_count(),
            "load_average_at_start": os.getloadavg(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "commit": git_commit(),
        },
        config={
            k: v for k, v in vars(args).items() if k not in ("command", "func", "redis_prefix")
        },
    )
    log(
        f"Load benchmark {report.started}, commit {report.machine['commit']}, "
        f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}"
    )
    speed, line = gauge.describe()
    report.machine.update(speed)
    log(line)
    if args.no_baseline or args.reuse:
        report.baseline = {"missing": "left out (--no-baseline or --reuse)"}
    else:
        with step(f"the first round's code ({baseline.FIRST_ROUND[:7]}) by its own benchmark"):
            try:
                first: baseline.Baseline | str = baseline.measure(args, RESULTS, log)
            except Exception as error:  # a benchmark of the past must not end this one
                first = f"it failed: {type(error).__name__}: {error}"
            report.baseline = {"missing": first} if isinstance(first, str) else asdict(first)
            log(
                f"  not measured: {first}"
                if isinstance(first, str)
                else f"  dashboard {first.rps:.1f} req/s, {first.app_cpu_ms:.2f} ms app CPU; "
                f"persisted {first.persisted_rps:.1f} req/s, {first.persisted_app_cpu_ms:.2f} ms"
            )
    args.redis_prefix = ""
    if not args.no_redis and redis_reachable(args.redis_url):
        args.redis_prefix = f"kpbench:{uuid.uuid4().hex[:8]}:"
    report.config["redis"] = bool(args.redis_prefix)
    work = Path(tempfile.mkdtemp(prefix="kp-load-"))
    population: Population | None = None
    try:
        if args.reuse:
            population = load_population(args.reuse)
            log(f"- reusing {population.database_name} ({population.customers:,} customers)")
        else:
            population = make_population(args, work)
        report.population = {
            "customers": population.customers,
            "logins": len(population.accounts),
            "logins_with_many": sum(len(a.customers) > 1 for a in population.accounts),
            "rows_imported": population.rows.get("imported", 0),
            "seconds": {k: round(v, 1) for k, v in population.seconds.items()},
        }
        run_mixes(args, report, population, work)
    finally:
        if population is not None and (args.keep_database or args.reuse):
            if not args.reuse:
                RESULTS.mkdir(exist_ok=True)
                kept = RESULTS / f"population-{population.database_name}.json"
                save_population(population, kept)
                log(f"kept database {population.database_name}: --reuse {kept}")
        elif population is not None:
            asyncio.run(drop_database(args.admin_url, population.database_name))
        if args.redis_prefix:
            removed = flush_redis(args.redis_url, args.redis_prefix)
            log(f"- removed {removed} Redis keys of this run")
        shutil.rmtree(work, ignore_errors=True)
    report.seconds = round(time.perf_counter() - started, 1)
    return report


def make_population(args: argparse.Namespace, work: Path) -> Population:
    with step(
        f"population: {args.customers:,} customers through the import, "
        f"{args.logins:,} logins ({args.multi_logins} with {args.multi_size} customer numbers)"
    ):
        (work / "csv").mkdir()
        population = asyncio.run(
            build_population(
                args.admin_url,
                work / "csv",
                customers=args.customers,
                logins=args.logins,
                multi_logins=args.multi_logins,
                multi_size=args.multi_size,
                secret_key=SECRET_KEY,
                rounds=ROUNDS,
                pool=f"minsize=1&maxsize={args.pool}",
                # kept with the database for --reuse, else removed with the work folder
                document_dir=(RESULTS / f"documents-{uuid.uuid4().hex[:8]}")
                if args.keep_database
                else work / "documents",
                pdf_logins=args.pdf_logins,
                log=log,
            )
        )
        shutil.rmtree(work / "csv")
    return population


def pdf_links(base: str, accounts: list[Account], work: Path) -> tuple[Path | None, int, str]:
    """Download links of the PDF accounts' newest invoices, as a wrk data file: each row
    holds the token, the link's path and the size. (file or None, links, first problem)"""
    document = documents.INVOICE_PDF_LINK
    lines, problem = [], ""
    for account in accounts:
        try:
            answer = gql(base, document, token=account.token).json()
            invoices = ((answer.get("data") or {}).get("customer") or {}).get("invoices") or {}
            nodes = [e["node"] for e in invoices.get("edges", [])] or invoices.get("items", [])
            link = nodes[0]["document"] if nodes else None
        except (httpx.HTTPError, ValueError, KeyError, TypeError) as error:
            link, answer = None, {"error": f"{type(error).__name__}: {error}"}
        if not link:
            problem = problem or f"no PDF link for {account.email}: {json.dumps(answer)[:300]}"
            continue
        path = "/" + link["url"].split("://", 1)[-1].split("/", 1)[-1]
        lines.append(f"{account.token}\t{path}\t{link['size']}\t{account.email}\n")
    if not lines:
        return None, 0, problem
    target = work / "pdf-links.tsv"
    target.write_text("".join(lines))
    return target, len(lines), problem


def failed_mix(name: str, connections: int, reason: str) -> MixResult:
    """A mix that could not run: in the table with its reason, not a crash."""
    return MixResult(name, 0, 0.0, 1, 0.0, 0.0, 0.0, connections, sample_error=reason[:400])


def cancel_pending_budget_requests(database_url: str) -> None:
    """So that a repeated mix or a `--reuse` run finds no request pending."""

    async def cancel() -> None:
        import asyncpg

        url = database_url.split("?")[0].replace("postgres://", "postgresql://", 1)
        connection = await asyncpg.connect(url)
        try:
            await connection.execute(
                'UPDATE "budget_change_request" SET "status" = \'cancelled\', "closed_at" = now()'
                " WHERE \"status\" = 'pending'"
            )
        finally:
            await connection.close()

    with contextlib.suppress(Exception):
        asyncio.run(cancel())


def run_mixes(args: argparse.Namespace, report: Report, population: Population, work: Path) -> None:
    accounts = population.accounts
    singles = [a for a in accounts if len(a.customers) == 1]
    multis = [a for a in accounts if len(a.customers) > 1]
    pdf_logins = set(population.pdf_logins)
    everyone = write_accounts(work / "accounts.tsv", accounts)
    logins_file = write_accounts(work / "logins.tsv", singles[: max(50, len(singles) // 10)])
    probe_file = write_accounts(work / "probe.tsv", singles[len(singles) // 2 :])
    # Each budget change request needs a customer without a pending one: one each.
    budget_file = write_accounts(work / "budget.tsv", singles[::-1])
    # Each submitReading mix starts on meters without a reading in the open period, so
    # that none of them corrects more earlier readings than another.
    fifth = len(singles) // 5
    submit_files = [
        write_accounts(work / f"submit-{i}.tsv", singles[i * fifth : (i + 1) * fifth])
        for i in range(5)
    ]
    registrable = list(population.registrable)
    relay = Relay(args.smtp_delay_ms / 1000)
    relay.start()
    env = server_env(args, population, relay)
    seconds, conns, threads = args.seconds, args.connections, args.threads
    run_id = uuid.uuid4().hex[:8]
    results: dict[str, MixResult] = {}

    def measure(
        name: str,
        mix: str,
        server: Server,
        connections: int = conns,
        alone: bool = True,
        length: float | None = None,
        sql_path: str = "/graphql",
        mail: bool = False,
        memory: bool = False,
        beside: Any = None,
        **kw: Any,
    ) -> MixResult:
        """One wrk mix; CPU per request only when nothing else ran (`alone`); the mails it
        queued (`mail`), the app's memory while it ran (`memory`); `beside` runs in this
        process meanwhile (the register flows of the peak mix) and its result is returned
        in `extra["beside"]`."""
        sql_totals(server.base, reset=True)
        cpu = CpuMeter(server, population.database_name)
        since = dt.datetime.now(dt.UTC)
        connections_before = len(relay.peers)
        rss = RssSampler(server) if memory else None
        process = wrk(
            server,
            mix,
            seconds=length or seconds,
            connections=connections,
            threads=min(threads, connections),
            work=work,
            run_id=run_id,
            **kw,
        )
        side = beside() if beside is not None else None
        result = finish_wrk(process, name, connections, work / f"sample-{mix}-{run_id}.txt")
        if rss is not None:
            result.extra.update(rss.stop())
        # Requests still in flight when wrk stops (a bcrypt queue) may queue mail after
        # the first drain: drain, wait until the app is idle, drain what they queued.
        drained = drain_mail(population.database_url)
        settle(server)
        drained += drain_mail(population.database_url)
        app_cpu, db_cpu = cpu.spent()
        if result.requests and alone:
            result.app_cpu_ms = round(app_cpu * 1000 / result.requests, 2)
            result.db_cpu_ms = round(db_cpu * 1000 / result.requests, 2)
        result.statements_per_request = per_request(sql_totals(server.base), sql_path)
        if mail:
            figures = mail_figures(
                population.database_url, since, len(relay.peers) - connections_before
            )
            result.mail = asdict(figures)
        if side is not None:
            result.extra["beside"] = side
        results[name] = result
        log(
            f"  {name:<34} {result.rps:8.1f} req/s  p99 {result.p99:7.1f} ms  "
            f"errors {result.errors}"
            + (f"  (mail drained in {drained:.0f} s)" if drained > 1 else "")
        )
        if result.mail:
            m = result.mail
            log(
                f"  {'':<34} mail: {m['delivered']}/{m['queued']} delivered, "
                f"{m['per_second']:.0f}/s, p99 {m['p99_s']:.2f} s, PIN p99 "
                f"{m['pin_p99_s']:.2f} s ({m['pin_count']}), {m['smtp_connections']} new SMTP "
                f"connections, errors {m['errors']} {m['reasons'] or ''}"
            )
        return result

    def register_flows(name: str, server: Server, customers: list[tuple[str, str]]) -> None:
        since = dt.datetime.now(dt.UTC)
        connections_before = len(relay.peers)
        flows = asyncio.run(
            register_mix(server.base, customers, relay, seconds, args.register_flows)
        )
        drain_mail(population.database_url)
        settle(server)
        drain_mail(population.database_url)
        figures = mail_figures(
            population.database_url, since, len(relay.peers) - connections_before
        )
        flows[2].mail = asdict(figures)
        for flow in flows:
            results[f"{name}: {flow.name}" if name else flow.name] = flow
        log(
            f"  {name or 'register + confirmPin':<34} {flows[2].rps:8.1f} flows/s "
            f"errors {flows[2].errors}; PIN at the SMTP server {flows[3].p50:.0f} ms (p50), "
            f"{flows[3].p99:.0f} ms (p99) after register answered; outbox p99 "
            f"{figures.p99_s:.2f} s, errors {figures.errors} {figures.reasons or ''}"
        )

    def warm_up(server: Server) -> None:
        """A few seconds of dashboards on a fresh server, not measured."""
        warm = wrk(
            server, "dashboard", seconds=min(3, seconds), connections=conns, threads=threads,
            data=everyone, work=work, query=documents.DASHBOARD, run_id=run_id,
        )  # fmt: skip
        finish_wrk(warm, "warm-up", conns)

    def peak(name: str, server: Server, submit: Path, customers: list[tuple[str, str]]) -> None:
        """`submitReading` flat out while 8 clients register and wait for their PINs."""

        def register_beside() -> dict[str, Any]:
            flows = asyncio.run(
                register_mix(server.base, customers, relay, seconds, args.register_flows)
            )
            for flow in flows:
                results[f"{name}: {flow.name}"] = flow
            return {"register_flows": flows[2].requests, "register_errors": flows[2].errors}

        worker = cpu_seconds(server.worker_pids())
        result = measure(
            f"{name}: submitReading + register",
            "submit",
            server,
            alone=False,
            data=submit,
            query=documents.SUBMIT_READING,
            mail=True,
            beside=register_beside,
        )
        if worker and result.mail and result.mail["delivered"]:
            spent = sum(cpu_seconds(server.worker_pids()).values()) - sum(worker.values())
            result.extra["worker_cpu_ms_per_mail"] = round(
                spent * 1000 / result.mail["delivered"], 2
            )

    server = Server(env, workers=1)
    try:
        with step("service: 1 process"):
            server.wait_ready()
            dashboard = documents.DASHBOARD
            check_answers(
                report, server.base, singles[0], multis[0] if multis else singles[1], run_id,
                dashboard,
            )  # fmt: skip
            apq_hash = documents.sha256(dashboard)
            extensions = {"persistedQuery": {"version": 1, "sha256Hash": apq_hash}}
            registered = httpx.post(
                server.base + "/graphql",
                json={"query": dashboard, "extensions": extensions},
                headers={"Authorization": f"Bearer {singles[0].token}"},
                timeout=30,
            )
            if registered.json().get("errors"):
                raise RuntimeError(f"APQ registration failed: {registered.text[:400]}")
            apq_path = "/graphql?extensions=" + quote(json.dumps(extensions, separators=(",", ":")))
            mandate = (
                gql(server.base, "{ sepaMandate { version } }", token=singles[0].token).json()
                .get("data", {}).get("sepaMandate", {}).get("version", "")
            )  # fmt: skip
            log("  answers checked: ceilings give the same JSON; SQL counted")
        with step(f"mixes, {seconds:.0f} s each, {conns} connections"):
            warm_up(server)
            measure("dashboard", "dashboard", server, data=everyone, query=dashboard)
            measure(
                "dashboard ceiling", "dashboard_ceiling", server, data=everyone,
                sql_path="/bench/dashboard",
            )  # fmt: skip
            measure(
                "dashboard physical (asyncpg)", "dashboard_physical", server, data=everyone,
                sql_path="/bench/dashboard/physical",
            )  # fmt: skip
            measure(APQ, "apq", server, data=everyone, path=apq_path)
            measure(DASHBOARD_AGAIN, "dashboard", server, data=everyone, query=dashboard)
            measure(
                "login (bcrypt cost 12)",
                "login",
                server,
                connections=args.login_clients,
                data=logins_file,
                query=documents.LOGIN,
            )
            register_flows("", server, registrable[::3])
            measure(
                "submitReading",
                "submit",
                server,
                data=submit_files[0],
                query=documents.SUBMIT_READING,
                mail=True,
            )
            measure(
                "submitReading ceiling",
                "submit_ceiling",
                server,
                data=submit_files[1],
                query=documents.SUBMIT_READING,
                sql_path="/bench/submit",
            )

            peak(PEAK, server, submit_files[3], registrable[1::3])
        with step("money: budget billing, bank details, invoice PDFs"):
            measure(
                "budget view", "budget_view", server, data=everyone, query=documents.BUDGET_VIEW
            )
            measure(
                "budget change request", "budget_change", server, data=budget_file,
                query=documents.REQUEST_BUDGET_CHANGE, mail=True,
            )  # fmt: skip
            cancel_pending_budget_requests(population.database_url)
            measure(
                "payment details view", "payment_view", server, data=everyone,
                query=documents.PAYMENT_VIEW,
            )  # fmt: skip
            if mandate:
                os.environ["BENCH_MANDATE"] = mandate
                measure(
                    "payment details change (bcrypt)", "payment_change", server,
                    connections=args.login_clients, data=logins_file,
                    query=documents.CHANGE_PAYMENT_DETAILS, mail=True,
                )  # fmt: skip
            else:
                results["payment details change (bcrypt)"] = failed_mix(
                    "payment details change (bcrypt)", args.login_clients, "no SEPA mandate version"
                )
            pdf_accounts = [a for a in singles if a.login_id in pdf_logins]
            links, count, problem = pdf_links(server.base, pdf_accounts, work)
            name = f"invoice PDF download ({PDF_MB} MB)"
            if links is None:
                results[name] = failed_mix(name, args.pdf_clients, problem or "no PDF accounts")
                log(f"  {name}: not run: {problem or 'no PDF accounts'}")
            else:
                if problem:
                    log(f"  {count} PDF links; first problem: {problem}")
                pdf = measure(
                    name, "pdf", server, connections=args.pdf_clients, data=links,
                    sql_path="/documents/invoices", memory=True,
                )  # fmt: skip
                pdf.extra["MB_per_s"] = round(pdf.rps * PDF_MB, 1)
                pdf.extra["links"] = count
                log(
                    f"  {'':<34} {pdf.extra['MB_per_s']:.0f} MB/s; app RSS "
                    f"{pdf.extra['rss_before_mb']:.0f} MB before, peak "
                    f"{pdf.extra['rss_peak_mb']:.0f} MB ({pdf.extra['rss_samples']} samples)"
                )
        with step(f"dashboard p99 with {args.probe_connections} connections, without/with logins"):
            measure(
                "dashboard probe alone",
                "dashboard",
                server,
                length=args.probe_seconds,
                connections=args.probe_connections,
                data=probe_file,
                query=dashboard,
            )
            logins = wrk(
                server, "login", seconds=args.probe_seconds + 2, connections=args.login_clients,
                threads=1, data=logins_file, work=work, query=documents.LOGIN, run_id=run_id,
            )  # fmt: skip
            time.sleep(1.5)
            measure(
                f"dashboard probe, {args.login_clients} logging in",
                "dashboard",
                server,
                alone=False,
                length=args.probe_seconds,
                connections=args.probe_connections,
                data=probe_file,
                query=dashboard,
            )
            results["login beside the probe"] = finish_wrk(
                logins, "login beside the probe", args.login_clients
            )
        memory = round(server.peak_rss_mb(), 1)
        report.memory_mb["peak RSS, 1 app process and its mail worker"] = memory
    finally:
        server.stop()

    server = Server(env, workers=1, mail_worker=True)
    try:
        with step("service: 1 process, the mail worker in a process of its own"):
            server.wait_ready()
            warm_up(server)
            peak(PEAK_APART, server, submit_files[4], registrable[2::3])
    finally:
        server.stop()

    server = Server(env, workers=2)
    try:
        with step("service: 2 processes (--workers 2)"):
            server.wait_ready()
            warm_up(server)
            measure(
                "dashboard, 2 processes",
                "dashboard",
                server,
                data=everyone,
                query=dashboard,
            )
            measure(
                "submitReading, 2 processes",
                "submit",
                server,
                data=submit_files[2],
                query=documents.SUBMIT_READING,
            )
        memory = round(server.peak_rss_mb(), 1)
        report.memory_mb["peak RSS, 2 app processes and their mail workers (sum)"] = memory
    finally:
        server.stop()
        relay.stop()

    for name, result in results.items():
        report.mixes[name] = {**asdict(result), "rps": round(result.rps, 1)}
    summarize(report, results)


def summarize(report: Report, results: dict[str, MixResult]) -> None:
    """Ratios within this run, and every target as met or missed; a mix that is missing
    or failed makes its targets missed, never an exception."""

    def value(name: str, by: str) -> float | None:
        result = results.get(name)
        if result is None or not result.requests:
            return None
        found: float | None = result.rps if by == "rps" else getattr(result, by)
        return found

    def ratio(a: str, b: str, by: str = "rps", inverse: bool = False) -> float | None:
        x, y = value(a, by), value(b, by)
        if not x or not y:
            return None
        return round(y / x if inverse else x / y, 3)

    r: dict[str, float | None] = {}
    r["dashboard / ceiling"] = ratio("dashboard", "dashboard ceiling")
    r["dashboard / physical"] = ratio("dashboard", "dashboard physical (asyncpg)")
    r["ceiling / physical"] = ratio("dashboard ceiling", "dashboard physical (asyncpg)")
    r["dashboard / ceiling, by app CPU"] = ratio(
        "dashboard", "dashboard ceiling", "app_cpu_ms", inverse=True
    )
    r["dashboard / physical, by app CPU"] = ratio(
        "dashboard", "dashboard physical (asyncpg)", "app_cpu_ms", inverse=True
    )
    r["ceiling / physical, by app CPU"] = ratio(
        "dashboard ceiling", "dashboard physical (asyncpg)", "app_cpu_ms", inverse=True
    )
    r["APQ dashboard / ceiling"] = ratio(APQ, "dashboard ceiling")
    r["APQ dashboard / plain POST"] = ratio(APQ, "dashboard")
    posts = [c for c in (value(n, "app_cpu_ms") for n in ("dashboard", DASHBOARD_AGAIN)) if c]
    persisted = value(APQ, "app_cpu_ms")
    if posts and persisted:
        r["APQ / plain POST (before and after), by app CPU"] = round(
            sum(posts) / len(posts) / persisted, 3
        )
    r["submitReading / ceiling"] = ratio("submitReading", "submitReading ceiling")
    r["submitReading / ceiling, by app CPU"] = ratio(
        "submitReading", "submitReading ceiling", "app_cpu_ms", inverse=True
    )
    probe = next((k for k in results if k.startswith("dashboard probe, ")), "")
    r["dashboard p99 with logins / without"] = ratio(probe, "dashboard probe alone", "p99")
    r["dashboard, 2 processes / 1"] = ratio("dashboard, 2 processes", "dashboard")
    r["submitReading, 2 processes / 1"] = ratio("submitReading, 2 processes", "submitReading")
    first = report.baseline
    if "rps" in first:
        plain_rps, plain_cpu = value("dashboard", "rps"), value("dashboard", "app_cpu_ms")
        if plain_rps:
            r["dashboard / the first round's, req/s"] = round(plain_rps / first["rps"], 3)
        if plain_cpu:
            r["the first round's / dashboard, by app CPU"] = round(
                first["app_cpu_ms"] / plain_cpu, 3
            )
    report.ratios = {k: v for k, v in r.items() if v is not None}

    # What the ORM and GraphQL each cost, in app CPU per request (ms).
    cpu = {k: value(k, "app_cpu_ms") for k in (
        "dashboard", "dashboard ceiling", "dashboard physical (asyncpg)")}  # fmt: skip
    if all(cpu.values()):
        graphql, ceiling, physical = (cpu[k] or 0.0 for k in cpu)
        report.checks["app CPU ms: GraphQL layer (dashboard - ceiling)"] = round(
            graphql - ceiling, 2
        )
        report.checks["app CPU ms: ORM and 6 more round trips (ceiling - physical)"] = round(
            ceiling - physical, 2
        )

    sql = report.sql
    graphql_counts = {k: v for k, v in sql.items() if k.startswith("dashboard, ")}
    single = [v for k, v in graphql_counts.items() if k.startswith("dashboard, 1 ")]
    multi = [v for k, v in graphql_counts.items() if not k.startswith("dashboard, 1 ")]
    pdf = next((m for k, m in results.items() if k.startswith("invoice PDF download")), None)
    t = report.targets

    def target(name: str, met: bool | None) -> None:
        t[name] = bool(met)

    def at_least(key: str, floor: float) -> bool:
        found = r.get(key)
        return found is not None and found >= floor

    target(
        "dashboard >= 0.8 of its ceiling, by app CPU",
        at_least("dashboard / ceiling, by app CPU", TARGETS["dashboard_vs_ceiling_cpu"]),
    )
    dashboard_rps = value("dashboard", "rps")
    target(
        f"dashboard >= {TARGETS['dashboard_rps']:.0f} req/s (2 x the first round's)",
        dashboard_rps is not None and dashboard_rps >= TARGETS["dashboard_rps"],
    )
    dashboard_cpu = value("dashboard", "app_cpu_ms")
    target(
        f"dashboard <= {TARGETS['dashboard_cpu_ms']} ms app CPU per request",
        dashboard_cpu is not None and dashboard_cpu <= TARGETS["dashboard_cpu_ms"],
    )
    if "rps" in first:
        target(
            f"dashboard >= 2 x the first round's req/s, both in this run ({first['rps']:.1f})",
            at_least("dashboard / the first round's, req/s", 2.0),
        )
        target(
            "dashboard <= half the first round's app CPU, both in this run "
            f"({first['app_cpu_ms']:.2f} ms)",
            at_least("the first round's / dashboard, by app CPU", 2.0),
        )
    target(
        f"dashboard <= {TARGETS['dashboard_sql']} SQL statements",
        bool(single) and max(single + multi) <= TARGETS["dashboard_sql"],
    )
    target(
        "same SQL count for 1 and 20 customer numbers",
        bool(single) and set(single) == set(multi or single),
    )
    target(
        "persisted dashboard >= plain POST (app CPU per request, within 5 %)",
        at_least("APQ / plain POST (before and after), by app CPU", 0.95),
    )
    target(
        "submitReading >= 40 % of its ceiling, no error",
        at_least("submitReading / ceiling", TARGETS["submit_vs_ceiling"])
        and results.get("submitReading") is not None
        and results["submitReading"].errors == 0,
    )
    found = r.get("dashboard p99 with logins / without")
    target(
        "dashboard p99 with 20 logging in <= 2x",
        found is not None and found <= TARGETS["p99_login_factor"],
    )
    for name, where in ((PEAK, "worker started by the app"), (PEAK_APART, "worker apart")):
        peak = results.get(f"{name}: submitReading + register")
        peak_mail = (peak.mail if peak else None) or {}
        target(
            f"mail p99 < {TARGETS['mail_p99_s']:.0f} s at the peak ({where}), none late or failed",
            bool(peak_mail)
            and peak_mail["delivered"] > 0
            and peak_mail["p99_s"] < TARGETS["mail_p99_s"]
            and peak_mail["errors"] == 0,
        )
        # PINs go first where mails queue; where none queue, every mail waits the same
        # (at most a poll interval, then the delivery), and the two p99 tie by chance.
        target(
            f"PIN mails first ({where}): PIN p99 < 5 s, <= all mails' p99 or one poll",
            bool(peak_mail)
            and peak_mail["pin_count"] > 0
            and peak_mail["pin_p99_s"] < TARGETS["mail_p99_s"]
            and peak_mail["pin_p99_s"] <= max(peak_mail["p99_s"], TARGETS["one_poll_s"]),
        )
    target(
        f"PDF downloads: app memory flat (RSS growth < {TARGETS['pdf_rss_growth_mb']:.0f} MB)"
        ", no error",
        pdf is not None
        and pdf.requests > 0
        and pdf.errors == 0
        and pdf.extra.get("rss_growth_mb", 1e9) < TARGETS["pdf_rss_growth_mb"],
    )
    for name in ("budget view", "budget change request", "payment details view",
                 "payment details change (bcrypt)"):  # fmt: skip
        mix = results.get(name)
        late = (mix.mail or {}).get("errors", 0) if mix is not None else 0
        target(
            f"{name}: no error, no late mail",
            mix is not None and mix.requests > 0 and mix.errors == 0 and late == 0,
        )


def print_report(report: Report) -> None:
    log("")
    log(
        f"{'mix':<36}{'req/s':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'errors':>7}"
        f"{'conns':>6}{'SQL/req':>8}{'app CPU':>9}{'db CPU':>8}"
    )

    def shown(value: float | None, digits: int = 1) -> str:
        return "" if value is None else f"{value:.{digits}f}"

    for name, m in report.mixes.items():
        log(
            f"{name:<36}{m['rps']:>8.1f}{m['p50']:>9.1f}{m['p95']:>9.1f}{m['p99']:>9.1f}"
            f"{m['errors']:>7}{m['connections']:>6}{shown(m['statements_per_request']):>8}"
            f"{shown(m['app_cpu_ms'], 2):>9}{shown(m['db_cpu_ms'], 2):>8}"
        )
        if m["sample_error"]:
            log(f"    first error: {m['sample_error'][:300]}")
    log("(app CPU, db CPU: milliseconds of CPU per request in the app processes (with the")
    log(" mail workers they started) and in PostgreSQL's backends: less sensitive than req/s")
    log(" to what else runs on the machine)")
    log("")
    log("Mail queued while a mix ran (outbox created_at -> sent, delivered over SMTP):")
    for name, m in report.mixes.items():
        mail = m.get("mail")
        if mail:
            log(
                f"  {name:<34} {mail['delivered']:>5}/{mail['queued']:<5} "
                f"{mail['per_second']:>6.1f}/s"
                f"  p50 {mail['p50_s']:.2f} s  p99 {mail['p99_s']:.2f} s  PIN p99 "
                f"{mail['pin_p99_s']:.2f} s ({mail['pin_count']})  new SMTP connections "
                f"{mail['smtp_connections']}  errors {mail['errors']} {mail['reasons'] or ''}"
                + (
                    f"  worker CPU {m['extra']['worker_cpu_ms_per_mail']:.2f} ms/mail"
                    if m.get("extra", {}).get("worker_cpu_ms_per_mail")
                    else ""
                )
            )
    for name, m in report.mixes.items():
        if m.get("extra", {}).get("rss_samples") is not None:
            x = m["extra"]
            log(
                f"{name}: {x.get('MB_per_s', 0):.0f} MB/s; app RSS {x['rss_before_mb']:.0f} MB "
                f"before, {x['rss_peak_mb']:.0f} MB peak, {x['rss_after_mb']:.0f} MB after"
            )
    log("")
    log("SQL statements of one request:")
    for name, count in report.sql.items():
        log(f"  {name:<44}{count:>4}")
    log("Ratios:")
    for name, value in report.ratios.items():
        log(f"  {name:<44}{value:>7.2f}")
    log("Memory:")
    for name, value in report.memory_mb.items():
        log(f"  {name:<44}{value:>7.0f} MB")
    first = report.baseline
    if "rps" in first:
        log(
            f"The first round ({first['commit']}), by its own benchmark before this one "
            f"({first['seconds']:.0f} s, log {first['log']}):"
        )
        log(
            f"  dashboard {first['rps']:.1f} req/s, {first['app_cpu_ms']:.2f} ms app CPU; "
            f"persisted {first['persisted_rps']:.1f} req/s, "
            f"{first['persisted_app_cpu_ms']:.2f} ms app CPU"
        )
    elif first:
        log(f"The first round's code was not measured in this run: {first['missing']}")
    log("Targets:")
    for name, met in report.targets.items():
        log(f"  {name:<78} {'met' if met else 'MISSED'}")
    log("Checks and costs:")
    for name, found in report.checks.items():
        log(f"  {name:<56}{found}")
    log(
        "The reminder job over 100,000 customers is measured apart: "
        ".venv/bin/python -m benchmarks.reminders_100k (README, Performance)"
    )
    log(f"Whole run: {report.seconds:.0f} s; load average at the end {os.getloadavg()[0]:.1f}")


def write_report(report: Report) -> Path:
    RESULTS.mkdir(exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    path = RESULTS / f"load-{stamp}-{report.machine['commit']}.json"
    path.write_text(json.dumps(asdict(report), indent=2, default=str) + "\n")
    return path


def compare(old_path: Path, new_path: Path) -> None:
    """Two result files side by side: requests/s and p99 per mix, and the ratios."""
    old, new = (json.loads(p.read_text()) for p in (old_path, new_path))
    log(f"{'':<50}{old['machine']['commit']:>16}{new['machine']['commit']:>16}{'change':>9}")
    for name, m in new["mixes"].items():
        before = old["mixes"].get(name)
        if before is None:
            continue
        for what in ("rps", "p99", "app_cpu_ms"):
            a, b = before.get(what), m.get(what)
            if a is None or b is None:
                continue
            change = f"{(b / a - 1) * 100:+.0f} %" if a else ""
            log(f"{name + ' ' + what:<50}{a:>16.1f}{b:>16.1f}{change:>9}")
    for name, b in new["ratios"].items():
        a = old["ratios"].get(name)
        if a is not None:
            log(f"{name:<50}{a:>16.2f}{b:>16.2f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    sub = parser.add_subparsers(dest="command")
    cmp = sub.add_parser("compare", help="Compare two result files.")
    cmp.add_argument("old", type=Path)
    cmp.add_argument("new", type=Path)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--logins", type=int, default=10_000)
    parser.add_argument("--multi-logins", type=int, default=100, help="Logins with many numbers.")
    parser.add_argument("--multi-size", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=10, help="Length of each mix.")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=1, help="wrk threads.")
    parser.add_argument("--login-clients", type=int, default=20)
    parser.add_argument("--probe-connections", type=int, default=2)
    parser.add_argument(
        "--probe-seconds", type=float, default=15, help="Length of the two p99 probes."
    )
    parser.add_argument("--register-flows", type=int, default=8)
    parser.add_argument("--pdf-clients", type=int, default=32, help="Clients downloading PDFs.")
    parser.add_argument(
        "--pdf-logins", type=int, default=200, help="Logins whose newest invoice has a 5 MB PDF."
    )
    parser.add_argument(
        "--smtp-delay-ms", type=float, default=5.0, help="The SMTP server's answer to DATA."
    )
    parser.add_argument("--pool", type=int, default=10, help="Database connections per process.")
    parser.add_argument("--admin-url", default="postgres://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/14")
    parser.add_argument("--no-redis", action="store_true")
    parser.add_argument(
        "--keep-database", action="store_true", help="Keep it, and write a file for --reuse."
    )
    parser.add_argument(
        "--reuse", type=Path, help="Run against a kept database (for profiling, not figures)."
    )
    parser.add_argument(
        "--quick", action="store_true", help="12,000 customers, 1,000 logins, 3 s per mix."
    )
    parser.add_argument(
        "--no-baseline",
        action="store_true",
        help="Leave out running the first round's benchmark first (3½–5½ minutes).",
    )
    args = parser.parse_args(argv)
    if args.command == "compare":
        compare(args.old, args.new)
        return 0
    if args.quick:
        args.customers, args.logins, args.multi_logins, args.seconds = 12_000, 1_000, 20, 3
        args.probe_seconds, args.pdf_logins = 3, 64
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install -y wrk")
    report = run(args)
    print_report(report)
    log(f"Results: {write_report(report)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
