"""The language of a login's mails becomes the customer's own choice.

`login.locale` was overwritten with the Accept-Language of every login; it becomes
`preferred_language`, set at registration from Accept-Language and afterwards only by
the customer (`setPreferredLanguage`). Existing logins keep the language they last logged
in with as their preference. Renaming the column keeps its check constraint (SQLite and
PostgreSQL rewrite the column's name inside it) and needs no table rebuild.
"""

from tortoise import migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("models", "0008_mail_priority")]

    initial = False

    operations = [
        ops.RenameField(model_name="Login", old_name="locale", new_name="preferred_language"),
    ]
