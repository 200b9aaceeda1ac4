"""The request's language: German unless the client prefers English."""

from __future__ import annotations


def negotiate_locale(accept_language: str | None, default: str = "de") -> str:
    """Pick `de` or `en` from an Accept-Language header, honouring q-values."""
    if not accept_language:
        return default
    best, best_q = default, -1.0
    for part in accept_language.split(","):
        lang, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        primary = lang.strip().lower().split("-")[0]
        if primary in ("de", "en") and q > best_q:
            best, best_q = primary, q
    return best
