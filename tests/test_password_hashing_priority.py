"""bcrypt threads run below the event loop's CPU priority (found by the load benchmark)."""

from __future__ import annotations

import asyncio
import os
import sys
import threading

import pytest

from security.passwords import PasswordHasher

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="per-thread nice values are Linux's"
)


def own_nice() -> int:
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


async def nice_of_hashing_thread(hasher: PasswordHasher) -> int:
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(hasher._pool, own_nice)


async def test_hashing_threads_run_at_the_configured_nice_value():
    # given a hasher whose threads should yield the CPU to requests
    hasher = PasswordHasher(rounds=4, workers=1, queue_limit=4, nice=10)
    try:
        # when it hashes a password
        hashed = await hasher.hash("Passw0rd!x")

        # then the hash is fine and its thread runs at nice 10
        assert await hasher.verify("Passw0rd!x", hashed)
        assert await nice_of_hashing_thread(hasher) == 10
    finally:
        hasher.close()


async def test_the_event_loop_keeps_its_priority():
    # given a hasher with low-priority threads
    before = own_nice()
    hasher = PasswordHasher(rounds=4, workers=1, queue_limit=4, nice=10)
    try:
        # when it hashes
        await hasher.hash("Passw0rd!x")

        # then the thread running the event loop is as nice as before
        assert own_nice() == before
    finally:
        hasher.close()


async def test_nice_zero_leaves_the_threads_alone():
    hasher = PasswordHasher(rounds=4, workers=1, queue_limit=4, nice=0)
    try:
        assert await nice_of_hashing_thread(hasher) == own_nice()
    finally:
        hasher.close()
