"""The GraphQL schema: types, inputs and errors of each area; `root` assembles them.

Importing `schema.errors` (as every resolver does) must not build the schema, so
the root types are loaded only when asked for.
"""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    if name in ("Query", "Mutation", "build_schema"):
        from schema import root

        return getattr(root, name)
    raise AttributeError(name)
