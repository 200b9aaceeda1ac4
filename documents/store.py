"""The document store: a small interface, and the folder that implements it by default.

Documents are addressed by a key the store hands out when a document is put
(the SHA-256 of its bytes): putting the same bytes twice stores them once, and a
key never names different content. Production on object storage implements the
same four methods with an S3-compatible client (`put_object` with
`IfNoneMatch="*"`, `get_object` streamed in chunks, `head_object`,
`delete_object`), a bucket with versioning off, encryption on and no public
access; nothing else in the code knows where documents live.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Protocol

CHUNK = 64 * 1024
_KEY = re.compile(r"[0-9a-f]{64}\.pdf")


def content_key(data: bytes) -> str:
    return f"{hashlib.sha256(data).hexdigest()}.pdf"


class DocumentStore(Protocol):
    async def put(self, data: bytes) -> str:
        """Store `data`; returns its key. Idempotent for the same bytes."""
        ...

    async def exists(self, key: str) -> bool: ...

    def stream(self, key: str) -> AsyncIterator[bytes]:
        """The document's bytes in chunks; raises FileNotFoundError when it is missing."""
        ...

    async def delete(self, key: str) -> None: ...


class FolderStore:
    """Documents as files in one folder, two levels of subfolders by key prefix."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        if not _KEY.fullmatch(key):
            raise FileNotFoundError(key)
        return self.root / key[:2] / key[2:4] / key

    async def put(self, data: bytes) -> str:
        key = content_key(data)
        await asyncio.to_thread(self._write, self._path(key), data)
        return key

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        if path.exists():
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".part")
        try:
            with open(handle, "wb") as stream:
                stream.write(data)
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
        await asyncio.to_thread(self._path(key).unlink, missing_ok=True)
