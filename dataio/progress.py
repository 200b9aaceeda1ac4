"""A one-line progress bar on stderr, so that staff see a long import move."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import TextIO

LARGE_FILE_BYTES = 1_000_000


def wants_progress(flag: bool | None, path: Path) -> bool:
    """--progress / --no-progress decide; by default a large file on a terminal shows a bar."""
    if flag is not None:
        return flag
    return sys.stderr.isatty() and path.stat().st_size >= LARGE_FILE_BYTES


class Progress:
    """Redraws `label [#####.....]  50%  5000/10000` at most ten times a second.

    Disabled, every call is a no-op: code reports progress without asking whether
    anyone watches.
    """

    def __init__(self, stream: TextIO | None = None, *, enabled: bool = True) -> None:
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.label = ""
        self.total = 0
        self.done = 0
        self._drawn_at = 0.0

    def start(self, label: str, total: int) -> None:
        self.label, self.total, self.done = label, total, 0
        self._draw(force=True)

    def advance(self, count: int) -> None:
        self.done += count
        self._draw(force=self.done >= self.total)

    def finish(self) -> None:
        if self.enabled and self.total:
            self._draw(force=True)
            self.stream.write("\n")
            self.stream.flush()
        self.total = 0

    def _draw(self, *, force: bool) -> None:
        if not self.enabled or not self.total:
            return
        now = time.monotonic()
        if not force and now - self._drawn_at < 0.1:
            return
        self._drawn_at = now
        share = min(self.done / self.total, 1.0)
        filled = int(share * 30)
        bar = "#" * filled + "." * (30 - filled)
        self.stream.write(
            f"\r{self.label:<10} [{bar}] {share:4.0%}  {self.done:,}/{self.total:,}".replace(
                ",", "."
            )
        )
        self.stream.flush()
