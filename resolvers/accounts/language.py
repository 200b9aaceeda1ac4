"""The language the customer chose for the portal's mails to its login."""

from __future__ import annotations

from models import Language
from models.errors import Outcome
from resolvers.auth import require_login
from resolvers.context import Context, audit


async def set_preferred_language(ctx: Context, language: Language) -> Outcome[Language]:
    """Store the login's preferred language: every later mail to it is written in it,
    whatever language a later login's browser asks for. Setting the language it already
    has succeeds and records nothing."""
    login = require_login(ctx)
    if login.preferred_language != language:
        login.preferred_language = language
        await login.save(update_fields=["preferred_language"])
        await audit(ctx, "preferred_language_set", login.id, language=language.value)
    return Outcome(language)
