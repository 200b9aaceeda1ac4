"""Mail priority and shard: a PIN or link a person waits for is delivered before
notices, and one address's mails keep their order while several lanes deliver.

The worker claims due mails by (priority, next_attempt_at); the index serves
that order. Existing rows become NORMAL (1) and shard 0 through the columns'
database defaults.
"""

from tortoise import fields, migrations
from tortoise.indexes import Index
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("models", "0007_moving")]

    initial = False

    operations = [
        ops.AddField(
            model_name="OutboxMail",
            name="priority",
            field=fields.SmallIntField(default=1, db_default=1),
        ),
        ops.AddField(
            model_name="OutboxMail",
            name="shard",
            field=fields.SmallIntField(default=0, db_default=0),
        ),
        ops.AddIndex(
            model_name="OutboxMail",
            index=Index(fields=["status", "priority", "next_attempt_at"]),
        ),
    ]
