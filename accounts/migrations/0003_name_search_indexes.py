"""Case-insensitive prefix search on usernames and display names (the tree explorer).

Django's istartswith is UPPER(column) LIKE UPPER('prefix%') on PostgreSQL;
these expression indexes with varchar_pattern_ops make it a range scan
instead of a scan of every user. SQLite needs nothing: its LIKE is already
case-insensitive, and the tables it serves are small.
"""

from django.db import migrations

INDEXES = {
    "accounts_user_username_upper_like": "username",
    "accounts_user_display_name_upper_like": "display_name",
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, column in INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name}"
            f" ON accounts_user (UPPER({column}) varchar_pattern_ops)"
        )
    # Expression indexes need statistics of their own before the planner trusts them.
    schema_editor.execute("ANALYZE accounts_user")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("accounts", "0002_profile_settings")]

    operations = [migrations.RunPython(create, drop)]
