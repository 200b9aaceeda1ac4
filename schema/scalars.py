"""The custom scalars as published: strawberry's own, with a description that says the
format and `@specifiedBy` pointing at the specification, so that code generators can type them."""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal

from strawberry.file_uploads.scalars import Upload, UploadDefinition
from strawberry.schema.types.base_scalars import (
    DateDefinition,
    DateTimeDefinition,
    DecimalDefinition,
)
from strawberry.types.scalar import ScalarDefinition

RFC_3339_FULL_DATE = "https://www.rfc-editor.org/rfc/rfc3339#section-5.6"
RFC_3339_DATE_TIME = "https://www.rfc-editor.org/rfc/rfc3339#section-5.6"
# Python's `str(Decimal)` is the General Decimal Arithmetic specification's to-scientific-string.
DECIMAL_STRING = "https://speleotrove.com/decimal/daconvs.html#reftostr"
MULTIPART_REQUEST = "https://github.com/jaydenseric/graphql-multipart-request-spec"

SCALAR_OVERRIDES: dict[object, ScalarDefinition] = {
    dt.date: dataclasses.replace(
        DateDefinition,
        description="A calendar date without time zone, `YYYY-MM-DD` (RFC 3339 full-date, "
        "ISO 8601), e.g. `2026-12-02`.",
        specified_by_url=RFC_3339_FULL_DATE,
    ),
    dt.datetime: dataclasses.replace(
        DateTimeDefinition,
        description="A moment with its UTC offset (RFC 3339 date-time, ISO 8601), e.g. "
        "`2026-12-02T11:57:00+00:00`; the API answers in UTC.",
        specified_by_url=RFC_3339_DATE_TIME,
    ),
    decimal.Decimal: dataclasses.replace(
        DecimalDefinition,
        description="An exact decimal number as a string, e.g. `1234.567` (General Decimal "
        "Arithmetic to-scientific-string). Input may also be a JSON number.",
        specified_by_url=DECIMAL_STRING,
    ),
    Upload: dataclasses.replace(
        UploadDefinition,
        description="A file sent beside the operation in a `multipart/form-data` request "
        "(GraphQL multipart request specification); `null` in the operation's variables.",
        specified_by_url=MULTIPART_REQUEST,
    ),
}
