"""`GET /documents/invoices/<token>`: an invoice PDF for the login a signed link was made for.

Why a signed link and not a cookie route: README "Invoice PDFs". Every refusal
(tampered, expired, another customer's, a deleted profile, a document missing
from the store) is the same 404 with the same body, and counts against the
client address like an unknown link, so links cannot be probed.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse

import clock
from documents.store import open_store
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


def _not_found() -> Response:
    return PlainTextResponse("Not found.", status_code=404, headers=PRIVATE)


async def download_invoice(request: Request) -> Response:
    settings: Settings = request.app.state.settings
    address = client_address(request, settings.trusted_proxies)
    limiter = rate_limiter(request.app.state, settings)
    failures = Limits.link_failures_per_address(settings)
    if not (await limiter.peek(failures, address)).allowed:
        return PlainTextResponse("Too many requests.", status_code=429, headers=PRIVATE)
    token = request.path_params["token"]
    found = (
        await document_for_link(token, settings=settings, now=clock.now())
        if len(token) < 200
        else None
    )
    store = open_store(settings)
    if found is None or not await store.exists(found[0].storage_key):
        await limiter.hit(failures, address)
        return _not_found()
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
