"""Work a request starts and does not wait for, so that its answer takes the same time
whatever that work is (e.g. a reset mail for a known address, none for an unknown one).

Tasks are kept referenced until done (asyncio keeps only weak references), their
failures are logged, and the app's lifespan waits for them before the database
closes (`drain`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

log = logging.getLogger("kundenportal.tasks")
_running: set[asyncio.Task[Any]] = set()


def _finished(task: asyncio.Task[Any]) -> None:
    _running.discard(task)
    if not task.cancelled() and (error := task.exception()) is not None:
        log.error(
            "background task %s failed: %s",
            task.get_name(),
            type(error).__name__,
            exc_info=(type(error), error, error.__traceback__),
        )


def spawn(work: Coroutine[Any, Any, Any], *, name: str) -> asyncio.Task[Any]:
    """Run `work` after the current request, referenced until it is done."""
    task = asyncio.get_running_loop().create_task(work, name=name)
    _running.add(task)
    task.add_done_callback(_finished)
    return task


async def drain(within: float = 10.0) -> None:
    """Wait up to `within` seconds for the tasks of this event loop to finish."""
    loop = asyncio.get_running_loop()
    mine = [task for task in _running if task.get_loop() is loop]
    if mine:
        await asyncio.wait(mine, timeout=within)
