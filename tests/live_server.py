"""A real `kundenportal serve` process (uvicorn) for tests whose behaviour lives in the
server: the event loop, headers, timeouts, HTTP limits."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.conftest import free_port


@dataclass
class LiveServer:
    base: str
    port: int
    process: subprocess.Popen[str]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@contextlib.contextmanager
def live_server(
    database_url: str, folder: Path, *, ready: bool = True, **env: str
) -> Iterator[LiveServer]:
    """Serve on a free port with `ENV=test`, the given database and settings (`env`);
    waits until /readyz answers 200 (or, with `ready=False`, until /healthz answers).
    Stops with SIGINT; the server's stderr is in `LiveServer.log`."""
    port = free_port()
    log = folder / f"server-{port}.log"
    settings = {
        "ENV": "test",
        "DATABASE_URL": database_url,
        "MAIL_DIR": str(folder / "mail"),
        "BCRYPT_ROUNDS": "4",
        "LOG_LEVEL": "WARNING",
        **env,
    }
    with log.open("w") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "cli", "serve", "--no-migrate", "--port", str(port)],
            env={**os.environ, **settings},
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            text=True,
        )
    server = LiveServer(f"http://127.0.0.1:{port}", port, process, log)
    probe = "/readyz" if ready else "/healthz"
    deadline = time.monotonic() + 30
    try:
        while True:
            try:
                if httpx.get(server.base + probe, timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, server.output()[-3000:]
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.1)
        yield server
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
