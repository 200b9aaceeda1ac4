"""Multipart requests: files for `Upload` variables, as the GraphQL multipart request
specification describes them (the form of Apollo's and urql's upload links).

A multipart form is a "simple" request that browsers send across sites without a
preflight, with cookies: such a request must carry `Authorization` (a Bearer token,
which no foreign page has) or `X-CSRF-Token` (a header that forces a preflight; its
value is checked with the session's as for every cookie-authenticated mutation).
Its body may be larger than others (`UPLOAD_MAX_BODY_BYTES`, one photo); the
operation in it passes the same checks as any other (persisted documents, depth,
aliases, tokens, cost).
"""

from __future__ import annotations

import json
from typing import Any

from cross_web import AsyncHTTPRequestAdapter, HTTPException
from starlette.datastructures import Headers, UploadFile
from starlette.types import Scope

from settings import Settings

MULTIPART = "multipart/form-data"
MAX_FILES = 1
"""Files per request: one photo with one reading."""


def is_multipart(content_type: str | None) -> bool:
    return (content_type or "").split(";", 1)[0].strip().lower() == MULTIPART


def body_limit(scope: Scope, settings: Settings) -> int:
    """The largest body this request may have: an upload's for multipart, else the usual."""
    if is_multipart(Headers(scope=scope).get("content-type")):
        return settings.upload_max_body_bytes
    return settings.max_body_bytes


def has_csrf_proof(headers: Headers) -> bool:
    """A header a page on another site cannot send without a preflight the app refuses."""
    return "authorization" in headers or "x-csrf-token" in headers


async def parse_multipart(request: AsyncHTTPRequestAdapter) -> dict[str, Any]:
    """The operation of a multipart request with its files put into its variables."""
    try:
        form = await request.get_form_data()
    except Exception as error:  # python-multipart's and Starlette's parse errors
        raise HTTPException(400, "the multipart body cannot be parsed") from error
    operations = _json_field(form.form, "operations")
    mapping = _json_field(form.form, "map")
    if not isinstance(operations, dict):
        raise HTTPException(400, "`operations` must be one operation (a JSON object)")
    files = {key: value for key, value in form.files.items() if isinstance(value, UploadFile)}
    if len(files) > MAX_FILES:
        raise HTTPException(400, f"at most {MAX_FILES} file(s) per request")
    if not isinstance(mapping, dict) or not all(
        isinstance(paths, list) and all(isinstance(p, str) for p in paths)
        for paths in mapping.values()
    ):
        raise HTTPException(400, "`map` must map file names to lists of paths")
    variables = operations.get("variables")
    for name, paths in mapping.items():
        if name not in files:
            raise HTTPException(400, f"file `{name}` named in `map` is missing")
        for path in paths:
            _place(variables, path, files[name])
    return operations


def _json_field(form: Any, name: str) -> Any:
    value = form.get(name)
    if not isinstance(value, str):
        raise HTTPException(400, f"the multipart body needs the field `{name}`")
    try:
        return json.loads(value)
    except ValueError as error:
        raise HTTPException(400, f"`{name}` is not JSON") from error


def _place(variables: Any, path: str, file: UploadFile) -> None:
    """Put `file` where `path` (`variables.input.photo`) says; only inside the variables,
    and only where the operation holds a null for it."""
    head, *keys = path.split(".")
    if head != "variables" or not keys:
        raise HTTPException(400, f"map path `{path}` must point into the variables")
    target = variables
    try:
        for key in keys[:-1]:
            target = target[int(key)] if isinstance(target, list) else target[key]
        last = keys[-1]
        if isinstance(target, list):
            index = int(last)
            if target[index] is not None:
                raise HTTPException(400, f"map path `{path}` must point to a null")
            target[index] = file
        elif isinstance(target, dict) and target.get(last) is None:
            target[last] = file
        else:
            raise HTTPException(400, f"map path `{path}` must point to a null")
    except (KeyError, IndexError, ValueError, TypeError) as error:
        raise HTTPException(400, f"map path `{path}` is not in the variables") from error
