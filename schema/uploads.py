"""Files a mutation receives as `Upload` variables (GraphQL multipart request specification).

`api/http.py` parses the multipart body (with its own body limit and the CSRF rule);
the variable then holds the uploaded file. Only as many bytes as a limit allows are
read: one more tells that the file is too large.
"""

from __future__ import annotations

from typing import Any


async def read_upload(upload: Any, limit: int) -> bytes:
    """At most `limit` + 1 bytes of the file; a value that is no file reads as empty."""
    read = getattr(upload, "read", None)
    if read is None:
        return b""
    data = await read(limit + 1)
    return data if isinstance(data, bytes) else b""
