"""Money operations: budget billing requests, bank details changes, invoice documents.

The same for GraphQL and staff tools: each takes the customer (already loaded
through the login, so another login's customer cannot even be found), checks
its input with the pure rules of `models.money_rules`, works in one
transaction, queues its mail and records its audit event. A refusal comes
back as a `Problem` (code, the input field, parameters) and changes nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

import clock
from mailers import format_when, mask_address, queue_mail
from models import (
    BankAccount,
    BankChangeStatus,
    BankDetailsChange,
    BudgetChangeRequest,
    BudgetPlan,
    Customer,
    Invoice,
    InvoiceDocument,
    Login,
    PaymentMethod,
    RequestStatus,
)
from models.errors import Outcome, Problem
from models.money_codes import MoneyErrorCode
from models.money_rules import (
    CheckedIban,
    Projection,
    check_holder,
    check_iban,
    check_installment,
    due_dates,
    effective_due_date,
    euros,
    exportable_at,
    mandate_reference,
    mandate_text,
    parse_euros,
    project_balance,
)
from resolvers.auth import enforce_not_exceeded, limiter, reauthentication_problem, require_login
from resolvers.context import Context
from resolvers.customer_context import CustomerChoice, named_customer
from resolvers.loaders import (
    accounts_by_customer,
    documents_by_invoice,
    open_bank_changes_by_customer,
    pending_requests_by_customer,
    plans_by_customer,
)
from resolvers.pages import Keyset, Slice, newest_first_page
from security.audit import actor_for_login, record_audit
from security.bankdata import cipher_for
from security.ratelimit import Limits
from security.sessions import end_sessions
from security.signed_links import DocumentGrant, open_document_link, sign_document_link
from security.tokens import hash_secret, new_token
from settings import Settings


@dataclass(frozen=True)
class Actor:
    """Who acts and from where, for mails and the audit trail."""

    login: Login
    client_address: str = ""
    client: str = ""


# -------------------------------------------------------------------- budget billing


async def budget_plan(customer: Customer) -> BudgetPlan | None:
    return await BudgetPlan.filter(customer_id=customer.id).first()


async def shown_budget_plan(ctx: Context, customer: Customer) -> BudgetPlan | None:
    return await plans_by_customer(ctx).load(customer.id)


async def shown_pending_request(ctx: Context, customer_id: int) -> BudgetChangeRequest | None:
    return await pending_requests_by_customer(ctx).load(customer_id)


async def shown_payment_details(
    ctx: Context, customer: Customer
) -> tuple[BankAccount | None, BankDetailsChange | None]:
    """The account billing confirmed and the newest change it has not decided yet."""
    return (
        await accounts_by_customer(ctx).load(customer.id),
        await open_bank_changes_by_customer(ctx).load(customer.id),
    )


async def pending_budget_request(customer_id: int) -> BudgetChangeRequest | None:
    return await BudgetChangeRequest.filter(
        customer_id=customer_id, status=RequestStatus.PENDING
    ).first()


async def budget_requests(
    customer_id: int, first: int, after: Keyset | None
) -> Slice[BudgetChangeRequest]:
    """A page of the customer's change requests, newest first (a plan is read alone)."""
    query = BudgetChangeRequest.filter(customer_id=customer_id)
    return await newest_first_page(query, "created_at", first, after)


async def make_budget_request(
    customer: Customer,
    actor: Actor,
    amount: str,
    *,
    settings: Settings,
    today: dt.date,
    now: dt.datetime,
) -> BudgetChangeRequest | Problem:
    """Abschlagsanpassung: a new amount in whole euros within the plan's bounds, from the
    first due date at least BUDGET_CHANGE_LEAD_DAYS away; one pending request at a time."""
    plan = await budget_plan(customer)
    if plan is None:
        return Problem(MoneyErrorCode.NOT_FOUND, None)
    cents = parse_euros(amount)
    if isinstance(cents, Problem):
        return _on(cents, "amount")
    problem = check_installment(
        cents, minimum=plan.minimum_cents, maximum=plan.maximum_cents, current=plan.amount_cents
    )
    if problem is not None:
        return _on(problem, "amount")
    if await pending_budget_request(customer.id) is not None:
        return Problem(MoneyErrorCode.REQUEST_PENDING)
    effective_on = effective_due_date(
        due_dates(plan.first_due_on, plan.rhythm), today, settings.budget_change_lead_days
    )
    if effective_on is None:
        return Problem(MoneyErrorCode.NO_DUE_DATE)
    login = actor.login
    try:
        async with in_transaction():
            request = await BudgetChangeRequest.create(
                customer_id=customer.id,
                login_id=login.id,
                amount_cents=cents,
                previous_cents=plan.amount_cents,
                effective_on=effective_on,
                created_at=now,
            )
            await queue_mail(
                "budget_request_received",
                to=login.email,
                locale=login.locale,
                settings=settings,
                name=customer.name,
                customer_number=customer.number,
                amount=euros(cents),
                previous=euros(plan.amount_cents),
                effective_on=effective_on.strftime("%d.%m.%Y"),
            )
            await _audit("budget.request", actor, customer_id=customer.id, request_id=request.id)
    except IntegrityError:  # the partial unique index: a request made at the same moment
        return Problem(MoneyErrorCode.REQUEST_PENDING)
    return request


async def withdraw_budget_request(
    customer: Customer, actor: Actor, request_id: int, *, now: dt.datetime
) -> BudgetChangeRequest | Problem:
    """Withdraw a pending request of this customer; a decided one stays as it is."""
    request = await BudgetChangeRequest.filter(id=request_id, customer_id=customer.id).first()
    if request is None:
        return Problem(MoneyErrorCode.NOT_FOUND, ("requestId",))
    async with in_transaction():
        updated = await BudgetChangeRequest.filter(
            id=request.id, status=RequestStatus.PENDING
        ).update(status=RequestStatus.CANCELLED, closed_at=now)
        if not updated:
            return Problem(MoneyErrorCode.NOT_PENDING, ("requestId",))
        await _audit("budget.cancel", actor, customer_id=customer.id, request_id=request.id)
    await request.refresh_from_db()
    return request


# ---------------------------------------------------------------------- bank details


async def bank_account(customer: Customer) -> BankAccount | None:
    return await BankAccount.filter(customer_id=customer.id).first()


@dataclass(frozen=True)
class BankDetailsInput:
    method: PaymentMethod
    iban: str | None
    holder: str | None
    accepted_mandate_version: str | None


def check_bank_details(
    given: BankDetailsInput, settings: Settings
) -> tuple[CheckedIban | None, list[Problem]]:
    """Every problem of the input at once, each on its field."""
    refusals = []
    if given.method == PaymentMethod.TRANSFER:
        for name, value in (
            ("iban", given.iban),
            ("accountHolder", given.holder),
            ("acceptedMandateVersion", given.accepted_mandate_version),
        ):
            if value:
                refusals.append(Problem(MoneyErrorCode.NOT_ALLOWED_FOR_TRANSFER, (name,)))
        return None, refusals
    checked = None
    if not (given.iban or "").strip():
        refusals.append(Problem(MoneyErrorCode.REQUIRED, ("iban",)))
    else:
        result = check_iban(given.iban or "")
        if isinstance(result, Problem):
            refusals.append(_on(result, "iban"))
        else:
            checked = result
    if problem := check_holder(given.holder or ""):
        refusals.append(_on(problem, "accountHolder"))
    if given.accepted_mandate_version != settings.sepa_mandate_version:
        refusals.append(
            Problem(
                MoneyErrorCode.MANDATE_NOT_ACCEPTED,
                ("acceptedMandateVersion",),
                {"version": settings.sepa_mandate_version},
            )
        )
    return checked, refusals


async def _is_current(
    customer: Customer, given: BankDetailsInput, iban: CheckedIban | None, settings: Settings
) -> bool:
    account = await bank_account(customer)
    if account is None or account.method != given.method:
        return False
    if given.method == PaymentMethod.TRANSFER:
        return True
    if iban is None or account.iban_encrypted is None:
        return False
    same_iban = cipher_for(settings).decrypt(account.iban_encrypted) == iban.compact
    return same_iban and account.holder == (given.holder or "").strip()


@dataclass(frozen=True)
class BankChangeMade:
    change: BankDetailsChange
    mailed_to: str


async def make_bank_change(
    customer: Customer,
    actor: Actor,
    given: BankDetailsInput,
    *,
    settings: Settings,
    now: dt.datetime,
) -> BankChangeMade | list[Problem]:
    """A new account for SEPA direct debit (with the mandate accepted) or payment by transfer.

    The caller has re-authenticated. The change waits BANK_CHANGE_COOLING_OFF_HOURS
    before it is exported; the login's address gets a security notice with a link
    that stops it until then. A change still cooling off is superseded by this one.
    """
    iban, refusals = check_bank_details(given, settings)
    if refusals:
        return refusals
    if await _is_current(customer, given, iban, settings):
        return [Problem(MoneyErrorCode.NOTHING_CHANGED)]
    login = actor.login
    token = new_token()
    debit = given.method == PaymentMethod.DIRECT_DEBIT
    async with in_transaction():
        await BankDetailsChange.filter(
            customer_id=customer.id, status=BankChangeStatus.COOLING_OFF
        ).update(status=BankChangeStatus.SUPERSEDED, closed_at=now)
        change = await BankDetailsChange.create(
            customer_id=customer.id,
            login_id=login.id,
            method=given.method,
            iban_encrypted=cipher_for(settings).encrypt(iban.compact) if iban else None,
            iban_masked=iban.masked if iban else "",
            holder=(given.holder or "").strip() if debit else "",
            bic=iban.bic if iban else "",
            bank_name=iban.bank_name if iban else "",
            mandate_reference=mandate_reference(customer.number, now) if debit else "",
            mandate_version=settings.sepa_mandate_version if debit else None,
            mandate_accepted_at=now if debit else None,
            stop_token_hash=hash_secret(token, settings.secret_key, scope="bank-change"),
            created_at=now,
            exportable_at=exportable_at(now, settings.bank_change_cooling_off_hours),
        )
        await queue_mail(
            "bank_details_changed",
            to=login.email,
            locale=login.locale,
            settings=settings,
            customer_number=customer.number,
            direct_debit=debit,
            iban_masked=change.iban_masked,
            mandate_reference=change.mandate_reference,
            when=format_when(now, login.locale, settings),
            client=actor.client or "-",
            exportable_when=format_when(change.exportable_at, login.locale, settings),
            stop_link=_link(settings, settings.stop_bank_change_path, token),
            forgot_link=_link(settings, settings.forgot_password_path),
        )
        await _audit(
            "bank_details.change",
            actor,
            customer_id=customer.id,
            change_id=change.id,
            method=str(given.method),
        )
    return BankChangeMade(change, mask_address(login.email))


async def stop_bank_change(
    token: str, *, settings: Settings, client_address: str, now: dt.datetime
) -> BankDetailsChange | None:
    """'This was not me': stop a change still cooling off, end every session of the login
    that made it, and confirm by mail. None for a link that is unknown, used, or too late
    (the change was exported already); which of them is not said."""
    digest = hash_secret(token, settings.secret_key, scope="bank-change")
    change = (
        await BankDetailsChange.filter(stop_token_hash=digest).select_related("customer").first()
    )
    if change is None:
        return None
    async with in_transaction():
        stopped = await BankDetailsChange.filter(
            id=change.id, status=BankChangeStatus.COOLING_OFF
        ).update(status=BankChangeStatus.STOPPED, closed_at=now)
        if not stopped:
            return None
        login = await Login.filter(id=change.login_id).first() if change.login_id else None
        if login is not None:
            await end_sessions(login.id)
            await queue_mail(
                "bank_change_stopped",
                to=login.email,
                locale=login.locale,
                settings=settings,
                customer_number=change.customer.number,
                when=format_when(now, login.locale, settings),
                forgot_link=_link(settings, settings.forgot_password_path),
            )
        await record_audit(
            "bank_details.stopped",
            actor=actor_for_login(change.login_id),
            login_id=change.login_id,
            client_address=client_address,
            customer_id=change.customer_id,
            change_id=change.id,
        )
    return change


# ------------------------------------------------------------------ invoice documents


def sign_invoice_link(
    invoice: Invoice, login: Login, *, settings: Settings, base_url: str, now: dt.datetime
) -> tuple[str, dt.datetime]:
    """A signed link to the invoice's PDF for this login, valid DOCUMENT_LINK_VALID_SECONDS."""
    expires = int(now.timestamp()) + settings.document_link_valid_seconds
    token = sign_document_link(DocumentGrant(invoice.id, login.id, expires), settings.secret_key)
    return (
        f"{base_url.rstrip('/')}/documents/invoices/{token}",
        dt.datetime.fromtimestamp(expires, dt.UTC),
    )


async def document_for_link(
    token: str, *, settings: Settings, now: dt.datetime
) -> tuple[InvoiceDocument, Invoice, int] | None:
    """The document a link opens, loaded through the login it was handed to: an expired or
    tampered link, a deleted login, a customer the login no longer holds: None."""
    grant = open_document_link(token, settings.secret_key, now=int(now.timestamp()))
    if grant is None:
        return None
    invoice = await Invoice.filter(
        id=grant.invoice_id, customer__login_link__login_id=grant.login_id
    ).first()
    if invoice is None:
        return None
    document = await InvoiceDocument.filter(invoice_id=invoice.id).first()
    return (document, invoice, grant.login_id) if document else None


# -------------------------------------------------------------------------- privacy


async def money_data_export(login: Login, customer_ids: list[int]) -> dict[str, Any]:
    """GDPR export: the plans, requests, payment details (masked: the full IBAN is never
    given out again) and invoice documents of the login's customers."""
    plans = await BudgetPlan.filter(customer_id__in=customer_ids).select_related("customer")
    requests = await BudgetChangeRequest.filter(customer_id__in=customer_ids).select_related(
        "customer"
    )
    accounts = await BankAccount.filter(customer_id__in=customer_ids).select_related("customer")
    changes = await BankDetailsChange.filter(login_id=login.id).select_related("customer")
    documents = await InvoiceDocument.filter(invoice__customer_id__in=customer_ids).select_related(
        "invoice"
    )
    return {
        "budgetPlans": [
            {
                "customerNumber": p.customer.number,
                "amountCents": p.amount_cents,
                "rhythm": p.rhythm.name,
                "firstDueOn": p.first_due_on.isoformat(),
                "minimumCents": p.minimum_cents,
                "maximumCents": p.maximum_cents,
            }
            for p in plans
        ],
        "budgetChangeRequests": [
            {
                "customerNumber": r.customer.number,
                "amountCents": r.amount_cents,
                "effectiveOn": r.effective_on.isoformat(),
                "status": r.status.name,
                "reason": r.reason,
                "createdAt": r.created_at.isoformat(),
            }
            for r in requests
        ],
        "paymentDetails": [
            {
                "customerNumber": a.customer.number,
                "method": a.method.name,
                "iban": a.iban_masked,
                "accountHolder": a.holder,
                "mandateReference": a.mandate_reference,
                "mandateSignedOn": a.mandate_signed_on.isoformat() if a.mandate_signed_on else None,
            }
            for a in accounts
        ],
        "paymentDetailsChanges": [
            {
                "customerNumber": c.customer.number,
                "method": c.method.name,
                "iban": c.iban_masked,
                "accountHolder": c.holder,
                "mandateReference": c.mandate_reference,
                "mandateVersion": c.mandate_version,
                "mandateAcceptedAt": c.mandate_accepted_at.isoformat()
                if c.mandate_accepted_at
                else None,
                "status": c.status.name,
                "createdAt": c.created_at.isoformat(),
            }
            for c in changes
        ],
        "invoiceDocuments": [
            {"invoiceNumber": d.invoice.number, "sha256": d.sha256, "size": d.size}
            for d in documents
        ],
    }


async def forget_money_traces(login: Login, now: dt.datetime) -> None:
    """Profile deletion. A bank details change never exported is deleted (so withdrawn).
    One billing has received keeps its row, so that billing's result can still be
    imported, but loses the login, the encrypted IBAN and the holder: billing keeps
    what it received, as commercial and tax law require, the portal no copy. Budget
    requests stay with the customer (billing data), pending ones withdrawn, without
    the login."""
    exported = (BankChangeStatus.EXPORTED, BankChangeStatus.ACCEPTED, BankChangeStatus.REFUSED)
    await BankDetailsChange.filter(login_id=login.id).exclude(status__in=exported).delete()
    await BankDetailsChange.filter(login_id=login.id).update(
        login_id=None, iban_encrypted=None, holder=""
    )
    await BudgetChangeRequest.filter(login_id=login.id, status=RequestStatus.PENDING).update(
        status=RequestStatus.CANCELLED, closed_at=now
    )
    await BudgetChangeRequest.filter(login_id=login.id).update(login_id=None)


# ------------------------------------------------------------------------- helpers


def _link(settings: Settings, path: str, token: str | None = None) -> str:
    url = settings.portal_url.rstrip("/") + path
    return f"{url}?token={token}" if token else url


async def _audit(action: str, actor: Actor, **details: Any) -> None:
    await record_audit(
        action,
        actor=actor_for_login(actor.login.id),
        login_id=actor.login.id,
        client_address=actor.client_address,
        **details,
    )


# ------------------------------------------------------------ operations for a request


def _on(problem: Problem, *field: str) -> Problem:
    """A rule's problem on the input field it concerns."""
    return Problem(problem.code, field, problem.params)


def _in_input(problem: Problem) -> Problem:
    """A problem's field as the client sent it: under the mutation's `input`."""
    if problem.field is None:
        return problem
    return Problem(problem.code, ("input", *problem.field), problem.params)


def _actor(ctx: Context, login: Login) -> Actor:
    return Actor(login, ctx.client_address, ctx.session.client if ctx.session else "")


def utility_today(settings: Settings) -> dt.date:
    return clock.utility_today(settings.utility_timezone)


def next_due_dates(settings: Settings, plan: BudgetPlan) -> list[tuple[dt.date, int]]:
    """The plan's due dates from today on, each with the installment due then."""
    today = utility_today(settings)
    return [(d, plan.amount_cents) for d in due_dates(plan.first_due_on, plan.rhythm) if d >= today]


def change_effective_on(settings: Settings, plan: BudgetPlan) -> dt.date | None:
    dates = due_dates(plan.first_due_on, plan.rhythm)
    return effective_due_date(dates, utility_today(settings), settings.budget_change_lead_days)


def projection(plan: BudgetPlan, amount_euros: int | None) -> Projection | None:
    """`project_balance` for the plan at `amount_euros` (default its installment)."""
    if plan.consumption_m3 is None or plan.price_per_m3 is None:
        return None
    cents = plan.amount_cents if amount_euros is None else amount_euros * 100
    return project_balance(
        cents, plan.rhythm, Decimal(plan.consumption_m3), Decimal(plan.price_per_m3)
    )


async def request_budget_change(
    ctx: Context, choice: CustomerChoice, amount: str
) -> Outcome[BudgetChangeRequest]:
    login = require_login(ctx)
    customer = await named_customer(ctx, choice)
    if customer is None:
        return Outcome.failed(MoneyErrorCode.NOT_FOUND, *choice.field)
    settings = ctx.settings
    result = await make_budget_request(
        customer,
        _actor(ctx, login),
        amount,
        settings=settings,
        today=utility_today(settings),
        now=clock.now(),
    )
    if isinstance(result, Problem):
        return Outcome(problems=[_in_input(result)])
    return Outcome(result, mailed_to=mask_address(login.email))


async def cancel_budget_change(
    ctx: Context, choice: CustomerChoice, request_pk: int | None
) -> Outcome[BudgetChangeRequest]:
    login = require_login(ctx)
    customer = await named_customer(ctx, choice)
    if customer is None:
        return Outcome.failed(MoneyErrorCode.NOT_FOUND, *choice.field)
    if request_pk is None:
        return Outcome.failed(MoneyErrorCode.NOT_FOUND, "input", "requestId")
    result = await withdraw_budget_request(
        customer, _actor(ctx, login), request_pk, now=clock.now()
    )
    if isinstance(result, Problem):
        return Outcome(problems=[_in_input(result)])
    return Outcome(result)


async def change_payment_details(
    ctx: Context, choice: CustomerChoice, given: BankDetailsInput, password: str | None
) -> Outcome[BankDetailsChange]:
    """The most sensitive change: the input is checked, then the current password is
    asked for every time, and a fresh second factor when the login has one
    (`reauthentication_problem(always=True)`)."""
    login = require_login(ctx)
    customer = await named_customer(ctx, choice)
    if customer is None:
        return Outcome.failed(MoneyErrorCode.NOT_FOUND, *choice.field)
    settings = ctx.settings
    _, refusals = check_bank_details(given, settings)
    if refusals:
        return Outcome(problems=[_in_input(r) for r in refusals])
    if refused := await reauthentication_problem(
        ctx, password, MoneyErrorCode, always=True, field=("input", "currentPassword")
    ):
        return Outcome(problems=[refused])
    result = await make_bank_change(
        customer, _actor(ctx, login), given, settings=settings, now=clock.now()
    )
    if isinstance(result, list):
        return Outcome(problems=[_in_input(r) for r in result])
    return Outcome(result.change, mailed_to=result.mailed_to)


async def stop_payment_details_change(ctx: Context, token: str) -> Outcome[BankDetailsChange]:
    """The stop link needs no login; unknown tokens count against the client address."""
    failures = Limits.link_failures_per_address(ctx.settings)
    await enforce_not_exceeded(ctx, failures, ctx.client_address)
    token = token.strip()
    change = None
    if token and len(token) <= 200:
        change = await stop_bank_change(
            token, settings=ctx.settings, client_address=ctx.client_address, now=clock.now()
        )
    if change is None:
        await limiter(ctx).hit(failures, ctx.client_address)
        return Outcome.failed(MoneyErrorCode.LINK_INVALID, "input", "token")
    return Outcome(change)


@dataclass(frozen=True)
class Mandate:
    text: str
    version: str
    creditor_id: str
    creditor_name: str


def sepa_mandate(ctx: Context) -> Mandate:
    settings = ctx.settings
    return Mandate(
        text=mandate_text(
            ctx.locale,
            creditor=settings.utility_name,
            creditor_id=settings.sepa_creditor_id,
        ),
        version=settings.sepa_mandate_version,
        creditor_id=settings.sepa_creditor_id,
        creditor_name=settings.utility_name,
    )


def iban_details(ctx: Context, iban: str) -> Outcome[CheckedIban]:
    require_login(ctx)
    result = check_iban(iban)
    if isinstance(result, Problem):
        return Outcome.failed(result.code, "iban")
    return Outcome(result)


@dataclass(frozen=True)
class DocumentLink:
    url: str
    expires_at: dt.datetime
    size: int
    file_name: str


def document_file_name(invoice: Invoice) -> str:
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in invoice.number)
    return f"Rechnung-{safe}.pdf"


async def document_link(ctx: Context, invoice: Invoice) -> DocumentLink | None:
    """`Invoice.document`: a signed link for this login, or None without a PDF. The
    invoice was reached through the login's own customer."""
    login = require_login(ctx)
    document = await documents_by_invoice(ctx).load(invoice.id)
    if document is None:
        return None
    url, expires_at = sign_invoice_link(
        invoice,
        login,
        settings=ctx.settings,
        base_url=str(ctx.request.base_url),
        now=clock.now(),
    )
    return DocumentLink(url, expires_at, document.size, document_file_name(invoice))
