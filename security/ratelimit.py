"""Rate limits: one mechanism for everything guessable or floodable.

A `Limit` names a purpose (`login-failures-per-login`, `contact-per-address`,
`persisted-query-registration`, …), how many hits it allows and in what
window. `hit(limit, key)` counts one hit for `key` under that purpose and says
whether it was allowed and, if not, how long to wait. `hit_all` checks several
limits together and counts on all of them only if every one allows it; with
`consume=False` it only asks.

Counting is a sliding log: each hit is a timestamp, a hit is allowed while
fewer than `limit` timestamps lie inside the last `window` seconds, and
`retry_after` is exactly when enough of them leave the window. So a limit of
1 per 5 minutes is a precise cooldown.

Where the counts live:
- in the process (`MemoryRateLimiter`), the default: enough for one process;
  with several processes each counts on its own (limits then apply per process).
- in Redis (`RedisRateLimiter`) when `REDIS_URL` is set: shared by all
  processes, atomic by a Lua script. Each process also counts its own hits in
  memory, and a hit is refused when either count says so: if Redis cannot be
  reached (the limiter logs a warning and tries Redis again after a pause), or
  comes back empty after a restart or failover, a throttled client stays
  throttled by what its process counted. The limits stay closed rather than
  open; with several processes, a client spread over them gets at most the
  limit per process while Redis is away.

Keys are hashed before they are stored, so Redis holds no e-mail or client
addresses. Time is `clock.now()`, so a test can move the clock. Every refusal
is counted in the `kp_rate_limit_hits_total` metric, by purpose.

`Limits` lists every limit the service applies, so they can be reviewed in
one place; the app's one limiter is `rate_limiter(app.state, settings)`.
"""

from __future__ import annotations

import hashlib
import logging
import math
import secrets
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import clock
from ops.metrics import RATE_LIMIT_HITS

if TYPE_CHECKING:
    from settings import Settings

log = logging.getLogger("kundenportal.ratelimit")

DAY = 24 * 3600.0


@dataclass(frozen=True)
class Limit:
    """At most `limit` hits per `window` seconds for one key of this purpose."""

    purpose: str
    limit: int
    window: float


@dataclass(frozen=True)
class GuessLimits:
    """The limits of one kind of guess against an account (see `security.throttle`)."""

    per_client_of_account: Limit
    """Failures of one client (known device or address) against one account."""
    per_account: Limit
    """Failures of all unknown clients together against one account."""
    per_address: Limit | None = None
    """Failures of one unknown client address across accounts."""


@dataclass(frozen=True)
class Decision:
    allowed: bool
    retry_after: float = 0.0
    """Seconds until the hit would be allowed (0 when allowed)."""
    limited_by: str | None = None
    """Purpose of the limit that refused, when one did."""
    remaining: int = 0
    """Hits left under the tightest limit after this one (when allowed)."""

    @property
    def retry_after_seconds(self) -> int:
        """Whole seconds to wait, rounded up; what a Retry-After header says."""
        return max(1, math.ceil(self.retry_after)) if not self.allowed else 0


def _digest(purpose: str, key: str) -> str:
    return purpose + ":" + hashlib.sha256(key.encode()).hexdigest()[:32]


class RateLimiter:
    """The interface every area uses; see the module docstring."""

    async def hit_all(
        self, checks: Sequence[tuple[Limit, str]], *, cost: int = 1, consume: bool = True
    ) -> Decision:
        """Count `cost` hits for every (limit, key) if all of them allow it, else none."""
        decision = await self._decide(checks, cost=cost, consume=consume)
        if not decision.allowed and decision.limited_by is not None:
            RATE_LIMIT_HITS.labels(decision.limited_by).inc()
        return decision

    async def _decide(
        self, checks: Sequence[tuple[Limit, str]], *, cost: int, consume: bool
    ) -> Decision:
        raise NotImplementedError

    async def clear(self, limit: Limit, key: str) -> None:
        raise NotImplementedError

    async def hit(self, limit: Limit, key: str, *, cost: int = 1) -> Decision:
        """Count `cost` hits for `key`, if allowed."""
        return await self.hit_all([(limit, key)], cost=cost)

    async def peek(self, limit: Limit, key: str) -> Decision:
        """Would one more hit be allowed? Counts nothing."""
        return await self.hit_all([(limit, key)], consume=False)

    async def aclose(self) -> None:
        return None


class MemoryRateLimiter(RateLimiter):
    """Counts in this process: a deque of timestamps per (purpose, key)."""

    SWEEP_EVERY = 10_000

    def __init__(self) -> None:
        self._hits: dict[str, tuple[float, deque[float]]] = {}
        self._since_sweep = 0

    def _entries(self, name: str, window: float, now: float) -> deque[float]:
        _, entries = self._hits.get(name, (window, deque()))
        while entries and entries[0] <= now - window:
            entries.popleft()
        self._hits[name] = (window, entries)
        return entries

    async def _decide(
        self, checks: Sequence[tuple[Limit, str]], *, cost: int, consume: bool
    ) -> Decision:
        now = clock.now().timestamp()
        worst: Decision | None = None
        remaining: int | None = None
        for limit, key in checks:
            entries = self._entries(_digest(limit.purpose, key), limit.window, now)
            if len(entries) + cost > limit.limit:
                need = len(entries) + cost - limit.limit
                if need <= len(entries):
                    wait = entries[need - 1] + limit.window - now
                else:  # more than the limit at once: never allowed, say a whole window
                    wait = limit.window
                if worst is None or wait > worst.retry_after:
                    worst = Decision(False, wait, limit.purpose)
            else:
                left = limit.limit - len(entries) - (cost if consume else 0)
                remaining = left if remaining is None else min(remaining, left)
        if worst is not None:
            return worst
        if consume and cost > 0:
            for limit, key in checks:
                self._hits[_digest(limit.purpose, key)][1].extend([now] * cost)
            self._sweep(now)
        return Decision(True, remaining=remaining or 0)

    async def clear(self, limit: Limit, key: str) -> None:
        self._hits.pop(_digest(limit.purpose, key), None)

    def _sweep(self, now: float) -> None:
        """Forget keys whose hits all left their window, so memory stays bounded."""
        self._since_sweep += 1
        if self._since_sweep < self.SWEEP_EVERY:
            return
        self._since_sweep = 0
        for name, (window, entries) in list(self._hits.items()):
            if not entries or entries[-1] <= now - window:
                del self._hits[name]


# KEYS: one sorted set per limit. ARGV: now, cost, consume, member, then limit and
# window for each key. Returns {allowed, retry_after (string), index of the refusing
# key, remaining}. Checks every key first, then adds to all: all or nothing.
_LUA = """
local now = tonumber(ARGV[1])
local cost = tonumber(ARGV[2])
local consume = ARGV[3] == '1'
local member = ARGV[4]
local worst, worst_index, remaining = -1, 0, -1
for i = 1, #KEYS do
  local limit = tonumber(ARGV[3 + 2 * i])
  local window = tonumber(ARGV[4 + 2 * i])
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now - window)
  local count = redis.call('ZCARD', KEYS[i])
  if count + cost > limit then
    local need = count + cost - limit
    local wait = window
    if need <= count then
      local entry = redis.call('ZRANGE', KEYS[i], need - 1, need - 1, 'WITHSCORES')
      wait = tonumber(entry[2]) + window - now
    end
    if wait > worst then
      worst = wait
      worst_index = i
    end
  else
    local left = limit - count
    if consume then left = left - cost end
    if remaining < 0 or left < remaining then remaining = left end
  end
end
if worst >= 0 then
  return {0, tostring(worst), worst_index, 0}
end
if consume and cost > 0 then
  for i = 1, #KEYS do
    local window = tonumber(ARGV[4 + 2 * i])
    for c = 1, cost do
      redis.call('ZADD', KEYS[i], now, member .. ':' .. c)
    end
    redis.call('PEXPIRE', KEYS[i], math.ceil(window * 1000))
  end
end
return {1, '0', 0, remaining}
"""


class RedisRateLimiter(RateLimiter):
    """Counts in Redis, shared by all processes; in-process counts while Redis is down."""

    RETRY_REDIS_AFTER = 10.0

    def __init__(self, url: str, *, prefix: str = "kp:rl", timeout: float = 0.5) -> None:
        import redis.asyncio as redis

        self.prefix = prefix
        self._redis = redis.Redis.from_url(
            url, socket_timeout=timeout, socket_connect_timeout=timeout
        )
        self._script = self._redis.register_script(_LUA)
        self.fallback = MemoryRateLimiter()
        self._down_until = 0.0

    def _key(self, limit: Limit, key: str) -> str:
        return f"{self.prefix}:{_digest(limit.purpose, key)}"

    def _redis_down(self, error: Exception) -> None:
        if time.monotonic() >= self._down_until:
            log.warning(
                "Redis unreachable for rate limits (%s); counting in this process for now",
                type(error).__name__,
            )
        self._down_until = time.monotonic() + self.RETRY_REDIS_AFTER

    async def _decide(
        self, checks: Sequence[tuple[Limit, str]], *, cost: int, consume: bool
    ) -> Decision:
        if not checks:
            return Decision(True)
        if time.monotonic() < self._down_until:
            return await self.fallback._decide(checks, cost=cost, consume=consume)
        local = await self.fallback._decide(checks, cost=cost, consume=False)
        args: list[Any] = [
            repr(clock.now().timestamp()),
            cost,
            "1" if consume else "0",
            secrets.token_hex(8),
        ]
        for limit, _ in checks:
            args += [limit.limit, repr(float(limit.window))]
        try:
            allowed, wait, index, remaining = await self._script(
                keys=[self._key(limit, key) for limit, key in checks], args=args
            )
        except Exception as error:  # any Redis or socket failure: never open the limits
            self._redis_down(error)
            return await self.fallback._decide(checks, cost=cost, consume=consume)
        if not int(allowed):
            return Decision(False, float(wait), checks[int(index) - 1][0].purpose)
        if not local.allowed:  # Redis forgot (restarted empty, failed over): this process did not
            return local
        if consume:
            await self.fallback._decide(checks, cost=cost, consume=True)
        return Decision(True, remaining=max(int(remaining), 0))

    async def clear(self, limit: Limit, key: str) -> None:
        await self.fallback.clear(limit, key)
        try:
            await self._redis.delete(self._key(limit, key))
        except Exception as error:
            self._redis_down(error)

    async def aclose(self) -> None:
        await self._redis.aclose()


def build_rate_limiter(
    redis_url: str | None, *, prefix: str = "kp:rl", timeout: float = 0.5
) -> RateLimiter:
    """Redis when a URL is configured, otherwise counts in this process."""
    if not redis_url:
        return MemoryRateLimiter()
    return RedisRateLimiter(redis_url, prefix=prefix, timeout=timeout)


def rate_limiter(state: Any, settings: Settings) -> RateLimiter:
    """The app's one limiter, made by the lifespan (or on first use) and kept on `app.state`.

    `state` is the Starlette app's `state` (`request.app.state`), so each app,
    and each test's app, has its own counts.
    """
    limiter = getattr(state, "rate_limiter", None)
    if limiter is None:
        limiter = build_rate_limiter(
            settings.redis_url,
            prefix=settings.rate_limit_prefix,
            timeout=settings.redis_timeout_seconds,
        )
        state.rate_limiter = limiter
    return limiter


class Limits:
    """Every limit the service applies, from settings: one place to review them all."""

    @staticmethod
    def login_failures_per_login(s: Settings) -> Limit:
        """Wrong passwords per login from unknown clients, at login and at re-authentication
        (beyond it unknown clients are refused; known devices are not)."""
        return Limit("login-failures-per-login", s.login_failures_per_login, s.rate_window_seconds)

    @staticmethod
    def login_guesses(s: Settings) -> GuessLimits:
        """Wrong passwords: per login and client, per login (unknown clients), per address."""
        return GuessLimits(
            Limit(
                "login-failures-per-client-of-login",
                s.login_failures_per_client_of_login,
                s.rate_window_seconds,
            ),
            Limits.login_failures_per_login(s),
            Limits.login_failures_per_address(s),
        )

    @staticmethod
    def second_factor_guesses(s: Settings) -> GuessLimits:
        """Wrong authenticator-app codes, recovery codes and passkey answers: per login and
        client, per login (unknown clients), per client address (with wrong passwords')."""
        window = s.rate_window_seconds
        return GuessLimits(
            Limit(
                "second-factor-failures-per-client-of-login",
                s.second_factor_failures_per_client_of_login,
                window,
            ),
            Limit("second-factor-failures-per-login", s.second_factor_failures_per_login, window),
            Limit("second-factor-failures-per-address", s.login_failures_per_address, window),
        )

    @staticmethod
    def passkey_logins_per_address(s: Settings) -> Limit:
        """Passkey logins started per client address: each stores a challenge."""
        return Limit(
            "passkey-logins-per-address", s.passkey_logins_per_address, s.rate_window_seconds
        )

    @staticmethod
    def pin_guesses(s: Settings) -> GuessLimits:
        """Wrong PINs against one PIN: per client (`pin_max_attempts`), all unknown clients
        together (`pin_attempts_per_pin`); the per-address limit counts every entry."""
        window = s.pin_valid_minutes * 60
        return GuessLimits(
            Limit("pin-failures-per-client-of-pin", s.pin_max_attempts, window),
            Limit("pin-failures-per-pin", s.pin_attempts_per_pin, window),
        )

    @staticmethod
    def claim_guesses(s: Settings) -> GuessLimits:
        """Wrong addCustomerNumber proofs: per login and client, per login (unknown
        clients), per client address."""
        window = s.rate_window_seconds
        return GuessLimits(
            Limit(
                "claim-failures-per-client-of-login",
                s.customer_claim_failures_per_client_of_login,
                window,
            ),
            Limits.claim_failures_per_login(s),
            Limit("claim-failures-per-address", s.customer_claim_failures_per_address, window),
        )

    @staticmethod
    def login_failures_per_address(s: Settings) -> Limit:
        return Limit(
            "login-failures-per-address", s.login_failures_per_address, s.rate_window_seconds
        )

    @staticmethod
    def register_per_address(s: Settings) -> Limit:
        return Limit("register-per-address", s.register_attempts_per_address, 3600)

    @staticmethod
    def proof_guesses(s: Settings) -> GuessLimits:
        """Wrong invoice or meter numbers given for one customer number at registration:
        per customer number and client address, per customer number from all clients."""
        return GuessLimits(
            Limit("proof-failures-per-client-of-customer", s.proof_failures_per_customer, DAY),
            Limit("proof-failures-per-customer", s.proof_failures_per_customer_all_clients, DAY),
        )

    @staticmethod
    def claim_failures_per_login(s: Settings) -> Limit:
        """Wrong customer claims of one login from unknown clients (addCustomerNumber)."""
        return Limit(
            "claim-failures-per-login", s.customer_claim_failures_per_login, s.rate_window_seconds
        )

    @staticmethod
    def pin_attempts_per_address(s: Settings) -> Limit:
        return Limit("pin-attempts-per-address", s.pin_attempts_per_address, s.rate_window_seconds)

    @staticmethod
    def link_failures_per_address(s: Settings) -> Limit:
        return Limit(
            "link-failures-per-address", s.link_failures_per_address, s.rate_window_seconds
        )

    @staticmethod
    def contact_per_address(s: Settings) -> Limit:
        return Limit("contact-per-address", s.contact_messages_per_address, 3600)

    @staticmethod
    def mail_cooldown(kind: str, seconds: float) -> Limit:
        """One mail of `kind` per cooldown (e.g. a new PIN only after `pin_resend_minutes`)."""
        return Limit(f"mail-cooldown:{kind}", 1, seconds)

    @staticmethod
    def mails_per_address(s: Settings, kind: str) -> Limit:
        return Limit(f"mail-per-address:{kind}", s.mails_per_address_per_day, DAY)

    @staticmethod
    def mails_per_client(s: Settings, kind: str) -> Limit:
        return Limit(f"mail-per-client:{kind}", s.mails_per_client_per_day, DAY)

    @staticmethod
    def persisted_query_registrations_per_address(s: Settings) -> Limit:
        """New APQ hashes per client address: each is parsed, validated and stored."""
        return Limit(
            "persisted-query-registration",
            s.apq_registrations_per_address,
            s.apq_registration_window_seconds,
        )
