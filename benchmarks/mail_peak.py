"""Mail at the peak: how fast the outbox worker empties a burst, and how long a PIN waits.

    .venv/bin/python -m benchmarks.mail_peak [--mails 2000] [--pins 100] [--lanes 1 4 8]
        [--database postgres://postgres@127.0.0.1:5432/postgres] [--delay-ms 5]

A real SMTP server (aiosmtpd) on loopback answers every DATA after `--delay-ms`
(a relay on the same network takes a few milliseconds). For each lane count a
fresh queue of `--mails` notices is written, and `--pins` registration PINs
arrive while the worker is busy with them (one every few milliseconds, as
registering people would). The worker runs until the queue is empty. Printed
per run: mails per second, SMTP connections opened, and the time from queueing
to the server's acceptance (p50/p99) for all mails and for the PIN mails alone.

A benchmark, not a test: figures are printed, nothing is asserted. Compare
lane counts within one run; the machine is shared and noisy.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from aiosmtpd.controller import Controller  # noqa: E402
from tortoise import Tortoise  # noqa: E402
from tortoise.transactions import in_transaction  # noqa: E402

import db  # noqa: E402
from mailers.outbox import queue_mail  # noqa: E402
from mailers.worker import run_worker  # noqa: E402
from models import MailStatus, OutboxMail  # noqa: E402
from settings import Settings  # noqa: E402


class Relay:
    """Accepts every mail after a fixed delay and notes when each Message-ID arrived."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.arrived: dict[str, float] = {}
        self.peers: set[Any] = set()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        await asyncio.sleep(self.delay)
        for line in envelope.content.split(b"\r\n"):
            if line.lower().startswith(b"message-id:"):
                self.arrived[line.split(b":", 1)[1].strip().decode()] = time.time()
                break
        self.peers.add(session.peer)
        return "250 OK"


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


async def fresh_database(base: str | None, work: Path) -> tuple[str, Any]:
    if not base:
        url = f"sqlite://{work / 'mail.sqlite3'}"
        await db.migrate(url)
        return url, None
    import asyncpg

    name = f"kp_bench_{uuid.uuid4().hex[:10]}"
    parts = urlsplit(base)
    admin = urlunsplit(("postgresql", parts.netloc, "/postgres", "", ""))
    conn = await asyncpg.connect(admin)
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    url = urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, ""))
    await db.migrate(url)

    async def drop() -> None:
        conn = await asyncpg.connect(admin)
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()

    return url, drop


async def one_run(settings: Settings, relay: Relay, mails: int, pins: int) -> dict[str, float]:
    await OutboxMail.all().delete()
    relay.arrived.clear()
    relay.peers.clear()
    async with in_transaction() as conn:
        for n in range(mails):
            await queue_mail(
                "test_notice", to=f"k{n}@example.org", locale="de", settings=settings,
                using_db=conn, name="Jörg",
            )  # fmt: skip
    queued: dict[str, float] = {}
    pin_ids: set[str] = set()
    started = time.time()
    async with run_worker(settings):
        for n in range(pins):
            mail = await queue_mail(
                "registration_pin", to=f"neu{n}@example.org", locale="de", settings=settings,
                pin="123456", valid_minutes=15,
            )  # fmt: skip
            pin_ids.add(mail.message_id)
            await asyncio.sleep(0.005)
        for _ in range(int(600 / 0.05)):  # at most ten minutes
            if not await OutboxMail.filter(status=MailStatus.QUEUED).exists():
                break
            await asyncio.sleep(0.05)
    elapsed = time.time() - started
    for mail in await OutboxMail.all().only("message_id", "created_at"):
        queued[mail.message_id] = mail.created_at.timestamp()
    waits = [relay.arrived[m] - queued[m] for m in relay.arrived if m in queued]
    pin_waits = [relay.arrived[m] - queued[m] for m in pin_ids if m in relay.arrived]
    return {
        "mails_per_s": len(relay.arrived) / elapsed,
        "connections": len(relay.peers),
        "p50_s": percentile(waits, 0.5),
        "p99_s": percentile(waits, 0.99),
        "pin_p50_s": percentile(pin_waits, 0.5),
        "pin_p99_s": percentile(pin_waits, 0.99),
        "delivered": len(relay.arrived),
    }


async def main_async(args: argparse.Namespace) -> None:
    relay = Relay(args.delay_ms / 1000)
    port = free_port()
    controller = Controller(relay, hostname="127.0.0.1", port=port)
    controller.start()
    with tempfile.TemporaryDirectory() as tmp:
        url, drop = await fresh_database(args.database, Path(tmp))
        try:
            await Tortoise.init(config=db.tortoise_config(url))
            print(
                f"{args.mails} notices queued, {args.pins} PINs arriving meanwhile; "
                f"relay answers after {args.delay_ms} ms; database {url.split(':')[0]}"
            )
            print(f"{'lanes':>5} {'mails/s':>8} {'conns':>6} {'p50 s':>7} {'p99 s':>7} "
                  f"{'PIN p50':>8} {'PIN p99':>8}")  # fmt: skip
            for lanes in args.lanes:
                settings = Settings(
                    env="test", database_url=url, mail_backend="smtp", smtp_host="127.0.0.1",
                    smtp_port=port, mail_concurrency=lanes, mail_poll_seconds=0.05,
                )  # fmt: skip
                r = await one_run(settings, relay, args.mails, args.pins)
                print(
                    f"{lanes:>5} {r['mails_per_s']:>8.0f} {r['connections']:>6.0f} "
                    f"{r['p50_s']:>7.2f} {r['p99_s']:>7.2f} "
                    f"{r['pin_p50_s']:>8.2f} {r['pin_p99_s']:>8.2f}"
                )
        finally:
            await Tortoise.close_connections()
            if drop:
                await drop()
            controller.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--mails", type=int, default=2000)
    parser.add_argument("--pins", type=int, default=100)
    parser.add_argument("--lanes", type=int, nargs="+", default=[1, 4, 8])
    parser.add_argument("--delay-ms", type=float, default=5.0)
    parser.add_argument("--database", default=os.environ.get("BENCH_DATABASE_URL"))
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
