"""What a new password must be: R3, plus what bcrypt and common sense add.

`password_problems()` returns every problem at once, so a form can show them
together; each problem is one enum value a front end can switch on.
"""

from __future__ import annotations

import re
from enum import Enum
from functools import lru_cache
from pathlib import Path

from security.passwords import BCRYPT_MAX_BYTES

COMMON_PASSWORDS_FILE = Path(__file__).with_name("common_passwords.txt")
MIN_LENGTH = 8
_LEET = str.maketrans({"0": "o", "@": "a", "1": "i", "3": "e", "$": "s", "5": "s", "7": "t"})
_EDGES = re.compile(r"^[^a-zäöüß]+|[^a-zäöüß]+$")


class PasswordProblem(Enum):
    TOO_SHORT = "too_short"
    MISSING_CHARACTER_CLASSES = "missing_character_classes"
    TOO_LONG = "too_long"
    CONTAINS_PERSONAL_DATA = "contains_personal_data"
    TOO_COMMON = "too_common"


def r3_shortfalls(password: str) -> tuple[bool, list[str]]:
    """R3: at least 8 characters, with upper-case and lower-case letters, digits and
    special characters.

    Returns whether it is too short, and the character classes that are
    missing (`upper`, `lower`, `digit`, `special`).
    """
    missing = []
    if not any(c.isupper() for c in password):
        missing.append("upper")
    if not any(c.islower() for c in password):
        missing.append("lower")
    if not any(c.isdigit() for c in password):
        missing.append("digit")
    if all(c.isalnum() for c in password):
        missing.append("special")
    return len(password) < MIN_LENGTH, missing


def is_too_long_for_bcrypt(password: str) -> bool:
    """bcrypt takes at most 72 bytes of UTF-8; longer would be cut, so refuse it."""
    return len(password.encode("utf-8")) > BCRYPT_MAX_BYTES


def contains_personal_data(password: str, email: str, customer_numbers: list[str]) -> bool:
    """The e-mail's local part (or a 4+ letter piece of it) or a customer number."""
    lowered = password.lower()
    local = email.partition("@")[0].lower()
    pieces = {local} | {p for p in re.split(r"[._+\-]", local) if len(p) >= 4}
    if any(len(p) >= 3 and p in lowered for p in pieces):
        return True
    return any(len(n) >= 3 and n in lowered for n in customer_numbers)


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def is_too_common(password: str) -> bool:
    """On the list of common passwords, also when dressed up: `Sommer2024!`, `P@ssw0rd1`."""
    common = common_passwords()
    lowered = password.lower()
    core = _EDGES.sub("", lowered)
    candidates = {lowered, lowered.translate(_LEET)}
    if len(core) >= 4:
        candidates |= {core, _EDGES.sub("", core.translate(_LEET))}
    return bool(candidates & common)


def password_problems(
    password: str, *, email: str, customer_numbers: list[str]
) -> list[PasswordProblem]:
    """Every reason to refuse `password`, in the order a form shows them."""
    problems = []
    too_short, missing = r3_shortfalls(password)
    if too_short:
        problems.append(PasswordProblem.TOO_SHORT)
    if missing:
        problems.append(PasswordProblem.MISSING_CHARACTER_CLASSES)
    if is_too_long_for_bcrypt(password):
        problems.append(PasswordProblem.TOO_LONG)
    if contains_personal_data(password, email, customer_numbers):
        problems.append(PasswordProblem.CONTAINS_PERSONAL_DATA)
    if is_too_common(password):
        problems.append(PasswordProblem.TOO_COMMON)
    return problems
