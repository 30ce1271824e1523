"""The table of the "shared" cache (core.checks): idempotency keys and one-time form tokens
that every worker process sees. The columns Django's DatabaseCache reads and writes, as
``createcachetable`` makes them (written here: a migration never reads today's settings)."""

from django.db import migrations

TABLE = "fireplan_shared_cache"


def create(apps, schema_editor):
    timestamp = (
        "timestamp with time zone"
        if schema_editor.connection.vendor == "postgresql"
        else "datetime"
    )
    schema_editor.execute(
        f"CREATE TABLE {TABLE} (cache_key varchar(255) NOT NULL PRIMARY KEY, "
        f"value text NOT NULL, expires {timestamp} NOT NULL)"
    )
    schema_editor.execute(f"CREATE INDEX {TABLE}_expires ON {TABLE} (expires)")


def drop(apps, schema_editor):
    schema_editor.execute(f"DROP TABLE {TABLE}")


class Migration(migrations.Migration):
    dependencies = [("core", "0001_region_unit_evidence_moved_from_planning")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
