"""bcrypt, run off the event loop in a bounded pool so that logins never stall other requests."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import bcrypt

BCRYPT_MAX_BYTES = 72


class HashingBusy(Exception):
    """More hashes are waiting than the pool takes: the client should try again shortly."""


class PasswordHasher:
    """A small thread pool for bcrypt (it releases the GIL), with a bounded queue."""

    def __init__(self, rounds: int, workers: int, queue_limit: int) -> None:
        self.rounds = rounds
        self.queue_limit = queue_limit
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="bcrypt")
        self._pending = 0
        # A hash of a random password: checking against it makes an unknown e-mail
        # cost the same time as a wrong password.
        self._dummy = bcrypt.hashpw(b"no-such-login", bcrypt.gensalt(rounds)).decode()

    async def _run(self, fn, *args):  # type: ignore[no-untyped-def]
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
