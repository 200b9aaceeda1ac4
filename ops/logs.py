"""Structured JSON logs; every line of a request carries its request id.

Secrets must never reach a log line in the first place; as a second line of
defence, a filter scrubs bearer tokens, passwords and tokens in query strings.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging
import re
import sys

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")

_SCRUB = [
    (re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+"), r"\1[redacted]"),
    (
        re.compile(
            r"(?i)((?:password|token|pin|api[_-]?key|secret)[\"']?\s*[:=]\s*[\"']?)[^\s\"'&,}]+"
        ),
        r"\1[redacted]",
    ),
]


def scrub(text: str, record: logging.LogRecord | None = None) -> str:
    if record is not None and getattr(record, "unscrubbed", False):
        return text
    for pattern, replacement in _SCRUB:
        text = pattern.sub(replacement, text)
    return text


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": scrub(record.getMessage(), record),
        }
        if rid := request_id.get():
            entry["request_id"] = rid
        for key in ("method", "path", "status", "duration_ms", "client", "operation", "error_id"):
            if hasattr(record, key):
                entry[key] = getattr(record, key)
        if record.exc_info:
            entry["exception"] = scrub(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        rid = request_id.get()
        prefix = f"[{rid[:8]}] " if rid else ""
        line = f"{record.levelname:<7} {record.name}: {prefix}{super().format(record)}"
        return scrub(line, record)


def configure_logging(log_format: str, level: str = "INFO") -> None:
    """Route our loggers and uvicorn's through one handler on stderr."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter("%(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    # These log SQL with its parameters at DEBUG: mail bodies (PINs, links), hashes.
    # Never below INFO, whatever LOG_LEVEL says.
    for name in ("tortoise.db_client", "aiosqlite", "asyncpg"):
        logging.getLogger(name).setLevel(logging.INFO)
    # Our access log line replaces uvicorn's, which would repeat query strings.
    logging.getLogger("uvicorn.access").disabled = True
