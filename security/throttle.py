"""Throttling guesses without locking the owner out.

OWASP's "slow down online guessing attacks with device cookies", applied to
every secret a client can guess against one account (password at login and
re-authentication, registration PIN, customer claims):

- **per account and client**: a client may fail `per_client_of_account` times
  per window against one account. The client is the known device
  (`security.devices`) when the request carries one for this account, else
  the client address. This slows the guesser down and nobody else.
- **per account, unknown clients only**: all clients that are not a known
  device of the account share `per_account` failures per window; beyond it
  unknown clients are refused for that account (a distributed guesser is
  bounded too). Known devices never count here and are never refused by it.
- **per client address**, across accounts (`per_address`, optional): one
  address guessing many accounts (credential stuffing). Known devices skip it,
  so an owner behind the same NAT as a guesser still gets in.

`refusal` asks before the secret is checked (counts nothing), `failed` counts a
wrong guess on every limit that applies, `succeeded` forgets the client's own
failures against the account.
"""

from __future__ import annotations

from dataclasses import dataclass

from security.devices import KnownDevice
from security.ratelimit import Decision, GuessLimits, Limit, RateLimiter


@dataclass(frozen=True)
class Caller:
    """Who is guessing: the client address and, if it is one, the account's known device."""

    address: str
    device: KnownDevice | None = None

    def key(self) -> str:
        if self.device is not None:
            return f"device:{self.device.device_id}"
        return f"address:{self.address}"


def _checks(limits: GuessLimits, account: str, caller: Caller) -> list[tuple[Limit, str]]:
    checks = [(limits.per_client_of_account, f"{account}|{caller.key()}")]
    if caller.device is None:
        checks.append((limits.per_account, account))
        if limits.per_address is not None:
            checks.append((limits.per_address, caller.address))
    return checks


async def refusal(
    limiter: RateLimiter, limits: GuessLimits, account: str, caller: Caller
) -> Decision:
    """May `caller` guess against `account` now? Counts nothing."""
    return await limiter.hit_all(_checks(limits, account, caller), consume=False)


async def failed(
    limiter: RateLimiter, limits: GuessLimits, account: str, caller: Caller
) -> Decision:
    """Count a wrong guess on every limit that applies to `caller`.

    Returns the account-wide decision for unknown clients (allowed with
    `remaining == 0` when this guess used up the account's budget: a lockout of
    unknown clients worth an audit event); for a known device its own count.
    """
    checks = _checks(limits, account, caller)
    decisions = [await limiter.hit(limit, key) for limit, key in checks]
    return decisions[1] if len(decisions) > 1 else decisions[0]


async def succeeded(
    limiter: RateLimiter, limits: GuessLimits, account: str, caller: Caller
) -> None:
    """The right secret: the caller's own failures against the account are forgotten
    (the account-wide count of unknown clients stays: it bounds a distributed guesser)."""
    await limiter.clear(limits.per_client_of_account, f"{account}|{caller.key()}")
