"""Every declared error code speaks one language per message: no English in German text."""

from __future__ import annotations

import importlib
import pkgutil
import re

import pytest

import models
from models.errors import ErrorCode

# Common English words that are no German words (German shares "in", "so", "was", "also",
# "hat", "die", "war", "man", "an", "will", "bare", "Code", …, so those are left out).
ENGLISH = {
    "the", "and", "or", "not", "must", "is", "are", "be", "been", "of", "to", "with",
    "please", "invalid", "only", "should", "your", "you", "this", "that", "for", "has",
    "have", "can", "cannot", "again", "try", "too", "many", "yet", "by", "from", "than",
    "at", "it", "its", "which", "when", "while", "before", "here", "there", "wrong",
    "missing", "required", "found", "allowed", "expired", "already", "used", "request",
    "password", "digits", "valid", "unknown", "error", "failed",
}  # fmt: skip
# Technical names a German message may quote as they are: `code`, {placeholders},
# camelCase and UPPER_CASE names, dotted paths and media types.
QUOTED = re.compile(r"`[^`]*`|\{[^}]*\}|\b[a-z]+[A-Z]\w*\b|\b[A-Z0-9_]{2,}\b|\S+\.\S+|\S+/\S+")


def _declared_codes() -> list[ErrorCode]:
    for module in pkgutil.iter_modules(models.__path__):
        importlib.import_module(f"models.{module.name}")
    areas, pending = [], list(ErrorCode.__subclasses__())
    while pending:
        area = pending.pop()
        areas.append(area)
        pending.extend(area.__subclasses__())
    return [code for area in areas for code in area]


def english_words(text: str) -> set[str]:
    plain = QUOTED.sub(" ", text)
    return {w for w in re.findall(r"[a-zäöüß]+", plain.lower()) if w in ENGLISH}


CODES = _declared_codes()


def test_every_area_is_walked():
    areas = {type(code).__name__ for code in CODES}
    assert {"AccountErrorCode", "CustomerErrorCode", "ApiErrorCode", "PageErrorCode"} <= areas


WORDED = [code for code in CODES if code.declared.german is not None]
"""Codes with a message of their own (for the others the code name stands in)."""


@pytest.mark.parametrize("code", WORDED, ids=lambda c: f"{type(c).__name__}.{c.name}")
def test_german_message_has_no_english_words(code):
    assert english_words(code.declared.german) == set(), code.declared.german


def test_the_check_finds_english_in_german():
    assert english_words("extensions.persistedQuery ist ungültig: version must be 1") == {
        "must",
        "be",
    }
