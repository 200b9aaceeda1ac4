"""Error codes of the public contact form: anyone may write, logged in or not."""

from __future__ import annotations

from models import errors as shared
from models.errors import ErrorCode


class ContactErrorCode(ErrorCode):
    """What is wrong with a message through the contact form."""

    REQUIRED = shared.REQUIRED
    TOO_LONG = shared.TOO_LONG
    EMAIL_INVALID = shared.EMAIL_INVALID
