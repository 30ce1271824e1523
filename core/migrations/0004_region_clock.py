"""The region clock (core.regions): a one-row table set to a sequence's next number by a
statement trigger on every change of the regions, so each process keeps the region tree and
reads only the clock per request (issue 19, national scale). The SQL frozen as
core/regions.py generated it when this migration was written (migrations are history)."""

from django.db import migrations

INSTALL = [
    "CREATE SEQUENCE IF NOT EXISTS core_regionclock_seq",
    "CREATE TABLE IF NOT EXISTS core_regionclock (id smallint PRIMARY KEY CHECK (id = 1), version bigint NOT NULL)",
    "INSERT INTO core_regionclock (id, version) VALUES (1, nextval('core_regionclock_seq')) ON CONFLICT (id) DO NOTHING",
    "\n    CREATE OR REPLACE FUNCTION fireplan_region_clock_tick() RETURNS trigger LANGUAGE plpgsql AS $body$\n    BEGIN\n        UPDATE core_regionclock SET version = nextval('core_regionclock_seq');\n        RETURN NULL;\n    END\n    $body$;\n    ",
    "DROP TRIGGER IF EXISTS fireplan_region_clock_tick ON planning_region",
    "CREATE TRIGGER fireplan_region_clock_tick AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON planning_region FOR EACH STATEMENT EXECUTE FUNCTION fireplan_region_clock_tick()",
]
REMOVE = [
    "DROP TRIGGER IF EXISTS fireplan_region_clock_tick ON planning_region",
    "DROP FUNCTION IF EXISTS fireplan_region_clock_tick()",
    "DROP TABLE IF EXISTS core_regionclock",
    "DROP SEQUENCE IF EXISTS core_regionclock_seq",
]


def install(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return  # SQLite: no triggers, the tree is read every time
    for statement in INSTALL:
        schema_editor.execute(statement)


def remove(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for statement in REMOVE:
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("core", "0003_background_jobs")]

    operations = [migrations.RunPython(install, remove, elidable=False)]
