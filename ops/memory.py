"""The garbage collector's share of a request.

A serving process holds some 150,000 objects that live as long as it does: the
schema, the ORM's metadata, imported modules. CPython's full collections walk all
of them again and again (on a loaded benchmark one every few hundred requests,
each tens of milliseconds), although only what requests create can become garbage.
`startup_objects_frozen` collects once when startup is done and then freezes what
is left (`gc.freeze`): later collections walk only what came after, and the
process pays for its requests only. Garbage startup left is collected just before.
A frozen object is still freed when its last reference goes; only one that later
becomes part of an unreachable reference cycle stays until the context is left,
which unfreezes them all. Startup's objects live as long as the process, so that
is rare and bounded by what startup built.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def startup_objects_frozen(enabled: bool) -> Iterator[None]:
    if not enabled:
        yield
        return
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
