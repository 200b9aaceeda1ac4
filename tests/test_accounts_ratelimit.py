"""The one rate-limit mechanism: in the process, or in Redis shared by all processes.

Redis tests use database 15 and a random key prefix, and remove their keys.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import uuid

import pytest
import pytest_asyncio

from ops.metrics import REGISTRY
from security.ratelimit import Limit, MemoryRateLimiter, RedisRateLimiter, build_rate_limiter
from tests.builders import LOGIN, PASSWORD, make_customer, register
from tests.conftest import free_port, gql

REDIS_URL = os.environ.get("REDIS_TEST_URL", "redis://127.0.0.1:6379/15")
FIVE_PER_MINUTE = Limit("test-five-per-minute", 5, 60)
COOLDOWN = Limit("test-cooldown", 1, 300)


async def _redis_limiter(prefix: str) -> RedisRateLimiter:
    limiter = RedisRateLimiter(REDIS_URL, prefix=prefix)
    try:
        await limiter._redis.ping()
    except Exception:
        await limiter.aclose()
        if os.environ.get("REDIS_TEST_URL"):
            raise
        pytest.skip(f"Redis not reachable at {REDIS_URL} (set REDIS_TEST_URL to require it)")
    return limiter


async def _remove_keys(prefix: str) -> None:
    limiter = RedisRateLimiter(REDIS_URL, prefix=prefix)
    keys = [key async for key in limiter._redis.scan_iter(f"{prefix}:*")]
    if keys:
        await limiter._redis.delete(*keys)
    await limiter.aclose()


@pytest_asyncio.fixture
async def prefix():
    name = f"kp-test:{uuid.uuid4().hex}"
    yield name
    with contextlib.suppress(Exception):
        await _remove_keys(name)


@pytest_asyncio.fixture(params=["memory", "redis"])
async def limiter(request, prefix):
    if request.param == "memory":
        yield MemoryRateLimiter()
        return
    redis_limiter = await _redis_limiter(prefix)
    yield redis_limiter
    await redis_limiter.aclose()


@pytest.fixture
def frozen(time_machine):
    time_machine.move_to(dt.datetime(2025, 3, 1, 12, 0, tzinfo=dt.UTC), tick=False)
    return time_machine


async def test_allows_up_to_the_limit_then_says_how_long_to_wait(limiter, frozen):
    decisions = [await limiter.hit(FIVE_PER_MINUTE, "a") for _ in range(5)]
    assert all(d.allowed for d in decisions)
    assert [d.remaining for d in decisions] == [4, 3, 2, 1, 0]
    frozen.shift(10)
    refused = await limiter.hit(FIVE_PER_MINUTE, "a")
    assert not refused.allowed
    assert refused.limited_by == "test-five-per-minute"
    assert refused.retry_after == pytest.approx(50)
    assert refused.retry_after_seconds == 50


async def test_window_slides_one_hit_at_a_time(limiter, frozen):
    for second in range(5):
        await limiter.hit(FIVE_PER_MINUTE, "a")
        frozen.shift(1)
    frozen.shift(55)  # the first hit (at 0 s) has left the minute, the second (1 s) not yet
    assert (await limiter.hit(FIVE_PER_MINUTE, "a")).allowed
    refused = await limiter.hit(FIVE_PER_MINUTE, "a")
    assert not refused.allowed and refused.retry_after == pytest.approx(1)


async def test_limit_of_one_is_an_exact_cooldown(limiter, frozen):
    assert (await limiter.hit(COOLDOWN, "x")).allowed
    frozen.shift(299)
    assert (await limiter.hit(COOLDOWN, "x")).retry_after == pytest.approx(1)
    frozen.shift(1)
    assert (await limiter.hit(COOLDOWN, "x")).allowed


async def test_keys_and_purposes_count_apart(limiter, frozen):
    assert (await limiter.hit(COOLDOWN, "x")).allowed
    assert (await limiter.hit(COOLDOWN, "y")).allowed
    assert (await limiter.hit(Limit("other", 1, 300), "x")).allowed
    assert not (await limiter.hit(COOLDOWN, "x")).allowed


async def test_peek_counts_nothing_and_clear_forgets(limiter, frozen):
    for _ in range(3):
        assert (await limiter.peek(COOLDOWN, "x")).allowed
    await limiter.hit(COOLDOWN, "x")
    assert not (await limiter.peek(COOLDOWN, "x")).allowed
    await limiter.clear(COOLDOWN, "x")
    assert (await limiter.hit(COOLDOWN, "x")).allowed


async def test_hit_all_counts_on_every_limit_or_on_none(limiter, frozen):
    daily = Limit("test-daily", 2, 86400)
    checks = [(COOLDOWN, "x"), (daily, "x")]
    assert (await limiter.hit_all(checks)).allowed
    refused = await limiter.hit_all(checks)
    assert not refused.allowed and refused.limited_by == "test-cooldown"
    # the refused hit did not count on the daily limit
    frozen.shift(300)
    assert (await limiter.hit_all(checks)).allowed
    frozen.shift(300)
    refused = await limiter.hit_all(checks)
    assert refused.limited_by == "test-daily"
    assert refused.retry_after == pytest.approx(86400 - 600)


async def test_each_refusal_is_counted_once_by_purpose(limiter, frozen):
    # given a key at its limit
    purpose = f"test-metric-{uuid.uuid4().hex[:8]}"
    limit = Limit(purpose, 1, 300)
    await limiter.hit(limit, "x")

    # when it is refused twice, once when counting and once when only asking
    await limiter.hit(limit, "x")
    await limiter.peek(limit, "x")

    # then the metric counts both under the limit's purpose
    assert REGISTRY.get_sample_value("kp_rate_limit_hits_total", {"purpose": purpose}) == 2


async def test_refused_logins_show_in_the_metrics(client, mailbox, settings):
    # given a login whose wrong passwords reached the limit
    settings.login_failures_per_login = 1
    await register(client, mailbox, await make_customer())
    client.cookies.clear()  # an unknown client: the registering browser's device would pass
    wrong = {"email": "erika@example.org", "password": "Wrong#1x"}
    await gql(client, LOGIN, wrong)
    before = await _metric(client, 'kp_rate_limit_hits_total{purpose="login-failures-per-login"}')

    # when the next attempt is refused
    refused = await gql(client, LOGIN, wrong)

    # then /metrics counts it
    assert refused.errors[0]["extensions"]["code"] == "RATE_LIMITED"
    after = await _metric(client, 'kp_rate_limit_hits_total{purpose="login-failures-per-login"}')
    assert after == before + 1


async def _metric(client, name: str) -> float:
    text = (await client.get("/metrics")).text
    lines = [line for line in text.splitlines() if line.startswith(name + " ")]
    return float(lines[0].split()[-1]) if lines else 0.0


async def test_redis_stores_no_plain_keys(prefix, frozen):
    limiter = await _redis_limiter(prefix)
    try:
        await limiter.hit(COOLDOWN, "erika@example.org")
        keys = [k.decode() async for k in limiter._redis.scan_iter(f"{prefix}:*")]
    finally:
        await limiter.aclose()
    assert len(keys) == 1
    assert "erika" not in keys[0] and keys[0].startswith(f"{prefix}:test-cooldown:")


async def test_redis_counts_are_shared_by_processes(prefix, frozen):
    one, two = await _redis_limiter(prefix), await _redis_limiter(prefix)
    try:
        assert (await one.hit(COOLDOWN, "x")).allowed
        assert not (await two.hit(COOLDOWN, "x")).allowed
    finally:
        await one.aclose()
        await two.aclose()


async def test_redis_down_falls_back_to_counting_in_the_process(caplog, frozen):
    # given a limiter whose Redis does not answer
    limiter = RedisRateLimiter(f"redis://127.0.0.1:{free_port()}/15", prefix="kp-test:down")
    try:
        # then the limits still hold, counted in the process, and a warning says why
        assert (await limiter.hit(COOLDOWN, "x")).allowed
        assert not (await limiter.hit(COOLDOWN, "x")).allowed
        assert not (await limiter.peek(COOLDOWN, "x")).allowed
    finally:
        await limiter.aclose()
    assert "Redis unreachable" in caplog.text


async def test_login_throttling_lives_in_redis_when_configured(
    app, client, mailbox, settings, prefix
):
    # given the service configured with Redis
    redis_limiter = await _redis_limiter(prefix)
    settings.redis_url = REDIS_URL
    settings.rate_limit_prefix = prefix
    settings.login_failures_per_login = 2
    app.state.rate_limiter = build_rate_limiter(REDIS_URL, prefix=prefix)
    customer = await make_customer()
    await register(client, mailbox, customer)
    client.cookies.clear()  # an unknown client: the registering browser's device would pass
    try:
        # when a login fails twice
        for _ in range(2):
            await gql(client, LOGIN, {"email": "erika@example.org", "password": "Wrong#1x"})

        # then the next attempt is refused
        result = await gql(client, LOGIN, {"email": "erika@example.org", "password": PASSWORD})
        assert result.errors[0]["extensions"]["code"] == "RATE_LIMITED"
        # and another process sharing the Redis sees the same count
        limit = Limit("login-failures-per-login", 2, settings.rate_window_seconds)
        assert not (await redis_limiter.peek(limit, "erika@example.org")).allowed
    finally:
        await redis_limiter.aclose()
        await app.state.rate_limiter.aclose()
