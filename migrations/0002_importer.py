"""Natural keys of imported reading periods and readings, so the import can upsert.

Customers, invoices and meters already have unique numbers. A reading period is
identified by its meter (or, for a group period, its meter group) and its start;
a reading that is not the customer's by its meter, date and source. Customer
readings stay free of this: a customer may correct a reading on the same day,
which keeps the earlier row (marked `replaced_by`).

Partial unique indexes are written as SQL that SQLite and PostgreSQL both accept,
like the one-main-meter index of 0001. `INSERT … ON CONFLICT (…) WHERE …` names
the same predicate to use them.
"""

from tortoise import migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("models", "0001_initial")]

    operations = [
        ops.RunSQL(
            'CREATE UNIQUE INDEX "uq_period_meter_start" '
            'ON "reading_period" ("meter_id", "starts_on")',
            reverse_sql='DROP INDEX "uq_period_meter_start"',
        ),
        ops.RunSQL(
            'CREATE UNIQUE INDEX "uq_period_group_start" '
            'ON "reading_period" ("meter_group", "starts_on") WHERE "meter_id" IS NULL',
            reverse_sql='DROP INDEX "uq_period_group_start"',
        ),
        ops.RunSQL(
            'CREATE UNIQUE INDEX "uq_reading_meter_date_source" '
            'ON "meter_reading" ("meter_id", "read_on", "source") WHERE "source" <> \'customer\'',
            reverse_sql='DROP INDEX "uq_reading_meter_date_source"',
        ),
    ]
