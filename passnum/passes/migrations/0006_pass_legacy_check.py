"""Every pass issued so far carries the old mod-37 check; passes issued from now on carry Damm's.

The column is added with ``True`` as its default, so PostgreSQL marks every existing row without
rewriting the table, then the default becomes ``False`` for the passes issued afterwards. The
partial index (old codes only) is built concurrently: passes keep being written meanwhile.
"""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class AddIndexConcurrentlyOnPostgreSQL(AddIndexConcurrently):
    """Built concurrently on PostgreSQL; a plain index elsewhere (the embedded SQLite default)."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        return migrations.AddIndex.database_forwards(self, app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            return super().database_backwards(app_label, schema_editor, from_state, to_state)
        return migrations.AddIndex.database_backwards(self, app_label, schema_editor, from_state, to_state)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("passes", "0005_print_delivery_and_purge"),
    ]

    operations = [
        migrations.AddField(
            model_name="pass",
            name="legacy_check",
            field=models.BooleanField(default=True, editable=False, verbose_name="code à contrôle ancien (modulo 37)"),
        ),
        migrations.AlterField(
            model_name="pass",
            name="legacy_check",
            field=models.BooleanField(default=False, editable=False, verbose_name="code à contrôle ancien (modulo 37)"),
        ),
        AddIndexConcurrentlyOnPostgreSQL(
            model_name="pass",
            index=models.Index(
                condition=models.Q(("legacy_check", True)), fields=["code"], name="pass_legacy_code_idx"
            ),
        ),
    ]
