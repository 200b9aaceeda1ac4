"""Moving out, reading reminders and meter photos: five new tables.

`CreateModel` records the check constraints in the migration state but does not
emit them; PostgreSQL gets them with `ALTER TABLE … ADD CONSTRAINT` below. SQLite
cannot add a constraint to an existing table, and Tortoise's table rebuild loses
the table's unique keys (see 0004); these tables are new and still empty, so on
SQLite each is created once more with its checks, and its indexes put back.
"""

from tortoise import migrations
from tortoise.migrations import operations as ops
from models.reminders import ReminderKind
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index
from tortoise.migrations.constraints import CheckConstraint

CHECKS = [
    ("meter_photo", "ck_photo_content_type",
     "content_type IN ('image/jpeg', 'image/png', 'image/webp')"),
    ("meter_photo", "ck_photo_dimensions", "width > 0 AND height > 0"),
    ("move_out", "ck_move_out_final_invoice",
     "(final_invoice_number IS NULL) = (final_invoiced_on IS NULL)"),
    ("reading_reminder", "ck_reminder_kind", "kind IN ('opened', 'closing')"),
]


async def _recreate_with_checks_on_sqlite(client) -> None:
    for table in sorted({t for t, _, _ in CHECKS}):
        _, rows = await client.execute_query(
            "SELECT type, sql FROM sqlite_master WHERE tbl_name = ? AND sql IS NOT NULL", [table]
        )
        create = next(r["sql"] for r in rows if r["type"] == "table").rstrip().rstrip(";")
        indexes = [r["sql"] for r in rows if r["type"] == "index"]
        checks = "".join(
            f', CONSTRAINT "{name}" CHECK ({check})' for t, name, check in CHECKS if t == table
        )
        await client.execute_script(f'DROP TABLE "{table}"')
        await client.execute_script(create[: create.rindex(")")] + checks + ")")
        for index in indexes:
            await client.execute_script(index)


async def add_checks(apps, schema_editor) -> None:
    if schema_editor.DIALECT == "sqlite":
        await _recreate_with_checks_on_sqlite(schema_editor.client)
        return
    for table, name, check in CHECKS:
        await schema_editor.client.execute_script(
            f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" CHECK ({check})'
        )


async def drop_checks(apps, schema_editor) -> None:
    if schema_editor.DIALECT == "sqlite":
        return  # the tables themselves are dropped by the CreateModels' reversal
    for table, name, _ in CHECKS:
        await schema_editor.client.execute_script(
            f'ALTER TABLE "{table}" DROP CONSTRAINT IF EXISTS "{name}"'
        )


class Migration(migrations.Migration):
    dependencies = [('models', '0006_money')]

    initial = False

    operations = [
        ops.CreateModel(
            name='MeterPhoto',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('reading', fields.OneToOneField('models.MeterReading', source_field='reading_id', db_constraint=True, to_field='id', related_name='photo', on_delete=OnDelete.CASCADE)),
                ('storage_key', fields.CharField(unique=True, max_length=100)),
                ('content_type', fields.CharField(max_length=20)),
                ('width', fields.IntField()),
                ('height', fields.IntField()),
                ('size_bytes', fields.IntField()),
                ('sha256', fields.CharField(max_length=64)),
                ('uploaded_by_login_id', fields.IntField(null=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'meter_photo', 'app': 'models', 'constraints': [CheckConstraint(check="content_type IN ('image/jpeg', 'image/png', 'image/webp')", name='ck_photo_content_type'), CheckConstraint(check='width > 0 AND height > 0', name='ck_photo_dimensions')], 'indexes': [Index(fields=['uploaded_by_login_id']), Index(fields=['created_at'])], 'pk_attr': 'id', 'table_description': 'A photo of the meter (Zählerfoto) attached to a reading.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='MoveOut',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('customer', fields.OneToOneField('models.Customer', source_field='customer_id', db_constraint=True, to_field='id', related_name='move_out', on_delete=OnDelete.CASCADE)),
                ('move_out_on', fields.DateField()),
                ('forwarding_name', fields.CharField(max_length=200)),
                ('forwarding_street', fields.CharField(max_length=200)),
                ('forwarding_postal_code', fields.CharField(max_length=10)),
                ('forwarding_city', fields.CharField(max_length=100)),
                ('forwarding_country', fields.CharField(default='DE', max_length=2)),
                ('reported_by_login_id', fields.IntField(null=True)),
                ('reported_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('window_reminder_sent_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('final_invoice_number', fields.CharField(null=True, max_length=30)),
                ('final_invoiced_on', fields.DateField(null=True)),
            ],
            options={'table': 'move_out', 'app': 'models', 'constraints': [CheckConstraint(check='(final_invoice_number IS NULL) = (final_invoiced_on IS NULL)', name='ck_move_out_final_invoice')], 'indexes': [Index(fields=['reported_at'])], 'pk_attr': 'id', 'table_description': "Auszug: a customer's report of moving out of the supply address."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='FinalReading',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('move_out', fields.ForeignKeyField('models.MoveOut', source_field='move_out_id', db_constraint=True, to_field='id', related_name='final_readings', on_delete=OnDelete.CASCADE)),
                ('meter', fields.ForeignKeyField('models.Meter', source_field='meter_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('reading', fields.OneToOneField('models.MeterReading', source_field='reading_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
            ],
            options={'table': 'final_reading', 'app': 'models', 'unique_together': [('move_out_id', 'meter_id')], 'pk_attr': 'id', 'table_description': 'The final reading of one meter for a move-out: which reading it is.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ReadingReminder',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('meter', fields.ForeignKeyField('models.Meter', source_field='meter_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('period', fields.ForeignKeyField('models.ReadingPeriod', source_field='period_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('kind', fields.CharEnumField(description='OPENED: opened\nCLOSING: closing', enum_type=ReminderKind, max_length=10)),
                ('login_id', fields.IntField(null=True)),
                ('sent_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'reading_reminder', 'app': 'models', 'unique_together': [('meter_id', 'period_id', 'kind')], 'constraints': [CheckConstraint(check="kind IN ('opened', 'closing')", name='ck_reminder_kind')], 'indexes': [Index(fields=['period_id'])], 'pk_attr': 'id', 'table_description': 'A reminder sent for one meter and reading period: the marker that keeps it to once.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ReminderOptOut',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('customer', fields.OneToOneField('models.Customer', source_field='customer_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('login_id', fields.IntField(null=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'reminder_opt_out', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A customer who switched reading reminders off (they are on by default with consent).'},
            bases=['Model'],
        ),
        ops.RunPython(add_checks, drop_checks),
    ]
