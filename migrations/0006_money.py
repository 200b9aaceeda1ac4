"""Money: budget plans and change requests, bank details and their changes, invoice PDFs.

As in 0001, check constraints are added one by one after the tables (CreateModel
does not emit them); on SQLite that rebuilds each table and drops its indexes and
unique keys, so `restore` puts them back there, as 0004 does (PostgreSQL keeps
them). The one-pending-request-per-customer rule is a partial unique index
both databases accept.
"""

from tortoise import migrations
from tortoise.migrations import operations as ops
from models.money import BankChangeStatus, PaymentMethod, RequestStatus, Rhythm
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index
from tortoise.migrations.constraints import CheckConstraint


LOST_ON_SQLITE = [
    'CREATE UNIQUE INDEX IF NOT EXISTS "uq_bank_account_customer" ON "bank_account" ("customer_id")',
    'CREATE UNIQUE INDEX IF NOT EXISTS "uq_budget_plan_customer" ON "budget_plan" ("customer_id")',
    'CREATE UNIQUE INDEX IF NOT EXISTS "uq_invoice_document_invoice" ON "invoice_document" ("invoice_id")',
    'CREATE UNIQUE INDEX IF NOT EXISTS "uq_bank_change_stop_token" ON "bank_details_change" ("stop_token_hash")',
    'CREATE INDEX IF NOT EXISTS "idx_bank_change_customer_created" ON "bank_details_change" ("customer_id", "created_at")',
    'CREATE INDEX IF NOT EXISTS "idx_bank_change_status_exportable" ON "bank_details_change" ("status", "exportable_at")',
    'CREATE INDEX IF NOT EXISTS "idx_budget_request_customer_created" ON "budget_change_request" ("customer_id", "created_at")',
    'CREATE INDEX IF NOT EXISTS "idx_budget_request_created" ON "budget_change_request" ("created_at")',
]


async def restore(apps, schema_editor) -> None:
    if schema_editor.DIALECT != "sqlite":
        return
    for statement in LOST_ON_SQLITE:
        await schema_editor.client.execute_script(statement)


async def drop(apps, schema_editor) -> None:
    if schema_editor.DIALECT != "sqlite":
        return
    for statement in LOST_ON_SQLITE:
        name = statement.split('"')[1]
        await schema_editor.client.execute_script(f'DROP INDEX IF EXISTS "{name}"')


class Migration(migrations.Migration):
    dependencies = [("models", "0005_second_factor")]

    initial = False

    operations = [
        ops.CreateModel(
            name="BankAccount",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                (
                    "customer",
                    fields.OneToOneField(
                        "models.Customer",
                        source_field="customer_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="bank_account",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "method",
                    fields.CharEnumField(
                        description="DIRECT_DEBIT: direct_debit\nTRANSFER: transfer",
                        enum_type=PaymentMethod,
                        max_length=20,
                    ),
                ),
                ("iban_encrypted", fields.TextField(null=True, unique=False)),
                ("iban_masked", fields.CharField(default="", max_length=50)),
                ("holder", fields.CharField(default="", max_length=70)),
                ("bic", fields.CharField(default="", max_length=11)),
                ("bank_name", fields.CharField(default="", max_length=200)),
                ("mandate_reference", fields.CharField(default="", max_length=35)),
                ("mandate_signed_on", fields.DateField(null=True)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={
                "table": "bank_account",
                "app": "models",
                "pk_attr": "id",
                "table_description": "Zahlungsweise: how a customer pays now, as the billing system last confirmed it.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="BankDetailsChange",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                (
                    "customer",
                    fields.ForeignKeyField(
                        "models.Customer",
                        source_field="customer_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="bank_changes",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("login_id", fields.IntField(null=True)),
                (
                    "method",
                    fields.CharEnumField(
                        description="DIRECT_DEBIT: direct_debit\nTRANSFER: transfer",
                        enum_type=PaymentMethod,
                        max_length=20,
                    ),
                ),
                ("iban_encrypted", fields.TextField(null=True, unique=False)),
                ("iban_masked", fields.CharField(default="", max_length=50)),
                ("holder", fields.CharField(default="", max_length=70)),
                ("bic", fields.CharField(default="", max_length=11)),
                ("bank_name", fields.CharField(default="", max_length=200)),
                ("mandate_reference", fields.CharField(default="", max_length=35)),
                ("mandate_version", fields.CharField(null=True, max_length=20)),
                (
                    "mandate_accepted_at",
                    fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
                ),
                (
                    "status",
                    fields.CharEnumField(
                        default=BankChangeStatus.COOLING_OFF,
                        description="COOLING_OFF: cooling_off\nSTOPPED: stopped\nSUPERSEDED: superseded\nEXPORTED: exported\nACCEPTED: accepted\nREFUSED: refused",
                        enum_type=BankChangeStatus,
                        max_length=12,
                    ),
                ),
                ("stop_token_hash", fields.CharField(unique=True, max_length=64)),
                ("reason", fields.CharField(default="", max_length=500)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("exportable_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                (
                    "exported_at",
                    fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
                ),
                ("closed_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "bank_details_change",
                "app": "models",
                "indexes": [
                    Index(fields=["customer_id", "created_at"]),
                    Index(fields=["status", "exportable_at"]),
                ],
                "pk_attr": "id",
                "table_description": "A customer's change of bank details or payment method, with the mandate accepted.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="BudgetChangeRequest",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                (
                    "customer",
                    fields.ForeignKeyField(
                        "models.Customer",
                        source_field="customer_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="budget_requests",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("login_id", fields.IntField(null=True)),
                ("amount_cents", fields.IntField()),
                ("previous_cents", fields.IntField()),
                ("effective_on", fields.DateField()),
                (
                    "status",
                    fields.CharEnumField(
                        default=RequestStatus.PENDING,
                        description="PENDING: pending\nCANCELLED: cancelled\nACCEPTED: accepted\nREFUSED: refused",
                        enum_type=RequestStatus,
                        max_length=10,
                    ),
                ),
                ("reason", fields.CharField(default="", max_length=500)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                (
                    "exported_at",
                    fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
                ),
                ("closed_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "budget_change_request",
                "app": "models",
                "indexes": [
                    Index(fields=["customer_id", "created_at"]),
                    Index(fields=["created_at"]),
                ],
                "pk_attr": "id",
                "table_description": "Abschlagsanpassung: a customer's request for a new installment amount.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="BudgetPlan",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                (
                    "customer",
                    fields.OneToOneField(
                        "models.Customer",
                        source_field="customer_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="budget_plan",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("amount_cents", fields.IntField()),
                (
                    "rhythm",
                    fields.CharEnumField(
                        description="MONTHLY: monthly\nBIMONTHLY: bimonthly\nQUARTERLY: quarterly",
                        enum_type=Rhythm,
                        max_length=10,
                    ),
                ),
                ("first_due_on", fields.DateField()),
                ("calculated_cents", fields.IntField()),
                ("minimum_cents", fields.IntField()),
                ("maximum_cents", fields.IntField()),
                ("consumption_m3", fields.DecimalField(null=True, max_digits=12, decimal_places=3)),
                ("price_per_m3", fields.DecimalField(null=True, max_digits=10, decimal_places=4)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={
                "table": "budget_plan",
                "app": "models",
                "pk_attr": "id",
                "table_description": "Abschlagsplan: the installments a customer pays in advance, set by the annual bill.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="InvoiceDocument",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                (
                    "invoice",
                    fields.OneToOneField(
                        "models.Invoice",
                        source_field="invoice_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="document",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("storage_key", fields.CharField(max_length=200)),
                ("sha256", fields.CharField(max_length=64)),
                ("size", fields.IntField()),
                ("due_on", fields.DateField(null=True)),
                ("imported_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                (
                    "announced_at",
                    fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
                ),
            ],
            options={
                "table": "invoice_document",
                "app": "models",
                "pk_attr": "id",
                "table_description": "The PDF of an invoice as the billing system delivered it, in the document store.",
            },
            bases=["Model"],
        ),
        ops.AddConstraint(
            model_name="BankAccount",
            constraint=CheckConstraint(
                check="method IN ('direct_debit', 'transfer')", name="ck_bank_account_method"
            ),
        ),
        ops.AddConstraint(
            model_name="BankDetailsChange",
            constraint=CheckConstraint(
                check="status IN ('cooling_off', 'stopped', 'superseded', 'exported', 'accepted', 'refused')",
                name="ck_bank_change_status",
            ),
        ),
        ops.AddConstraint(
            model_name="BankDetailsChange",
            constraint=CheckConstraint(
                check="method = 'transfer' OR mandate_accepted_at IS NOT NULL",
                name="ck_bank_change_debit_has_mandate",
            ),
        ),
        ops.AddConstraint(
            model_name="BudgetChangeRequest",
            constraint=CheckConstraint(
                check="status IN ('pending', 'cancelled', 'accepted', 'refused')",
                name="ck_budget_request_status",
            ),
        ),
        ops.AddConstraint(
            model_name="BudgetChangeRequest",
            constraint=CheckConstraint(check="amount_cents > 0", name="ck_budget_request_amount"),
        ),
        ops.AddConstraint(
            model_name="BudgetPlan",
            constraint=CheckConstraint(
                check="rhythm IN ('monthly', 'bimonthly', 'quarterly')", name="ck_plan_rhythm"
            ),
        ),
        ops.AddConstraint(
            model_name="BudgetPlan",
            constraint=CheckConstraint(
                check="0 <= minimum_cents AND minimum_cents <= maximum_cents", name="ck_plan_bounds"
            ),
        ),
        ops.AddConstraint(
            model_name="InvoiceDocument",
            constraint=CheckConstraint(check="size > 0", name="ck_invoice_document_size"),
        ),
        ops.RunPython(restore, drop),
        ops.RunSQL(
            'CREATE UNIQUE INDEX "uq_budget_request_one_pending" ON "budget_change_request" ("customer_id") WHERE "status" = \'pending\'',
            reverse_sql='DROP INDEX "uq_budget_request_one_pending"',
        ),
    ]
