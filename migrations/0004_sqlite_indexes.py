"""Indexes that 0001 lost on SQLite only.

SQLite cannot add a check constraint to a table; Tortoise rebuilds the table
instead and, in 1.1.9, drops the table's indexes and unique keys on the way.
PostgreSQL keeps them. This puts them back on SQLite, among them the unique
key that makes an idempotency key usable once per login.
"""

from tortoise import migrations
from tortoise.migrations import operations as ops

LOST_ON_SQLITE = [
    'CREATE INDEX IF NOT EXISTS "idx_invoice_customer_date" ON "invoice" ("customer_id", "date")',
    'CREATE INDEX IF NOT EXISTS "idx_reading_meter_read_on" ON "meter_reading" ("meter_id", "read_on")',
    'CREATE UNIQUE INDEX IF NOT EXISTS "uq_reading_idempotency" '
    'ON "meter_reading" ("submitted_by_id", "idempotency_key")',
    'CREATE INDEX IF NOT EXISTS "idx_secret_login_purpose" ON "one_time_secret" ("login_id", "purpose")',
    'CREATE INDEX IF NOT EXISTS "idx_secret_expires" ON "one_time_secret" ("expires_at")',
    'CREATE INDEX IF NOT EXISTS "idx_mail_status_due" ON "outbox_mail" ("status", "next_attempt_at")',
    'CREATE INDEX IF NOT EXISTS "idx_period_meter_ends" ON "reading_period" ("meter_id", "ends_on")',
    'CREATE INDEX IF NOT EXISTS "idx_period_group_ends" ON "reading_period" ("meter_group", "ends_on")',
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
    dependencies = [("models", "0003_indexes")]

    initial = False

    operations = [ops.RunPython(restore, drop)]
