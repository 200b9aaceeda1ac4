"""E-mail addresses as logins use them: cleaned, and compared without case."""

from __future__ import annotations


def clean_email(raw: str) -> str:
    return raw.strip()


def email_key(email: str) -> str:
    return email.lower()
