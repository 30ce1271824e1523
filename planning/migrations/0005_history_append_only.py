"""History is append-only: the database refuses UPDATE and DELETE on the history tables.

django-simple-history writes one row per change (INSERT) and never needs to change one; no
page, API call or admin action may (the admin shows old versions but does not revert them).
This trigger makes that hold for every code path, raw SQL included. PostgreSQL only (SQLite,
the try-it-out default, relies on the application alone).

The DBA's escape hatch (purging history under a retention rule, or repairing a row), in a
transaction of its own:

    BEGIN;
    SET LOCAL fireplan.allow_history_purge = on;
    DELETE FROM targets_historicalprogressreport WHERE history_date < '2015-01-01';
    COMMIT;

TRUNCATE is not a row operation and is not refused (the test suite's flush uses it). Deleting
a user who has history rows is refused too (simple-history would set their history_user to
NULL): users are deactivated, not deleted.

This migration creates the function and guards planning's history tables; each other app's
``…_history_append_only`` migration guards its own, and tests/test_history_append_only.py
checks that every history table has the trigger.
"""

from django.db import migrations

FUNCTION = """
CREATE OR REPLACE FUNCTION fireplan_history_append_only() RETURNS trigger AS $$
BEGIN
    IF coalesce(current_setting('fireplan.allow_history_purge', true), '') = 'on' THEN
        RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
    END IF;
    RAISE EXCEPTION USING
        MESSAGE = 'history is append-only: ' || TG_OP || ' on ' || TG_TABLE_NAME || ' refused',
        HINT = 'A DBA may SET LOCAL fireplan.allow_history_purge = on in a transaction.',
        ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;
"""
TRIGGER = "history_append_only"


def history_tables(apps, app_label: str) -> list[str]:
    return sorted(
        model._meta.db_table
        for model in apps.get_app_config(app_label).get_models()
        if model.__name__.startswith("Historical")
    )


def guard(app_label: str):
    """RunPython pair: add (remove) the trigger on every history table of ``app_label``."""

    def forwards(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for table in history_tables(apps, app_label):
            name = schema_editor.quote_name(table)
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {TRIGGER} ON {name}")
            schema_editor.execute(
                f"CREATE TRIGGER {TRIGGER} BEFORE UPDATE OR DELETE ON {name} "
                "FOR EACH ROW EXECUTE FUNCTION fireplan_history_append_only()"
            )

    def backwards(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for table in history_tables(apps, app_label):
            name = schema_editor.quote_name(table)
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {TRIGGER} ON {name}")

    return forwards, backwards


def create_function(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FUNCTION)


def drop_function(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP FUNCTION IF EXISTS fireplan_history_append_only()")


class Migration(migrations.Migration):
    dependencies = [
        ("planning", "0004_evidence_random_file_names"),
    ]

    operations = [
        migrations.RunPython(create_function, drop_function),
        migrations.RunPython(*guard("planning")),
    ]
