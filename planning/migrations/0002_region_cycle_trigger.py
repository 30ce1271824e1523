"""Refuse region cycles in the database (a region cannot be its own ancestor).

A CHECK constraint can only see one row, so deeper cycles (A → B → A) need a trigger. It is
installed on PostgreSQL, the production database; SQLite (the try-it-out default) cannot run
recursive queries inside triggers and relies on Region.clean() and the services.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION planning_region_refuse_cycle() RETURNS trigger AS $$
BEGIN
    IF NEW.parent_id IS NULL THEN
        RETURN NEW;
    END IF;
    IF EXISTS (
        WITH RECURSIVE up(id, parent_id, depth) AS (
            SELECT id, parent_id, 1 FROM planning_region WHERE id = NEW.parent_id
            UNION ALL
            SELECT r.id, r.parent_id, up.depth + 1
            FROM planning_region r JOIN up ON r.id = up.parent_id
            WHERE up.depth < 64
        )
        SELECT 1 FROM up WHERE id = NEW.id
    ) THEN
        RAISE EXCEPTION USING
            MESSAGE = 'region ' || NEW.id || ' cannot be its own ancestor',
            ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER planning_region_refuse_cycle
    BEFORE INSERT OR UPDATE OF parent_id ON planning_region
    FOR EACH ROW EXECUTE FUNCTION planning_region_refuse_cycle();
"""

DROP = """
DROP TRIGGER IF EXISTS planning_region_refuse_cycle ON planning_region;
DROP FUNCTION IF EXISTS planning_region_refuse_cycle();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("planning", "0001_initial_plan_model")]

    operations = [migrations.RunPython(forwards, backwards)]
