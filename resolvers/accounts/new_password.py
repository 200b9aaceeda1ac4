"""A chosen password: its problems under the policy (R3), and its hash, off the event loop."""

from __future__ import annotations

from models.account_codes import CHARACTER_CLASS_NAMES, AccountErrorCode
from models.errors import Problem, problem
from resolvers.auth import refuse_busy
from resolvers.context import Context
from security.password_policy import (
    MIN_LENGTH,
    PasswordProblem,
    password_problems,
    r3_shortfalls,
)
from security.passwords import HashingBusy

# ----------------------------------------------------------------- passwords


async def hash_password(ctx: Context, password: str) -> str:
    try:
        return await ctx.hasher.hash(password)
    except HashingBusy:
        refuse_busy(ctx)


_PROBLEM_CODES = {
    PasswordProblem.TOO_SHORT: AccountErrorCode.PASSWORD_TOO_SHORT,
    PasswordProblem.MISSING_CHARACTER_CLASSES: AccountErrorCode.PASSWORD_CHARACTER_CLASSES_MISSING,
    PasswordProblem.TOO_LONG: AccountErrorCode.PASSWORD_TOO_LONG,
    PasswordProblem.CONTAINS_PERSONAL_DATA: AccountErrorCode.PASSWORD_CONTAINS_PERSONAL_DATA,
    PasswordProblem.TOO_COMMON: AccountErrorCode.PASSWORD_TOO_COMMON,
}


def password_errors(
    ctx: Context, password: str, *, email: str, customer_numbers: list[str], field: list[str]
) -> list[Problem]:
    """The password policy's problems on `field`."""
    english = ctx.locale == "en"
    errors = []
    for found in password_problems(password, email=email, customer_numbers=customer_numbers):
        params: dict[str, object] = {}
        if found is PasswordProblem.TOO_SHORT:
            params["min"] = MIN_LENGTH
        if found is PasswordProblem.MISSING_CHARACTER_CLASSES:
            names = [CHARACTER_CLASS_NAMES[c][english] for c in r3_shortfalls(password)[1]]
            params["missing"] = ", ".join(names)
        errors.append(problem(_PROBLEM_CODES[found], *field, **params))
    return errors
