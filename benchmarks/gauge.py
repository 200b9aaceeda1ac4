"""The machine's speed, measured beside the figures: this VM's speed changes from day to
day, and not by the same factor for C code (bcrypt) as for Python code (the app).

    .venv/bin/python -m benchmarks.gauge
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import bcrypt
from graphql import build_schema, parse, validate

from benchmarks import documents

SDL = Path(__file__).resolve().parents[1] / "schema.graphql"


def python_gauge(rounds: int = 3, repeat: int = 100) -> float:
    """CPU milliseconds for graphql-core to parse and validate the dashboard document
    against the schema 100 times, the best of 3 rounds: pure Python, the kind of work
    the app's requests do."""
    schema = build_schema(SDL.read_text())
    best = math.inf
    for _ in range(rounds):
        started = time.process_time()
        for _ in range(repeat):
            if validate(schema, parse(documents.DASHBOARD)):  # not an assert: -O drops those
                raise RuntimeError("the dashboard document does not validate")
        best = min(best, time.process_time() - started)
    return best * 1000


def bcrypt_gauge(rounds: int = 3) -> float:
    """CPU milliseconds of one bcrypt hash at cost 12 (a login's), the best of 3: C code."""
    salt = bcrypt.gensalt(12)
    best = math.inf
    for _ in range(rounds):
        started = time.process_time()
        bcrypt.hashpw(b"gauge-password", salt)
        best = min(best, time.process_time() - started)
    return best * 1000


def describe() -> tuple[dict[str, float], str]:
    """Both gauges, as figures and as the line the benchmarks print."""
    figures = {
        "python_gauge_ms": round(python_gauge(), 1),
        "bcrypt_gauge_ms": round(bcrypt_gauge()),
    }
    line = (
        f"machine speed: {figures['python_gauge_ms']:.1f} ms to parse and validate the "
        f"dashboard 100 times (Python), {figures['bcrypt_gauge_ms']:.0f} ms per bcrypt hash "
        "at cost 12 (C); lower is faster"
    )
    return figures, line


if __name__ == "__main__":
    print(describe()[1])
