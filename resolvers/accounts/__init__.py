"""The account area's operations: the whole life of a login (R1–R8, R16–R19).

One module per family: `registration`, `sessions`, `password`, `email`,
`profile`, `contact`, `language`; shared pieces in `common`, `links`, `notices`; the request
guards (login, rate limits, re-authentication) in `resolvers.auth`. The schema
binds them in `schema/accounts.py`.
"""

from __future__ import annotations

from resolvers.accounts.registration import purge_accounts, purge_expired_registrations

__all__ = ["purge_accounts", "purge_expired_registrations"]
