"""Document storage: bytes under an opaque key, kept outside the database.

Deliberately tiny (put, get, delete, keys) so that a file system, an object
store or the invoices' PDF storage can stand behind it. Keys are made here from
random bytes (`new_key`): they can neither be guessed nor escape the root.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import re
import secrets
from pathlib import Path
from typing import Protocol

from settings import Settings

_KEY = re.compile(r"^[a-z][a-z0-9-]{0,30}/[A-Za-z0-9_-]{20,64}$")


class Storage(Protocol):
    async def put(self, key: str, data: bytes) -> None: ...

    async def get(self, key: str) -> bytes | None: ...

    async def delete(self, key: str) -> None: ...

    async def keys(self, prefix: str, *, older_than: dt.datetime) -> list[str]:
        """Keys in the area `prefix` stored before `older_than` (for sweeping orphans)."""
        ...


def open_storage(settings: Settings) -> Storage:
    """The storage the settings name (the file storage under STORAGE_DIR)."""
    return FileStorage(settings.storage_dir)


def new_key(prefix: str) -> str:
    """A fresh key in the area `prefix` (e.g. `meter-photos`)."""
    key = f"{prefix}/{secrets.token_urlsafe(24)}"
    _check(key)
    return key


def _check(key: str) -> str:
    if not _KEY.match(key):
        raise ValueError("not a storage key")
    return key


class FileStorage:
    """Files under `root`, one per key, written atomically, readable by the owner only."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        return self.root / _check(key)

    async def put(self, key: str, data: bytes) -> None:
        await asyncio.to_thread(self._write, self._path(key), data)

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        partial = path.with_name(path.name + ".part")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, path)

    async def get(self, key: str) -> bytes | None:
        path = self._path(key)
        try:
            return await asyncio.to_thread(path.read_bytes)
        except FileNotFoundError:
            return None

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self._path(key).unlink, missing_ok=True)

    async def keys(self, prefix: str, *, older_than: dt.datetime) -> list[str]:
        folder = self.root / prefix
        cutoff = older_than.timestamp()

        def listing() -> list[str]:
            if not folder.is_dir():
                return []
            return [
                f"{prefix}/{p.name}"
                for p in folder.iterdir()
                if p.is_file() and not p.name.endswith(".part") and p.stat().st_mtime < cutoff
            ]

        return sorted(await asyncio.to_thread(listing))
