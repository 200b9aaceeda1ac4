"""bcrypt, run off the event loop in a bounded pool so that logins never stall other requests."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

import bcrypt

log = logging.getLogger("kundenportal.passwords")

BCRYPT_MAX_BYTES = 72


def yield_to_requests(nice: int) -> None:
    """Run this bcrypt thread at a lower CPU priority than the event loop (Linux only).

    bcrypt releases the GIL, so a hash never blocks the event loop, but on a
    machine with few cores the hashing threads still take the cores away from
    it: the load benchmark measured the dashboard's p99 at 2-3 times its
    value while 20 clients kept logging in. With a higher nice value the
    kernel gives the event loop (and the database) the CPU whenever they need
    it, and bcrypt the rest. Linux sets the nice value per thread; elsewhere the
    same call would lower the whole process, so it is left alone.
    """
    if nice <= 0 or not sys.platform.startswith("linux"):
        return
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), nice)
    except OSError as error:
        log.warning("bcrypt threads keep their priority: %s", error)


class HashingBusy(Exception):
    """More hashes are waiting than the pool takes: the client should try again shortly."""


class PasswordHasher:
    """A small thread pool for bcrypt (it releases the GIL), with a bounded queue."""

    def __init__(self, rounds: int, workers: int, queue_limit: int, nice: int = 0) -> None:
        self.rounds = rounds
        self.queue_limit = queue_limit
        self._pool = ThreadPoolExecutor(
            max_workers=workers,
            thread_name_prefix="bcrypt",
            initializer=yield_to_requests,
            initargs=(nice,),
        )
        self._pending = 0
        # A hash of a random password: checking against it makes an unknown e-mail
        # cost the same time as a wrong password.
        self._dummy = bcrypt.hashpw(b"no-such-login", bcrypt.gensalt(rounds)).decode()

    async def _run(self, fn, *args):
        if self._pending >= self.queue_limit:
            raise HashingBusy
        self._pending += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)
        finally:
            self._pending -= 1

    async def hash(self, password: str) -> str:
        salt = bcrypt.gensalt(self.rounds)
        hashed: bytes = await self._run(bcrypt.hashpw, password.encode(), salt)
        return hashed.decode()

    async def verify(self, password: str, hashed: str | None) -> bool:
        """Constant work whether or not there is a hash to check against."""
        encoded = password.encode()
        if len(encoded) > BCRYPT_MAX_BYTES:
            encoded = encoded[:BCRYPT_MAX_BYTES]
            hashed = None
        ok: bool = await self._run(bcrypt.checkpw, encoded, (hashed or self._dummy).encode())
        return ok and hashed is not None

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
