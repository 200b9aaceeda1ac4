"""What customers pay: budget billing plans, bank details with the SEPA mandate, invoice PDFs.

The billing system owns the plans, the current bank details and the invoices; the
portal keeps what customers ask to change (a new installment amount, new bank
details) until the billing system has decided, and the PDF of each invoice.
The full IBAN is stored only encrypted (`security.bankdata`); what is shown is
the masked form kept beside it.
"""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.migrations.constraints import CheckConstraint
from tortoise.models import Model


class Rhythm(StrEnum):
    MONTHLY = "monthly"
    BIMONTHLY = "bimonthly"
    QUARTERLY = "quarterly"


class RequestStatus(StrEnum):
    """Where a customer's change request stands: pending until billing decides."""

    PENDING = "pending"
    CANCELLED = "cancelled"
    ACCEPTED = "accepted"
    REFUSED = "refused"


class PaymentMethod(StrEnum):
    DIRECT_DEBIT = "direct_debit"
    TRANSFER = "transfer"


class BankChangeStatus(StrEnum):
    """A bank details change: cooling off (stoppable), stopped, superseded, exported, decided."""

    COOLING_OFF = "cooling_off"
    STOPPED = "stopped"
    SUPERSEDED = "superseded"
    EXPORTED = "exported"
    ACCEPTED = "accepted"
    REFUSED = "refused"


class BudgetPlan(Model):
    """Abschlagsplan: the installments a customer pays in advance, set by the annual bill.

    Due dates (Fälligkeiten) follow from the first one and the rhythm; the
    minimum and maximum bound what a customer may ask for.
    """

    id = fields.IntField(primary_key=True)
    customer: fields.OneToOneRelation = fields.OneToOneField(
        "models.Customer", related_name="budget_plan", on_delete=fields.CASCADE
    )
    customer_id: int
    amount_cents = fields.IntField()
    rhythm = fields.CharEnumField(Rhythm, max_length=10)
    first_due_on = fields.DateField()
    calculated_cents = fields.IntField()
    minimum_cents = fields.IntField()
    maximum_cents = fields.IntField()
    consumption_m3 = fields.DecimalField(max_digits=12, decimal_places=3, null=True)
    price_per_m3 = fields.DecimalField(max_digits=10, decimal_places=4, null=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "budget_plan"
        constraints = [
            CheckConstraint(
                check="rhythm IN ('monthly', 'bimonthly', 'quarterly')", name="ck_plan_rhythm"
            ),
            CheckConstraint(
                check="0 <= minimum_cents AND minimum_cents <= maximum_cents",
                name="ck_plan_bounds",
            ),
        ]


class BudgetChangeRequest(Model):
    """Abschlagsanpassung: a customer's request for a new installment amount.

    At most one is pending per customer (a partial unique index); the billing
    system's decision comes back by import.
    """

    id = fields.IntField(primary_key=True)
    customer: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "models.Customer", related_name="budget_requests", on_delete=fields.CASCADE
    )
    customer_id: int
    login_id = fields.IntField(null=True)
    amount_cents = fields.IntField()
    previous_cents = fields.IntField()
    effective_on = fields.DateField()
    status = fields.CharEnumField(RequestStatus, max_length=10, default=RequestStatus.PENDING)
    reason = fields.CharField(max_length=500, default="")
    created_at = fields.DatetimeField()
    exported_at = fields.DatetimeField(null=True)
    closed_at = fields.DatetimeField(null=True)

    class Meta:
        table = "budget_change_request"
        indexes = [("customer_id", "created_at"), ("created_at",)]
        constraints = [
            CheckConstraint(
                check="status IN ('pending', 'cancelled', 'accepted', 'refused')",
                name="ck_budget_request_status",
            ),
            CheckConstraint(check="amount_cents > 0", name="ck_budget_request_amount"),
        ]


class AccountFields(Model):
    """The account of a SEPA direct debit: the IBAN encrypted, what is shown of it, the bank."""

    iban_encrypted = fields.TextField(null=True)
    iban_masked = fields.CharField(max_length=50, default="")
    holder = fields.CharField(max_length=70, default="")
    bic = fields.CharField(max_length=11, default="")
    bank_name = fields.CharField(max_length=200, default="")
    mandate_reference = fields.CharField(max_length=35, default="")

    class Meta:
        abstract = True


class BankAccount(AccountFields):
    """Zahlungsweise: how a customer pays now, as the billing system last confirmed it.

    SEPA-Lastschrift (direct debit) with IBAN, holder and mandate, or
    Überweisung (transfer) with none of them.
    """

    id = fields.IntField(primary_key=True)
    customer: fields.OneToOneRelation = fields.OneToOneField(
        "models.Customer", related_name="bank_account", on_delete=fields.CASCADE
    )
    customer_id: int
    method = fields.CharEnumField(PaymentMethod, max_length=20)
    mandate_signed_on = fields.DateField(null=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "bank_account"
        constraints = [
            CheckConstraint(
                check="method IN ('direct_debit', 'transfer')", name="ck_bank_account_method"
            ),
        ]


class BankDetailsChange(AccountFields):
    """A customer's change of bank details or payment method, with the mandate accepted.

    It waits out the cooling-off time (`exportable_at`) during which the "this
    was not me" link in the security notice stops it; only then is it exported
    to the billing system, whose result comes back by import. The IBAN is
    cleared when the login's profile is deleted after the export.
    """

    id = fields.IntField(primary_key=True)
    customer: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "models.Customer", related_name="bank_changes", on_delete=fields.CASCADE
    )
    customer_id: int
    login_id = fields.IntField(null=True)
    method = fields.CharEnumField(PaymentMethod, max_length=20)
    mandate_version = fields.CharField(max_length=20, null=True)
    mandate_accepted_at = fields.DatetimeField(null=True)
    status = fields.CharEnumField(
        BankChangeStatus, max_length=12, default=BankChangeStatus.COOLING_OFF
    )
    stop_token_hash = fields.CharField(max_length=64, unique=True)
    reason = fields.CharField(max_length=500, default="")
    created_at = fields.DatetimeField()
    exportable_at = fields.DatetimeField()
    exported_at = fields.DatetimeField(null=True)
    closed_at = fields.DatetimeField(null=True)

    class Meta:
        table = "bank_details_change"
        indexes = [("customer_id", "created_at"), ("status", "exportable_at")]
        constraints = [
            CheckConstraint(
                check="status IN ('cooling_off', 'stopped', 'superseded', 'exported', "
                "'accepted', 'refused')",
                name="ck_bank_change_status",
            ),
            CheckConstraint(
                check="method = 'transfer' OR mandate_accepted_at IS NOT NULL",
                name="ck_bank_change_debit_has_mandate",
            ),
        ]


class InvoiceDocument(Model):
    """The PDF of an invoice as the billing system delivered it, in the document store.

    `storage_key` names the file in the store (content-addressed: the SHA-256),
    so a re-import of the same file changes nothing.
    """

    id = fields.IntField(primary_key=True)
    invoice: fields.OneToOneRelation = fields.OneToOneField(
        "models.Invoice", related_name="document", on_delete=fields.CASCADE
    )
    invoice_id: int
    storage_key = fields.CharField(max_length=200)
    sha256 = fields.CharField(max_length=64)
    size = fields.IntField()
    due_on = fields.DateField(null=True)
    imported_at = fields.DatetimeField()
    announced_at = fields.DatetimeField(null=True)

    class Meta:
        table = "invoice_document"
        constraints = [CheckConstraint(check="size > 0", name="ck_invoice_document_size")]
