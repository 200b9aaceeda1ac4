"""`GET /documents/invoices/<token>`: an invoice PDF for the login a signed link was made for.

Why a signed link and not a cookie route: README "Invoice PDFs". Every refusal
(tampered, expired, another customer's, a deleted profile, a document missing
from the store) is the same 404 with the same body, and counts against the
client address like an unknown link, so links cannot be probed. Refusals are
JSON in the API's error shape (`errors[].extensions.code`: DOWNLOAD_LINK_INVALID,
RATE_LIMITED with `retryAfter`), in the language Accept-Language asks for.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

import clock
from documents.store import open_store
from i18n import negotiate_locale
from models.errors import ErrorCode
from models.money_codes import MoneyErrorCode
from models.request_codes import RequestErrorCode
from resolvers.money import document_file_name, document_for_link
from security.audit import actor_for_login, record_audit
from security.clients import client_address
from security.ratelimit import Limits, rate_limiter
from settings import Settings

PRIVATE = {
    "Cache-Control": "private, no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}


def _refused(request: Request, status: int, code: ErrorCode, **params: object) -> Response:
    """A refusal in the API's error shape, as a client switches on it."""
    locale = negotiate_locale(request.headers.get("accept-language"))
    error = {"message": code.message(locale, **params), "extensions": {"code": code.name, **params}}
    headers = dict(PRIVATE)
    if "retryAfter" in params:
        headers["Retry-After"] = str(params["retryAfter"])
    return JSONResponse({"errors": [error]}, status_code=status, headers=headers)


async def download_invoice(request: Request) -> Response:
    settings: Settings = request.app.state.settings
    address = client_address(request, settings.trusted_proxies)
    limiter = rate_limiter(request.app.state, settings)
    failures = Limits.link_failures_per_address(settings)
    decision = await limiter.peek(failures, address)
    if not decision.allowed:
        seconds = decision.retry_after_seconds
        return _refused(request, 429, RequestErrorCode.RATE_LIMITED, retryAfter=seconds)
    token = request.path_params["token"]
    found = (
        await document_for_link(token, settings=settings, now=clock.now())
        if len(token) < 200
        else None
    )
    store = open_store(settings)
    if found is None or not await store.exists(found[0].storage_key):
        await limiter.hit(failures, address)
        return _refused(request, 404, MoneyErrorCode.DOWNLOAD_LINK_INVALID)
    document, invoice, login_id = found
    await record_audit(
        "invoice.download",
        actor=actor_for_login(login_id),
        login_id=login_id,
        client_address=address,
        invoice_id=invoice.id,
    )
    return StreamingResponse(
        store.stream(document.storage_key),
        media_type="application/pdf",
        headers={
            **PRIVATE,
            "Content-Disposition": f'attachment; filename="{document_file_name(invoice)}"',
            "Content-Length": str(document.size),
        },
    )
