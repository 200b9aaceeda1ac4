"""Facts about the API itself."""

from __future__ import annotations

import strawberry

API_VERSION = "1"


@strawberry.type
class MetaQuery:
    @strawberry.field(description="Version of this API; changes only with breaking changes.")
    def api_version(self) -> str:
        return API_VERSION
