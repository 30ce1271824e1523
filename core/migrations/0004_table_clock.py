"""Table clocks (core.table_clock): the clock table and its two functions, frozen here. The
triggers that call the tick are installed on every model table by core.table_clock's
post_migrate receiver (tables added later get theirs the same way)."""

from django.db import migrations, models

TABLE = "core_tableclock"

FUNCTIONS = [
    f"""
CREATE OR REPLACE FUNCTION core_table_clock_compact(t text) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    folded bigint;
BEGIN
    IF NOT pg_try_advisory_xact_lock(hashtext('{TABLE}:' || t)) THEN
        RETURN 0;
    END IF;
    WITH gone AS (
        DELETE FROM {TABLE}
         WHERE table_name = t AND xid <> 0 AND xid <> txid_current()
        RETURNING n
    )
    SELECT sum(n) INTO folded FROM gone;
    IF folded IS NOT NULL THEN
        INSERT INTO {TABLE} (table_name, xid, n) VALUES (t, 0, folded)
        ON CONFLICT (table_name, xid) DO UPDATE SET n = {TABLE}.n + EXCLUDED.n;
    END IF;
    RETURN coalesce(folded, 0);
END
$$""",
    f"""
CREATE OR REPLACE FUNCTION core_table_clock_tick() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO {TABLE} (table_name, xid, n) VALUES (TG_TABLE_NAME, txid_current(), 1)
    ON CONFLICT (table_name, xid) DO NOTHING;
    IF random() < 1.0 / 32 THEN
        PERFORM core_table_clock_compact(TG_TABLE_NAME);
    END IF;
    RETURN NULL;
END
$$""",
]


def install(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for statement in FUNCTIONS:
        schema_editor.execute(statement)


def remove(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT tgrelid::regclass::text FROM pg_trigger WHERE tgname = 'core_table_clock'"
        )
        tables = [table for (table,) in cursor.fetchall()]
    for table in tables:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS core_table_clock ON {table}")
    schema_editor.execute("DROP FUNCTION IF EXISTS core_table_clock_tick()")
    schema_editor.execute("DROP FUNCTION IF EXISTS core_table_clock_compact(text)")


class Migration(migrations.Migration):
    dependencies = [("core", "0003_background_jobs")]

    operations = [
        migrations.CreateModel(
            name="TableClock",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("table_name", models.CharField(max_length=63)),
                ("xid", models.BigIntegerField()),
                ("n", models.BigIntegerField(default=1)),
            ],
            options={
                "verbose_name": "表版本",
                "verbose_name_plural": "表版本",
                "constraints": [
                    models.UniqueConstraint(
                        fields=("table_name", "xid"), include=("n",), name="core_tableclock_tick"
                    )
                ],
            },
        ),
        migrations.RunPython(install, remove, elidable=False),
    ]
