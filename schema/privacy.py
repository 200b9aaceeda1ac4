"""GDPR right of access and portability (R18) in the schema."""

from __future__ import annotations

import strawberry
from strawberry.scalars import JSON

from resolvers.auth import require_login
from resolvers.privacy import export_login_data
from schema.context import Info


@strawberry.type
class PrivacyQuery:
    @strawberry.field(
        description="All data held about the logged-in login and its customer numbers, as one "
        "JSON document (GDPR right of access and portability). Contains no password hash, "
        "token or PIN. Its shape is the JSON Schema docs/my-data-export.schema.json: camelCase "
        "keys, enum values UPPER_SNAKE as in this API."
    )
    async def my_data_export(self, info: Info) -> JSON:
        # strawberry's JSON scalar is typed as a NewType of object; a dict is what it carries.
        return await export_login_data(require_login(info.context))  # type: ignore[return-value]
