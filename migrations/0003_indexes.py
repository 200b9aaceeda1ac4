"""Indexes for the per-request loaders: a login's customer numbers and a customer's meters.

Every authenticated request reads `login_customer` by `login_id`, and every dashboard
and reading reads `meter` by `customer_id`; without these, both were sequential scans
(125,000 meters: about 50 ms per dashboard on the load benchmark's population).
The partial unique index on `meter(customer_id) WHERE is_main` serves only main meters.
"""

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.indexes import Index


class Migration(migrations.Migration):
    dependencies = [("models", "0002_importer")]

    initial = False

    operations = [
        ops.AddIndex(
            model_name="LoginCustomer",
            index=Index(fields=["login_id"]),
        ),
        ops.AddIndex(
            model_name="Meter",
            index=Index(fields=["customer_id"]),
        ),
    ]
