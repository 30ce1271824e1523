"""History is append-only: the database refuses UPDATE and DELETE on the stations app's history
tables. The trigger function (created by planning's migration) and the DBA's escape hatch are
described in planning/migrations/0005_history_append_only.py. PostgreSQL only.

Migrations are history: the guard below is this migration's own copy of planning's (same
trigger, same function), not imported from it.
"""

from django.db import migrations

APP_LABEL = "stations"
TRIGGER = "history_append_only"
FUNCTION = "fireplan_history_append_only"


def history_tables(apps) -> list[str]:
    return sorted(
        model._meta.db_table
        for model in apps.get_app_config(APP_LABEL).get_models()
        if model.__name__.startswith("Historical")
    )


def forwards(apps, schema_editor):
    """The trigger on every history table of the app."""
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in history_tables(apps):
        name = schema_editor.quote_name(table)
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {TRIGGER} ON {name}")
        schema_editor.execute(
            f"CREATE TRIGGER {TRIGGER} BEFORE UPDATE OR DELETE ON {name} "
            f"FOR EACH ROW EXECUTE FUNCTION {FUNCTION}()"
        )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in history_tables(apps):
        name = schema_editor.quote_name(table)
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {TRIGGER} ON {name}")


class Migration(migrations.Migration):
    dependencies = [
        ("stations", "0001_initial_station_register"),
        ("planning", "0005_history_append_only"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
