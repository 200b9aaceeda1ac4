"""What makes a file an acceptable invoice PDF: the rules of the document import."""

from __future__ import annotations

import hashlib
import hmac


def pdf_problem(data: bytes, *, max_bytes: int) -> str | None:
    """Why `data` is not an acceptable PDF, or None.

    A PDF starts with `%PDF-` (within the first KiB, as readers allow) and ends
    with `%%EOF` (within the last KiB, trailing whitespace tolerated); the size
    is bounded by INVOICE_PDF_MAX_BYTES.
    """
    if not data:
        return "the file is empty"
    if len(data) > max_bytes:
        return f"the file has {len(data)} bytes, more than the {max_bytes} allowed"
    if b"%PDF-" not in data[:1024]:
        return "the file is not a PDF (no %PDF- header)"
    if b"%%EOF" not in data[-1024:]:
        return "the PDF is incomplete (no %%EOF at its end)"
    return None


def checksum_problem(data: bytes, expected: str) -> str | None:
    """The file is the one the index names: its SHA-256 (hex) matches."""
    actual = hashlib.sha256(data).hexdigest()
    if not hmac.compare_digest(actual, expected.strip().lower()):
        return f"the file's SHA-256 is {actual}, the index says {expected.strip().lower()}"
    return None
