"""The GraphQL schema: each area's types, inputs, enums, payloads and its adapter from
the operations' `Outcome`s; `root` assembles Query and Mutation."""

from schema.root import Mutation, Query, build_schema

__all__ = ["Mutation", "Query", "build_schema"]
