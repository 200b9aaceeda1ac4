"""The document store: bytes under a key, kept outside the database.

One small interface (`DocumentStore`: put, exists, stream, delete, keys) and the
folder that implements it (`FolderStore`, under DOCUMENT_DIR). A key is an area
and a name, `<area>/<name>`: invoice PDFs under `invoice-pdfs/`, named by their
SHA-256 (`content_key`: the same bytes get the same key, so putting them twice
stores them once); meter photos under `meter-photos/`, named by random bytes
(`random_key`: not guessable). Keys are checked against one pattern, so none
can leave the store's root. A key, once written, is never rewritten: a key
never names different content.

Production on object storage implements the same five methods with an
S3-compatible client (`put_object` with `IfNoneMatch="*"`, `head_object`,
`get_object` streamed in chunks, `delete_object`, `list_objects_v2` with the
area as prefix, comparing `LastModified`), a bucket with versioning off,
encryption on and no public access; nothing else in the code knows where
documents live.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import os
import re
import secrets
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Protocol

from settings import Settings

CHUNK = 64 * 1024
INVOICE_PDFS = "invoice-pdfs"
METER_PHOTOS = "meter-photos"
_AREA = r"[a-z][a-z0-9-]{0,30}"
_KEY = re.compile(rf"(?P<area>{_AREA})/(?P<name>[A-Za-z0-9_-]{{20,64}})")
_PARTIAL = ".part"


class DocumentStore(Protocol):
    async def put(self, key: str, data: bytes) -> None:
        """Store `data` under `key`; a key already stored is left as it is."""
        ...

    async def exists(self, key: str) -> bool: ...

    def stream(self, key: str) -> AsyncIterator[bytes]:
        """The document's bytes in chunks; raises FileNotFoundError when it is missing."""
        ...

    async def delete(self, key: str) -> None:
        """Remove the document; a missing one is no error."""
        ...

    async def keys(self, area: str, *, older_than: dt.datetime) -> list[str]:
        """Keys in `area` stored before `older_than` (for sweeping orphans)."""
        ...


def open_store(settings: Settings) -> DocumentStore:
    """The store the settings name (the folder DOCUMENT_DIR)."""
    return FolderStore(settings.document_dir)


def content_key(area: str, data: bytes) -> str:
    """The key of `data` in `area`, named by its SHA-256."""
    return _checked(f"{area}/{hashlib.sha256(data).hexdigest()}")


def random_key(area: str) -> str:
    """A fresh, unguessable key in `area`."""
    return _checked(f"{area}/{secrets.token_urlsafe(24)}")


async def read(store: DocumentStore, key: str) -> bytes | None:
    """The whole document, or None when it is missing (for small ones: photos)."""
    try:
        return b"".join([chunk async for chunk in store.stream(key)])
    except FileNotFoundError:
        return None


def _checked(key: str) -> str:
    if not _KEY.fullmatch(key):
        raise ValueError("not a document key")
    return key


class FolderStore:
    """Documents as files under `root`: `<area>/<first two characters>/<name>`, written
    atomically (a temporary file renamed into place), readable by the owner only."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        match = _KEY.fullmatch(key)
        if match is None:
            raise FileNotFoundError(key)
        name = match["name"]
        return self.root / match["area"] / name[:2] / name

    async def put(self, key: str, data: bytes) -> None:
        await asyncio.to_thread(self._write, self._path(_checked(key)), data)

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        if path.exists():
            return
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=_PARTIAL)
        try:
            with open(handle, "wb") as stream:
                stream.write(data)
                stream.flush()
                os.fsync(stream.fileno())
            os.replace(temporary, path)
        finally:
            Path(temporary).unlink(missing_ok=True)

    async def exists(self, key: str) -> bool:
        try:
            return await asyncio.to_thread(self._path(key).is_file)
        except FileNotFoundError:
            return False

    async def stream(self, key: str) -> AsyncIterator[bytes]:
        handle = await asyncio.to_thread(open, self._path(key), "rb")
        try:
            while chunk := await asyncio.to_thread(handle.read, CHUNK):
                yield chunk
        finally:
            handle.close()

    async def delete(self, key: str) -> None:
        try:
            path = self._path(key)
        except FileNotFoundError:
            return
        await asyncio.to_thread(path.unlink, missing_ok=True)

    async def keys(self, area: str, *, older_than: dt.datetime) -> list[str]:
        folder = self.root / area
        cutoff = older_than.timestamp()

        def listing() -> list[str]:
            if not re.fullmatch(_AREA, area) or not folder.is_dir():
                return []
            return [
                f"{area}/{path.name}"
                for path in folder.glob("*/*")
                if path.is_file()
                and not path.name.endswith(_PARTIAL)
                and path.stat().st_mtime < cutoff
            ]

        return sorted(await asyncio.to_thread(listing))
