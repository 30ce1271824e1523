# ruff: noqa: E501, W291, W293
# (The SQL below is byte-exact, trailing blanks included: the functions it creates must equal
# what targets/rollup_store.py installs, see tests/test_migrations_are_history.py.)
"""Roll-ups count a county once (issue 17): a region's figure for a period is its own approved
figure, else the sum of its children's figures (each own-else-children again), no longer the
sum of every figure below it, which counted a county twice when both it and its city reported.

``below_value`` now holds the sum of the children's effective figures; the counts keep their
meaning. The triggers carry each statement's changes up the tree level by level, deepest first
(a region's change of effective figure is its parent's delta), and the table is rebuilt with
the new rule. SQL frozen here as targets/rollup_store.py generated it when this migration was
written (migrations are history).
"""

from django.db import migrations

# targets/rollup_store.install_triggers_sql() as of this migration (same function names as
# 0004: CREATE OR REPLACE swaps the bodies).
INSTALL = [
    """
    CREATE OR REPLACE FUNCTION fireplan_rollup_on_insert() RETURNS trigger LANGUAGE plpgsql AS $body$
    DECLARE
        at_depth integer;
    BEGIN
        IF current_setting('fireplan.defer_rollups', true) = 'on' THEN
            RETURN NULL;
        END IF;
        
    IF to_regclass('pg_temp.rollup_pending') IS NULL THEN
        CREATE TEMPORARY TABLE rollup_pending (
            target_id bigint, region_id bigint, period varchar(6), depth integer,
            own_dv numeric, own_dc integer, below_dv numeric, below_dc integer, dd integer
        ) ON COMMIT DELETE ROWS;
    END IF;
    WITH RECURSIVE
    changes(target_id, region_id, period, dv, dc, dd) AS (
    SELECT target_id, region_id, period, value AS dv, 1 AS dc,
           CASE WHEN is_demo THEN 1 ELSE 0 END AS dd
      FROM new_rows WHERE status = 'approved' AND value IS NOT NULL),
    own AS (
        SELECT target_id, region_id, period, SUM(dv) AS dv, SUM(dc) AS dc, SUM(dd) AS dd
          FROM changes GROUP BY target_id, region_id, period
        HAVING SUM(dv) <> 0 OR SUM(dc) <> 0 OR SUM(dd) <> 0
    ),
    up(start_id, region_id, depth) AS (
        SELECT DISTINCT region_id, region_id, 0 FROM own
        UNION ALL
        SELECT up.start_id, r.parent_id, up.depth + 1
          FROM up JOIN planning_region r ON r.id = up.region_id
         WHERE r.parent_id IS NOT NULL AND up.depth < 32
    )
    INSERT INTO rollup_pending
    SELECT o.target_id, o.region_id, o.period, d.depth, o.dv, o.dc, 0, 0, o.dd
      FROM own o JOIN (SELECT start_id, MAX(depth) AS depth FROM up GROUP BY start_id) d
        ON d.start_id = o.region_id;
    SELECT MAX(depth) INTO at_depth FROM rollup_pending;
    WHILE at_depth IS NOT NULL AND at_depth >= 0 LOOP
        WITH
        pending AS (
            SELECT target_id, region_id, period, SUM(own_dv) AS own_dv, SUM(own_dc) AS own_dc,
                   SUM(below_dv) AS below_dv, SUM(below_dc) AS below_dc, SUM(dd) AS dd
              FROM rollup_pending WHERE depth = at_depth
             GROUP BY target_id, region_id, period
        ),
        applied AS (
            INSERT INTO targets_reportrollup AS r (target_id, region_id, period, own_value, below_value,
                                      below_count, effective_value, report_count, demo_count)
            SELECT target_id, region_id, period,
                   CASE WHEN own_dc <> 0 OR own_dv <> 0 THEN own_dv END,
                   CASE WHEN below_dc <> 0 OR below_dv <> 0 THEN below_dv END,
                   below_dc,
                   CASE WHEN own_dc > 0 THEN own_dv WHEN below_dc > 0 THEN below_dv END,
                   own_dc + below_dc,
                   dd
              FROM pending
             ORDER BY target_id, period, region_id
            ON CONFLICT (target_id, region_id, period) DO UPDATE SET
                own_value = CASE
                    WHEN (r.own_value IS NOT NULL)::int
                         + EXCLUDED.report_count - EXCLUDED.below_count > 0
                    THEN COALESCE(r.own_value, 0) + COALESCE(EXCLUDED.own_value, 0) END,
                below_value = CASE
                    WHEN r.below_count + EXCLUDED.below_count > 0
                    THEN COALESCE(r.below_value, 0) + COALESCE(EXCLUDED.below_value, 0) END,
                below_count = r.below_count + EXCLUDED.below_count,
                effective_value = CASE
                    WHEN (r.own_value IS NOT NULL)::int
                         + EXCLUDED.report_count - EXCLUDED.below_count > 0
                    THEN COALESCE(r.own_value, 0) + COALESCE(EXCLUDED.own_value, 0)
                    WHEN r.below_count + EXCLUDED.below_count > 0
                    THEN COALESCE(r.below_value, 0) + COALESCE(EXCLUDED.below_value, 0) END,
                report_count = r.report_count + EXCLUDED.report_count,
                demo_count = r.demo_count + EXCLUDED.demo_count
            RETURNING r.target_id, r.region_id, r.period, r.own_value, r.below_value,
                      r.below_count, r.effective_value, r.report_count
        ),
        changed AS (
            -- the row before this statement, from the row after it and the deltas applied
            SELECT a.target_id, a.region_id, a.period, p.own_dc + p.below_dc AS dc, p.dd,
                   COALESCE(a.effective_value, 0) - CASE
                       WHEN a.report_count - a.below_count - p.own_dc > 0
                       THEN COALESCE(a.own_value, 0) - p.own_dv
                       WHEN a.below_count - p.below_dc > 0
                       THEN COALESCE(a.below_value, 0) - p.below_dv
                       ELSE 0 END AS dv
              FROM applied a JOIN pending p USING (target_id, region_id, period)
        )
        INSERT INTO rollup_pending
        SELECT c.target_id, g.parent_id, c.period, at_depth - 1, 0, 0, c.dv, c.dc, c.dd
          FROM changed c JOIN planning_region g ON g.id = c.region_id
         WHERE g.parent_id IS NOT NULL AND (c.dv <> 0 OR c.dc <> 0 OR c.dd <> 0);
        DELETE FROM rollup_pending WHERE depth >= at_depth;
        at_depth := at_depth - 1;
    END LOOP;
    DELETE FROM rollup_pending;
        RETURN NULL;
    END
    $body$;
    """,
    "DROP TRIGGER IF EXISTS fireplan_rollup_on_insert ON targets_progressreport",
    "CREATE TRIGGER fireplan_rollup_on_insert AFTER INSERT ON targets_progressreport REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION fireplan_rollup_on_insert()",
    """
    CREATE OR REPLACE FUNCTION fireplan_rollup_on_update() RETURNS trigger LANGUAGE plpgsql AS $body$
    DECLARE
        at_depth integer;
    BEGIN
        IF current_setting('fireplan.defer_rollups', true) = 'on' THEN
            RETURN NULL;
        END IF;
        
    IF to_regclass('pg_temp.rollup_pending') IS NULL THEN
        CREATE TEMPORARY TABLE rollup_pending (
            target_id bigint, region_id bigint, period varchar(6), depth integer,
            own_dv numeric, own_dc integer, below_dv numeric, below_dc integer, dd integer
        ) ON COMMIT DELETE ROWS;
    END IF;
    WITH RECURSIVE
    changes(target_id, region_id, period, dv, dc, dd) AS (
    SELECT target_id, region_id, period, value AS dv, 1 AS dc,
           CASE WHEN is_demo THEN 1 ELSE 0 END AS dd
      FROM new_rows WHERE status = 'approved' AND value IS NOT NULL UNION ALL 
    SELECT target_id, region_id, period, -value, -1, CASE WHEN is_demo THEN -1 ELSE 0 END
      FROM old_rows WHERE status = 'approved' AND value IS NOT NULL),
    own AS (
        SELECT target_id, region_id, period, SUM(dv) AS dv, SUM(dc) AS dc, SUM(dd) AS dd
          FROM changes GROUP BY target_id, region_id, period
        HAVING SUM(dv) <> 0 OR SUM(dc) <> 0 OR SUM(dd) <> 0
    ),
    up(start_id, region_id, depth) AS (
        SELECT DISTINCT region_id, region_id, 0 FROM own
        UNION ALL
        SELECT up.start_id, r.parent_id, up.depth + 1
          FROM up JOIN planning_region r ON r.id = up.region_id
         WHERE r.parent_id IS NOT NULL AND up.depth < 32
    )
    INSERT INTO rollup_pending
    SELECT o.target_id, o.region_id, o.period, d.depth, o.dv, o.dc, 0, 0, o.dd
      FROM own o JOIN (SELECT start_id, MAX(depth) AS depth FROM up GROUP BY start_id) d
        ON d.start_id = o.region_id;
    SELECT MAX(depth) INTO at_depth FROM rollup_pending;
    WHILE at_depth IS NOT NULL AND at_depth >= 0 LOOP
        WITH
        pending AS (
            SELECT target_id, region_id, period, SUM(own_dv) AS own_dv, SUM(own_dc) AS own_dc,
                   SUM(below_dv) AS below_dv, SUM(below_dc) AS below_dc, SUM(dd) AS dd
              FROM rollup_pending WHERE depth = at_depth
             GROUP BY target_id, region_id, period
        ),
        applied AS (
            INSERT INTO targets_reportrollup AS r (target_id, region_id, period, own_value, below_value,
                                      below_count, effective_value, report_count, demo_count)
            SELECT target_id, region_id, period,
                   CASE WHEN own_dc <> 0 OR own_dv <> 0 THEN own_dv END,
                   CASE WHEN below_dc <> 0 OR below_dv <> 0 THEN below_dv END,
                   below_dc,
                   CASE WHEN own_dc > 0 THEN own_dv WHEN below_dc > 0 THEN below_dv END,
                   own_dc + below_dc,
                   dd
              FROM pending
             ORDER BY target_id, period, region_id
            ON CONFLICT (target_id, region_id, period) DO UPDATE SET
                own_value = CASE
                    WHEN (r.own_value IS NOT NULL)::int
                         + EXCLUDED.report_count - EXCLUDED.below_count > 0
                    THEN COALESCE(r.own_value, 0) + COALESCE(EXCLUDED.own_value, 0) END,
                below_value = CASE
                    WHEN r.below_count + EXCLUDED.below_count > 0
                    THEN COALESCE(r.below_value, 0) + COALESCE(EXCLUDED.below_value, 0) END,
                below_count = r.below_count + EXCLUDED.below_count,
                effective_value = CASE
                    WHEN (r.own_value IS NOT NULL)::int
                         + EXCLUDED.report_count - EXCLUDED.below_count > 0
                    THEN COALESCE(r.own_value, 0) + COALESCE(EXCLUDED.own_value, 0)
                    WHEN r.below_count + EXCLUDED.below_count > 0
                    THEN COALESCE(r.below_value, 0) + COALESCE(EXCLUDED.below_value, 0) END,
                report_count = r.report_count + EXCLUDED.report_count,
                demo_count = r.demo_count + EXCLUDED.demo_count
            RETURNING r.target_id, r.region_id, r.period, r.own_value, r.below_value,
                      r.below_count, r.effective_value, r.report_count
        ),
        changed AS (
            -- the row before this statement, from the row after it and the deltas applied
            SELECT a.target_id, a.region_id, a.period, p.own_dc + p.below_dc AS dc, p.dd,
                   COALESCE(a.effective_value, 0) - CASE
                       WHEN a.report_count - a.below_count - p.own_dc > 0
                       THEN COALESCE(a.own_value, 0) - p.own_dv
                       WHEN a.below_count - p.below_dc > 0
                       THEN COALESCE(a.below_value, 0) - p.below_dv
                       ELSE 0 END AS dv
              FROM applied a JOIN pending p USING (target_id, region_id, period)
        )
        INSERT INTO rollup_pending
        SELECT c.target_id, g.parent_id, c.period, at_depth - 1, 0, 0, c.dv, c.dc, c.dd
          FROM changed c JOIN planning_region g ON g.id = c.region_id
         WHERE g.parent_id IS NOT NULL AND (c.dv <> 0 OR c.dc <> 0 OR c.dd <> 0);
        DELETE FROM rollup_pending WHERE depth >= at_depth;
        at_depth := at_depth - 1;
    END LOOP;
    DELETE FROM rollup_pending;
        RETURN NULL;
    END
    $body$;
    """,
    "DROP TRIGGER IF EXISTS fireplan_rollup_on_update ON targets_progressreport",
    "CREATE TRIGGER fireplan_rollup_on_update AFTER UPDATE ON targets_progressreport REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION fireplan_rollup_on_update()",
    """
    CREATE OR REPLACE FUNCTION fireplan_rollup_on_delete() RETURNS trigger LANGUAGE plpgsql AS $body$
    DECLARE
        at_depth integer;
    BEGIN
        IF current_setting('fireplan.defer_rollups', true) = 'on' THEN
            RETURN NULL;
        END IF;
        
    IF to_regclass('pg_temp.rollup_pending') IS NULL THEN
        CREATE TEMPORARY TABLE rollup_pending (
            target_id bigint, region_id bigint, period varchar(6), depth integer,
            own_dv numeric, own_dc integer, below_dv numeric, below_dc integer, dd integer
        ) ON COMMIT DELETE ROWS;
    END IF;
    WITH RECURSIVE
    changes(target_id, region_id, period, dv, dc, dd) AS (
    SELECT target_id, region_id, period, -value, -1, CASE WHEN is_demo THEN -1 ELSE 0 END
      FROM old_rows WHERE status = 'approved' AND value IS NOT NULL),
    own AS (
        SELECT target_id, region_id, period, SUM(dv) AS dv, SUM(dc) AS dc, SUM(dd) AS dd
          FROM changes GROUP BY target_id, region_id, period
        HAVING SUM(dv) <> 0 OR SUM(dc) <> 0 OR SUM(dd) <> 0
    ),
    up(start_id, region_id, depth) AS (
        SELECT DISTINCT region_id, region_id, 0 FROM own
        UNION ALL
        SELECT up.start_id, r.parent_id, up.depth + 1
          FROM up JOIN planning_region r ON r.id = up.region_id
         WHERE r.parent_id IS NOT NULL AND up.depth < 32
    )
    INSERT INTO rollup_pending
    SELECT o.target_id, o.region_id, o.period, d.depth, o.dv, o.dc, 0, 0, o.dd
      FROM own o JOIN (SELECT start_id, MAX(depth) AS depth FROM up GROUP BY start_id) d
        ON d.start_id = o.region_id;
    SELECT MAX(depth) INTO at_depth FROM rollup_pending;
    WHILE at_depth IS NOT NULL AND at_depth >= 0 LOOP
        WITH
        pending AS (
            SELECT target_id, region_id, period, SUM(own_dv) AS own_dv, SUM(own_dc) AS own_dc,
                   SUM(below_dv) AS below_dv, SUM(below_dc) AS below_dc, SUM(dd) AS dd
              FROM rollup_pending WHERE depth = at_depth
             GROUP BY target_id, region_id, period
        ),
        applied AS (
            INSERT INTO targets_reportrollup AS r (target_id, region_id, period, own_value, below_value,
                                      below_count, effective_value, report_count, demo_count)
            SELECT target_id, region_id, period,
                   CASE WHEN own_dc <> 0 OR own_dv <> 0 THEN own_dv END,
                   CASE WHEN below_dc <> 0 OR below_dv <> 0 THEN below_dv END,
                   below_dc,
                   CASE WHEN own_dc > 0 THEN own_dv WHEN below_dc > 0 THEN below_dv END,
                   own_dc + below_dc,
                   dd
              FROM pending
             ORDER BY target_id, period, region_id
            ON CONFLICT (target_id, region_id, period) DO UPDATE SET
                own_value = CASE
                    WHEN (r.own_value IS NOT NULL)::int
                         + EXCLUDED.report_count - EXCLUDED.below_count > 0
                    THEN COALESCE(r.own_value, 0) + COALESCE(EXCLUDED.own_value, 0) END,
                below_value = CASE
                    WHEN r.below_count + EXCLUDED.below_count > 0
                    THEN COALESCE(r.below_value, 0) + COALESCE(EXCLUDED.below_value, 0) END,
                below_count = r.below_count + EXCLUDED.below_count,
                effective_value = CASE
                    WHEN (r.own_value IS NOT NULL)::int
                         + EXCLUDED.report_count - EXCLUDED.below_count > 0
                    THEN COALESCE(r.own_value, 0) + COALESCE(EXCLUDED.own_value, 0)
                    WHEN r.below_count + EXCLUDED.below_count > 0
                    THEN COALESCE(r.below_value, 0) + COALESCE(EXCLUDED.below_value, 0) END,
                report_count = r.report_count + EXCLUDED.report_count,
                demo_count = r.demo_count + EXCLUDED.demo_count
            RETURNING r.target_id, r.region_id, r.period, r.own_value, r.below_value,
                      r.below_count, r.effective_value, r.report_count
        ),
        changed AS (
            -- the row before this statement, from the row after it and the deltas applied
            SELECT a.target_id, a.region_id, a.period, p.own_dc + p.below_dc AS dc, p.dd,
                   COALESCE(a.effective_value, 0) - CASE
                       WHEN a.report_count - a.below_count - p.own_dc > 0
                       THEN COALESCE(a.own_value, 0) - p.own_dv
                       WHEN a.below_count - p.below_dc > 0
                       THEN COALESCE(a.below_value, 0) - p.below_dv
                       ELSE 0 END AS dv
              FROM applied a JOIN pending p USING (target_id, region_id, period)
        )
        INSERT INTO rollup_pending
        SELECT c.target_id, g.parent_id, c.period, at_depth - 1, 0, 0, c.dv, c.dc, c.dd
          FROM changed c JOIN planning_region g ON g.id = c.region_id
         WHERE g.parent_id IS NOT NULL AND (c.dv <> 0 OR c.dc <> 0 OR c.dd <> 0);
        DELETE FROM rollup_pending WHERE depth >= at_depth;
        at_depth := at_depth - 1;
    END LOOP;
    DELETE FROM rollup_pending;
        RETURN NULL;
    END
    $body$;
    """,
    "DROP TRIGGER IF EXISTS fireplan_rollup_on_delete ON targets_progressreport",
    "CREATE TRIGGER fireplan_rollup_on_delete AFTER DELETE ON targets_progressreport REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION fireplan_rollup_on_delete()",
]

# The roll-ups again from the approved reports with the new rule, level by level from the
# deepest regions (what the store's rebuild does, without its bulk-load fast path).
REBUILD = [
    "SELECT set_config('statement_timeout', '0', true)",
    "DELETE FROM targets_reportrollup",
    """
    DO $rebuild$
    DECLARE
        deepest integer;
    BEGIN
        CREATE TEMPORARY TABLE rollup_rebuild_depth ON COMMIT DROP AS
        WITH RECURSIVE d(id, parent_id, depth) AS (
            SELECT id, parent_id, 0 FROM planning_region WHERE parent_id IS NULL
            UNION ALL
            SELECT r.id, r.parent_id, d.depth + 1
              FROM planning_region r JOIN d ON r.parent_id = d.id
             WHERE d.depth < 32
        )
        SELECT id, parent_id, depth FROM d;
        INSERT INTO targets_reportrollup (target_id, region_id, period, own_value, below_value,
                                          below_count, effective_value, report_count, demo_count)
        SELECT p.target_id, p.region_id, p.period, p.value, NULL, 0, p.value, 1,
               CASE WHEN p.is_demo THEN 1 ELSE 0 END
          FROM targets_progressreport p
         WHERE p.status = 'approved' AND p.value IS NOT NULL;
        SELECT COALESCE(MAX(depth), 0) INTO deepest FROM rollup_rebuild_depth;
        FOR level IN REVERSE deepest - 1 .. 0 LOOP
            INSERT INTO targets_reportrollup AS r (target_id, region_id, period, own_value,
                                                   below_value, below_count, effective_value,
                                                   report_count, demo_count)
            SELECT c.target_id, g.parent_id, c.period, NULL, SUM(c.effective_value),
                   SUM(c.report_count), SUM(c.effective_value), SUM(c.report_count),
                   SUM(c.demo_count)
              FROM targets_reportrollup c JOIN rollup_rebuild_depth g ON g.id = c.region_id
             WHERE g.depth = level + 1 AND c.report_count > 0
             GROUP BY c.target_id, g.parent_id, c.period
             ORDER BY 1, 2, 3
            ON CONFLICT (target_id, region_id, period) DO UPDATE SET
                below_value = EXCLUDED.below_value,
                below_count = EXCLUDED.below_count,
                effective_value = COALESCE(r.own_value, EXCLUDED.below_value),
                report_count = r.report_count + EXCLUDED.report_count,
                demo_count = r.demo_count + EXCLUDED.demo_count;
        END LOOP;
        DROP TABLE rollup_rebuild_depth;
    END
    $rebuild$
    """,
]


def install(apps, schema_editor):
    """The new triggers, then the roll-ups rebuilt with the new rule."""
    if schema_editor.connection.vendor != "postgresql":
        return
    for statement in INSTALL + REBUILD:
        schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [("targets", "0009_base_figures_versions_chinese_keys")]

    # Not reversible to the old rule's SQL on purpose: the old rule double-counted.
    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
