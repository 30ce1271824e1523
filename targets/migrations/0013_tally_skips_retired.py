# Generated for the retirement of targets and allocations (停用)
# ruff: noqa: E501, W291, W293
# (The SQL below is byte-exact, trailing blanks included: the functions it creates must equal
# what targets/tally_store.py installs, see tests/test_migrations_are_history.py.)
"""The reporting tallies skip retired (停用) targets and allocations: nothing is owed for a
retired target, nor by the region of a retired allocation (targets/owed.py, the same rule),
and retiring or restoring a target recomputes its rows.

Migrations are history: the functions that changed are frozen here as targets/tally_store.py
generated them when this migration was written — the new ones (INSTALL) and, to migrate
back, those of 0006 (RESTORE). The triggers themselves are unchanged. No row is retired when
this runs, so the tallies need no rebuild. ``__TIME_ZONE__`` stands for settings.TIME_ZONE.
"""

from django.conf import settings
from django.db import migrations

TIME_ZONE = "__TIME_ZONE__"

INSTALL = [
    """
    CREATE OR REPLACE FUNCTION fireplan_tally_refresh(plan_ids bigint[], region_ids bigint[],
                                                  period_codes text[])
    RETURNS void LANGUAGE plpgsql AS $body$
    BEGIN
        IF plan_ids IS NULL OR cardinality(plan_ids) = 0 THEN
            RETURN;
        END IF;
        LOCK TABLE targets_reportingtally IN SHARE ROW EXCLUSIVE MODE;
        DELETE FROM targets_reportingtally y
         WHERE y.plan_id = ANY(plan_ids)
           AND (region_ids IS NULL OR y.region_id = ANY(region_ids))
           AND (period_codes IS NULL OR y.period = ANY(period_codes));
        INSERT INTO targets_reportingtally (plan_id, period, region_id, owed, draft, submitted, approved, returned, on_time, late)
        SELECT o.plan_id, rp.period, o.region_id, COUNT(*), SUM(CASE WHEN r.status = 'draft' THEN 1 ELSE 0 END), SUM(CASE WHEN r.status = 'submitted' THEN 1 ELSE 0 END), SUM(CASE WHEN r.status = 'approved' THEN 1 ELSE 0 END), SUM(CASE WHEN r.status = 'returned' THEN 1 ELSE 0 END), SUM(CASE WHEN r.status IN ('submitted', 'approved') AND r.submitted_at < ((rp.due_on + 1)::timestamp AT TIME ZONE '__TIME_ZONE__') THEN 1 ELSE 0 END), SUM(CASE WHEN r.status IN ('submitted', 'approved') AND r.submitted_at >= ((rp.due_on + 1)::timestamp AT TIME ZONE '__TIME_ZONE__') THEN 1 ELSE 0 END)
          FROM (
    SELECT t.id AS target_id, t.plan_id, t.region_id,
           COALESCE(t.target_year, p.end_year) AS last_year
      FROM targets_target t JOIN planning_plan p ON p.id = t.plan_id
     WHERE t.feed = 'reports' AND t.plan_id = ANY(plan_ids) AND t.retired_on IS NULL
       AND (region_ids IS NULL OR t.region_id = ANY(region_ids))
    UNION
    SELECT t.id, t.plan_id, a.region_id, COALESCE(t.target_year, p.end_year)
      FROM targets_allocation a JOIN targets_target t ON t.id = a.target_id
      JOIN planning_plan p ON p.id = t.plan_id
     WHERE t.feed = 'reports' AND t.plan_id = ANY(plan_ids) AND t.retired_on IS NULL
       AND a.retired_on IS NULL
       AND (region_ids IS NULL OR a.region_id = ANY(region_ids))) o
          JOIN targets_reportingperiod rp ON rp.plan_id = o.plan_id
                           AND left(rp.period, 4)::int <= o.last_year
                           AND (period_codes IS NULL OR rp.period = ANY(period_codes))
          LEFT JOIN targets_progressreport r ON r.target_id = o.target_id AND r.region_id = o.region_id
                               AND r.period = rp.period
         GROUP BY o.plan_id, rp.period, o.region_id
         ORDER BY o.plan_id, rp.period, o.region_id;
    END
    $body$;
""",
    """
    CREATE OR REPLACE FUNCTION fireplan_tally_on_report_insert() RETURNS trigger LANGUAGE plpgsql AS $body$
    DECLARE
        plans bigint[];
        regions bigint[];
        periods text[];
    BEGIN
        IF current_setting('fireplan.defer_rollups', true) = 'on' THEN
            RETURN NULL;
        END IF;
        
    INSERT INTO targets_reportingtally AS y (plan_id, period, region_id, owed, draft, submitted, approved, returned, on_time, late)
    SELECT t.plan_id, c.period, c.region_id, 0, COALESCE(SUM(d0), 0), COALESCE(SUM(d1), 0), COALESCE(SUM(d2), 0), COALESCE(SUM(d3), 0), COALESCE(SUM(d4), 0), COALESCE(SUM(d5), 0)
      FROM (
    SELECT target_id, region_id, period, status, submitted_at, 1 AS sign FROM new_rows) c
      JOIN targets_target t ON t.id = c.target_id AND t.feed = 'reports' AND t.retired_on IS NULL
      JOIN planning_plan p ON p.id = t.plan_id
      JOIN targets_reportingperiod rp ON rp.plan_id = t.plan_id AND rp.period = c.period
      CROSS JOIN LATERAL (SELECT CASE WHEN c.status = 'draft' THEN c.sign ELSE 0 END, CASE WHEN c.status = 'submitted' THEN c.sign ELSE 0 END, CASE WHEN c.status = 'approved' THEN c.sign ELSE 0 END, CASE WHEN c.status = 'returned' THEN c.sign ELSE 0 END, CASE WHEN c.status IN ('submitted', 'approved') AND c.submitted_at < ((rp.due_on + 1)::timestamp AT TIME ZONE '__TIME_ZONE__') THEN c.sign ELSE 0 END, CASE WHEN c.status IN ('submitted', 'approved') AND c.submitted_at >= ((rp.due_on + 1)::timestamp AT TIME ZONE '__TIME_ZONE__') THEN c.sign ELSE 0 END)
            s(d0, d1, d2, d3, d4, d5)
     WHERE left(c.period, 4)::int <= COALESCE(t.target_year, p.end_year)
       AND (c.region_id = t.region_id OR EXISTS (
            SELECT 1 FROM targets_allocation a
             WHERE a.target_id = c.target_id AND a.region_id = c.region_id
               AND a.retired_on IS NULL))
     GROUP BY t.plan_id, c.period, c.region_id
    HAVING SUM(d0) <> 0 OR SUM(d1) <> 0 OR SUM(d2) <> 0 OR SUM(d3) <> 0 OR SUM(d4) <> 0 OR SUM(d5) <> 0
     ORDER BY t.plan_id, c.period, c.region_id
    ON CONFLICT (plan_id, period, region_id) DO UPDATE SET
        draft = y.draft + EXCLUDED.draft, submitted = y.submitted + EXCLUDED.submitted, approved = y.approved + EXCLUDED.approved, returned = y.returned + EXCLUDED.returned, on_time = y.on_time + EXCLUDED.on_time, late = y.late + EXCLUDED.late
;
        RETURN NULL;
    END
    $body$;
    """,
    """
    CREATE OR REPLACE FUNCTION fireplan_tally_on_report_update() RETURNS trigger LANGUAGE plpgsql AS $body$
    DECLARE
        plans bigint[];
        regions bigint[];
        periods text[];
    BEGIN
        IF current_setting('fireplan.defer_rollups', true) = 'on' THEN
            RETURN NULL;
        END IF;
        
    INSERT INTO targets_reportingtally AS y (plan_id, period, region_id, owed, draft, submitted, approved, returned, on_time, late)
    SELECT t.plan_id, c.period, c.region_id, 0, COALESCE(SUM(d0), 0), COALESCE(SUM(d1), 0), COALESCE(SUM(d2), 0), COALESCE(SUM(d3), 0), COALESCE(SUM(d4), 0), COALESCE(SUM(d5), 0)
      FROM (
    SELECT target_id, region_id, period, status, submitted_at, 1 AS sign FROM new_rows UNION ALL 
    SELECT target_id, region_id, period, status, submitted_at, -1 AS sign FROM old_rows) c
      JOIN targets_target t ON t.id = c.target_id AND t.feed = 'reports' AND t.retired_on IS NULL
      JOIN planning_plan p ON p.id = t.plan_id
      JOIN targets_reportingperiod rp ON rp.plan_id = t.plan_id AND rp.period = c.period
      CROSS JOIN LATERAL (SELECT CASE WHEN c.status = 'draft' THEN c.sign ELSE 0 END, CASE WHEN c.status = 'submitted' THEN c.sign ELSE 0 END, CASE WHEN c.status = 'approved' THEN c.sign ELSE 0 END, CASE WHEN c.status = 'returned' THEN c.sign ELSE 0 END, CASE WHEN c.status IN ('submitted', 'approved') AND c.submitted_at < ((rp.due_on + 1)::timestamp AT TIME ZONE '__TIME_ZONE__') THEN c.sign ELSE 0 END, CASE WHEN c.status IN ('submitted', 'approved') AND c.submitted_at >= ((rp.due_on + 1)::timestamp AT TIME ZONE '__TIME_ZONE__') THEN c.sign ELSE 0 END)
            s(d0, d1, d2, d3, d4, d5)
     WHERE left(c.period, 4)::int <= COALESCE(t.target_year, p.end_year)
       AND (c.region_id = t.region_id OR EXISTS (
            SELECT 1 FROM targets_allocation a
             WHERE a.target_id = c.target_id AND a.region_id = c.region_id
               AND a.retired_on IS NULL))
     GROUP BY t.plan_id, c.period, c.region_id
    HAVING SUM(d0) <> 0 OR SUM(d1) <> 0 OR SUM(d2) <> 0 OR SUM(d3) <> 0 OR SUM(d4) <> 0 OR SUM(d5) <> 0
     ORDER BY t.plan_id, c.period, c.region_id
    ON CONFLICT (plan_id, period, region_id) DO UPDATE SET
        draft = y.draft + EXCLUDED.draft, submitted = y.submitted + EXCLUDED.submitted, approved = y.approved + EXCLUDED.approved, returned = y.returned + EXCLUDED.returned, on_time = y.on_time + EXCLUDED.on_time, late = y.late + EXCLUDED.late
;
        RETURN NULL;
    END
    $body$;
    """,
    """
    CREATE OR REPLACE FUNCTION fireplan_tally_on_report_delete() RETURNS trigger LANGUAGE plpgsql AS $body$
    DECLARE
        plans bigint[];
        regions bigint[];
        periods text[];
    BEGIN
        IF current_setting('fireplan.defer_rollups', true) = 'on' THEN
            RETURN NULL;
        END IF;
        
    INSERT INTO targets_reportingtally AS y (plan_id, period, region_id, owed, draft, submitted, approved, returned, on_time, late)
    SELECT t.plan_id, c.period, c.region_id, 0, COALESCE(SUM(d0), 0), COALESCE(SUM(d1), 0), COALESCE(SUM(d2), 0), COALESCE(SUM(d3), 0), COALESCE(SUM(d4), 0), COALESCE(SUM(d5), 0)
      FROM (
    SELECT target_id, region_id, period, status, submitted_at, -1 AS sign FROM old_rows) c
      JOIN targets_target t ON t.id = c.target_id AND t.feed = 'reports' AND t.retired_on IS NULL
      JOIN planning_plan p ON p.id = t.plan_id
      JOIN targets_reportingperiod rp ON rp.plan_id = t.plan_id AND rp.period = c.period
      CROSS JOIN LATERAL (SELECT CASE WHEN c.status = 'draft' THEN c.sign ELSE 0 END, CASE WHEN c.status = 'submitted' THEN c.sign ELSE 0 END, CASE WHEN c.status = 'approved' THEN c.sign ELSE 0 END, CASE WHEN c.status = 'returned' THEN c.sign ELSE 0 END, CASE WHEN c.status IN ('submitted', 'approved') AND c.submitted_at < ((rp.due_on + 1)::timestamp AT TIME ZONE '__TIME_ZONE__') THEN c.sign ELSE 0 END, CASE WHEN c.status IN ('submitted', 'approved') AND c.submitted_at >= ((rp.due_on + 1)::timestamp AT TIME ZONE '__TIME_ZONE__') THEN c.sign ELSE 0 END)
            s(d0, d1, d2, d3, d4, d5)
     WHERE left(c.period, 4)::int <= COALESCE(t.target_year, p.end_year)
       AND (c.region_id = t.region_id OR EXISTS (
            SELECT 1 FROM targets_allocation a
             WHERE a.target_id = c.target_id AND a.region_id = c.region_id
               AND a.retired_on IS NULL))
     GROUP BY t.plan_id, c.period, c.region_id
    HAVING SUM(d0) <> 0 OR SUM(d1) <> 0 OR SUM(d2) <> 0 OR SUM(d3) <> 0 OR SUM(d4) <> 0 OR SUM(d5) <> 0
     ORDER BY t.plan_id, c.period, c.region_id
    ON CONFLICT (plan_id, period, region_id) DO UPDATE SET
        draft = y.draft + EXCLUDED.draft, submitted = y.submitted + EXCLUDED.submitted, approved = y.approved + EXCLUDED.approved, returned = y.returned + EXCLUDED.returned, on_time = y.on_time + EXCLUDED.on_time, late = y.late + EXCLUDED.late
;
        RETURN NULL;
    END
    $body$;
    """,
    """
    CREATE OR REPLACE FUNCTION fireplan_tally_on_target_update() RETURNS trigger LANGUAGE plpgsql AS $body$
    DECLARE
        plans bigint[];
        regions bigint[];
        periods text[];
    BEGIN
        IF current_setting('fireplan.defer_rollups', true) = 'on' THEN
            RETURN NULL;
        END IF;
        SELECT k.* INTO plans, regions, periods FROM (
        WITH changed AS (
    SELECT n.id FROM new_rows n JOIN old_rows o ON o.id = n.id
     WHERE n.feed IS DISTINCT FROM o.feed OR n.region_id IS DISTINCT FROM o.region_id
        OR n.target_year IS DISTINCT FROM o.target_year OR n.plan_id IS DISTINCT FROM o.plan_id
        OR n.retired_on IS DISTINCT FROM o.retired_on),
        touched(plan_id, region_id) AS (
            SELECT n.plan_id, n.region_id FROM new_rows n JOIN changed USING (id)
            UNION SELECT o.plan_id, o.region_id FROM old_rows o JOIN changed USING (id)
            UNION SELECT n.plan_id, a.region_id FROM new_rows n JOIN changed USING (id)
                  JOIN targets_allocation a ON a.target_id = n.id
            UNION SELECT o.plan_id, a.region_id FROM old_rows o JOIN changed USING (id)
                  JOIN targets_allocation a ON a.target_id = o.id
        )
        SELECT array_agg(DISTINCT plan_id), array_agg(DISTINCT region_id), NULL::text[]
          FROM touched) k;
        PERFORM fireplan_tally_refresh(plans, regions, periods);
        RETURN NULL;
    END
    $body$;
    """,
]

RESTORE = [
    """
    CREATE OR REPLACE FUNCTION fireplan_tally_refresh(plan_ids bigint[], region_ids bigint[],
                                                  period_codes text[])
    RETURNS void LANGUAGE plpgsql AS $body$
    BEGIN
        IF plan_ids IS NULL OR cardinality(plan_ids) = 0 THEN
            RETURN;
        END IF;
        LOCK TABLE targets_reportingtally IN SHARE ROW EXCLUSIVE MODE;
        DELETE FROM targets_reportingtally y
         WHERE y.plan_id = ANY(plan_ids)
           AND (region_ids IS NULL OR y.region_id = ANY(region_ids))
           AND (period_codes IS NULL OR y.period = ANY(period_codes));
        INSERT INTO targets_reportingtally (plan_id, period, region_id, owed, draft, submitted, approved, returned, on_time, late)
        SELECT o.plan_id, rp.period, o.region_id, COUNT(*), SUM(CASE WHEN r.status = 'draft' THEN 1 ELSE 0 END), SUM(CASE WHEN r.status = 'submitted' THEN 1 ELSE 0 END), SUM(CASE WHEN r.status = 'approved' THEN 1 ELSE 0 END), SUM(CASE WHEN r.status = 'returned' THEN 1 ELSE 0 END), SUM(CASE WHEN r.status IN ('submitted', 'approved') AND r.submitted_at < ((rp.due_on + 1)::timestamp AT TIME ZONE '__TIME_ZONE__') THEN 1 ELSE 0 END), SUM(CASE WHEN r.status IN ('submitted', 'approved') AND r.submitted_at >= ((rp.due_on + 1)::timestamp AT TIME ZONE '__TIME_ZONE__') THEN 1 ELSE 0 END)
          FROM (
    SELECT t.id AS target_id, t.plan_id, t.region_id,
           COALESCE(t.target_year, p.end_year) AS last_year
      FROM targets_target t JOIN planning_plan p ON p.id = t.plan_id
     WHERE t.feed = 'reports' AND t.plan_id = ANY(plan_ids)
       AND (region_ids IS NULL OR t.region_id = ANY(region_ids))
    UNION
    SELECT t.id, t.plan_id, a.region_id, COALESCE(t.target_year, p.end_year)
      FROM targets_allocation a JOIN targets_target t ON t.id = a.target_id
      JOIN planning_plan p ON p.id = t.plan_id
     WHERE t.feed = 'reports' AND t.plan_id = ANY(plan_ids)
       AND (region_ids IS NULL OR a.region_id = ANY(region_ids))) o
          JOIN targets_reportingperiod rp ON rp.plan_id = o.plan_id
                           AND left(rp.period, 4)::int <= o.last_year
                           AND (period_codes IS NULL OR rp.period = ANY(period_codes))
          LEFT JOIN targets_progressreport r ON r.target_id = o.target_id AND r.region_id = o.region_id
                               AND r.period = rp.period
         GROUP BY o.plan_id, rp.period, o.region_id
         ORDER BY o.plan_id, rp.period, o.region_id;
    END
    $body$;
""",
    """
    CREATE OR REPLACE FUNCTION fireplan_tally_on_report_insert() RETURNS trigger LANGUAGE plpgsql AS $body$
    DECLARE
        plans bigint[];
        regions bigint[];
        periods text[];
    BEGIN
        IF current_setting('fireplan.defer_rollups', true) = 'on' THEN
            RETURN NULL;
        END IF;
        
    INSERT INTO targets_reportingtally AS y (plan_id, period, region_id, owed, draft, submitted, approved, returned, on_time, late)
    SELECT t.plan_id, c.period, c.region_id, 0, COALESCE(SUM(d0), 0), COALESCE(SUM(d1), 0), COALESCE(SUM(d2), 0), COALESCE(SUM(d3), 0), COALESCE(SUM(d4), 0), COALESCE(SUM(d5), 0)
      FROM (
    SELECT target_id, region_id, period, status, submitted_at, 1 AS sign FROM new_rows) c
      JOIN targets_target t ON t.id = c.target_id AND t.feed = 'reports'
      JOIN planning_plan p ON p.id = t.plan_id
      JOIN targets_reportingperiod rp ON rp.plan_id = t.plan_id AND rp.period = c.period
      CROSS JOIN LATERAL (SELECT CASE WHEN c.status = 'draft' THEN c.sign ELSE 0 END, CASE WHEN c.status = 'submitted' THEN c.sign ELSE 0 END, CASE WHEN c.status = 'approved' THEN c.sign ELSE 0 END, CASE WHEN c.status = 'returned' THEN c.sign ELSE 0 END, CASE WHEN c.status IN ('submitted', 'approved') AND c.submitted_at < ((rp.due_on + 1)::timestamp AT TIME ZONE '__TIME_ZONE__') THEN c.sign ELSE 0 END, CASE WHEN c.status IN ('submitted', 'approved') AND c.submitted_at >= ((rp.due_on + 1)::timestamp AT TIME ZONE '__TIME_ZONE__') THEN c.sign ELSE 0 END)
            s(d0, d1, d2, d3, d4, d5)
     WHERE left(c.period, 4)::int <= COALESCE(t.target_year, p.end_year)
       AND (c.region_id = t.region_id OR EXISTS (
            SELECT 1 FROM targets_allocation a
             WHERE a.target_id = c.target_id AND a.region_id = c.region_id))
     GROUP BY t.plan_id, c.period, c.region_id
    HAVING SUM(d0) <> 0 OR SUM(d1) <> 0 OR SUM(d2) <> 0 OR SUM(d3) <> 0 OR SUM(d4) <> 0 OR SUM(d5) <> 0
     ORDER BY t.plan_id, c.period, c.region_id
    ON CONFLICT (plan_id, period, region_id) DO UPDATE SET
        draft = y.draft + EXCLUDED.draft, submitted = y.submitted + EXCLUDED.submitted, approved = y.approved + EXCLUDED.approved, returned = y.returned + EXCLUDED.returned, on_time = y.on_time + EXCLUDED.on_time, late = y.late + EXCLUDED.late
;
        RETURN NULL;
    END
    $body$;
    """,
    """
    CREATE OR REPLACE FUNCTION fireplan_tally_on_report_update() RETURNS trigger LANGUAGE plpgsql AS $body$
    DECLARE
        plans bigint[];
        regions bigint[];
        periods text[];
    BEGIN
        IF current_setting('fireplan.defer_rollups', true) = 'on' THEN
            RETURN NULL;
        END IF;
        
    INSERT INTO targets_reportingtally AS y (plan_id, period, region_id, owed, draft, submitted, approved, returned, on_time, late)
    SELECT t.plan_id, c.period, c.region_id, 0, COALESCE(SUM(d0), 0), COALESCE(SUM(d1), 0), COALESCE(SUM(d2), 0), COALESCE(SUM(d3), 0), COALESCE(SUM(d4), 0), COALESCE(SUM(d5), 0)
      FROM (
    SELECT target_id, region_id, period, status, submitted_at, 1 AS sign FROM new_rows UNION ALL 
    SELECT target_id, region_id, period, status, submitted_at, -1 AS sign FROM old_rows) c
      JOIN targets_target t ON t.id = c.target_id AND t.feed = 'reports'
      JOIN planning_plan p ON p.id = t.plan_id
      JOIN targets_reportingperiod rp ON rp.plan_id = t.plan_id AND rp.period = c.period
      CROSS JOIN LATERAL (SELECT CASE WHEN c.status = 'draft' THEN c.sign ELSE 0 END, CASE WHEN c.status = 'submitted' THEN c.sign ELSE 0 END, CASE WHEN c.status = 'approved' THEN c.sign ELSE 0 END, CASE WHEN c.status = 'returned' THEN c.sign ELSE 0 END, CASE WHEN c.status IN ('submitted', 'approved') AND c.submitted_at < ((rp.due_on + 1)::timestamp AT TIME ZONE '__TIME_ZONE__') THEN c.sign ELSE 0 END, CASE WHEN c.status IN ('submitted', 'approved') AND c.submitted_at >= ((rp.due_on + 1)::timestamp AT TIME ZONE '__TIME_ZONE__') THEN c.sign ELSE 0 END)
            s(d0, d1, d2, d3, d4, d5)
     WHERE left(c.period, 4)::int <= COALESCE(t.target_year, p.end_year)
       AND (c.region_id = t.region_id OR EXISTS (
            SELECT 1 FROM targets_allocation a
             WHERE a.target_id = c.target_id AND a.region_id = c.region_id))
     GROUP BY t.plan_id, c.period, c.region_id
    HAVING SUM(d0) <> 0 OR SUM(d1) <> 0 OR SUM(d2) <> 0 OR SUM(d3) <> 0 OR SUM(d4) <> 0 OR SUM(d5) <> 0
     ORDER BY t.plan_id, c.period, c.region_id
    ON CONFLICT (plan_id, period, region_id) DO UPDATE SET
        draft = y.draft + EXCLUDED.draft, submitted = y.submitted + EXCLUDED.submitted, approved = y.approved + EXCLUDED.approved, returned = y.returned + EXCLUDED.returned, on_time = y.on_time + EXCLUDED.on_time, late = y.late + EXCLUDED.late
;
        RETURN NULL;
    END
    $body$;
    """,
    """
    CREATE OR REPLACE FUNCTION fireplan_tally_on_report_delete() RETURNS trigger LANGUAGE plpgsql AS $body$
    DECLARE
        plans bigint[];
        regions bigint[];
        periods text[];
    BEGIN
        IF current_setting('fireplan.defer_rollups', true) = 'on' THEN
            RETURN NULL;
        END IF;
        
    INSERT INTO targets_reportingtally AS y (plan_id, period, region_id, owed, draft, submitted, approved, returned, on_time, late)
    SELECT t.plan_id, c.period, c.region_id, 0, COALESCE(SUM(d0), 0), COALESCE(SUM(d1), 0), COALESCE(SUM(d2), 0), COALESCE(SUM(d3), 0), COALESCE(SUM(d4), 0), COALESCE(SUM(d5), 0)
      FROM (
    SELECT target_id, region_id, period, status, submitted_at, -1 AS sign FROM old_rows) c
      JOIN targets_target t ON t.id = c.target_id AND t.feed = 'reports'
      JOIN planning_plan p ON p.id = t.plan_id
      JOIN targets_reportingperiod rp ON rp.plan_id = t.plan_id AND rp.period = c.period
      CROSS JOIN LATERAL (SELECT CASE WHEN c.status = 'draft' THEN c.sign ELSE 0 END, CASE WHEN c.status = 'submitted' THEN c.sign ELSE 0 END, CASE WHEN c.status = 'approved' THEN c.sign ELSE 0 END, CASE WHEN c.status = 'returned' THEN c.sign ELSE 0 END, CASE WHEN c.status IN ('submitted', 'approved') AND c.submitted_at < ((rp.due_on + 1)::timestamp AT TIME ZONE '__TIME_ZONE__') THEN c.sign ELSE 0 END, CASE WHEN c.status IN ('submitted', 'approved') AND c.submitted_at >= ((rp.due_on + 1)::timestamp AT TIME ZONE '__TIME_ZONE__') THEN c.sign ELSE 0 END)
            s(d0, d1, d2, d3, d4, d5)
     WHERE left(c.period, 4)::int <= COALESCE(t.target_year, p.end_year)
       AND (c.region_id = t.region_id OR EXISTS (
            SELECT 1 FROM targets_allocation a
             WHERE a.target_id = c.target_id AND a.region_id = c.region_id))
     GROUP BY t.plan_id, c.period, c.region_id
    HAVING SUM(d0) <> 0 OR SUM(d1) <> 0 OR SUM(d2) <> 0 OR SUM(d3) <> 0 OR SUM(d4) <> 0 OR SUM(d5) <> 0
     ORDER BY t.plan_id, c.period, c.region_id
    ON CONFLICT (plan_id, period, region_id) DO UPDATE SET
        draft = y.draft + EXCLUDED.draft, submitted = y.submitted + EXCLUDED.submitted, approved = y.approved + EXCLUDED.approved, returned = y.returned + EXCLUDED.returned, on_time = y.on_time + EXCLUDED.on_time, late = y.late + EXCLUDED.late
;
        RETURN NULL;
    END
    $body$;
    """,
    """
    CREATE OR REPLACE FUNCTION fireplan_tally_on_target_update() RETURNS trigger LANGUAGE plpgsql AS $body$
    DECLARE
        plans bigint[];
        regions bigint[];
        periods text[];
    BEGIN
        IF current_setting('fireplan.defer_rollups', true) = 'on' THEN
            RETURN NULL;
        END IF;
        SELECT k.* INTO plans, regions, periods FROM (
        WITH changed AS (
    SELECT n.id FROM new_rows n JOIN old_rows o ON o.id = n.id
     WHERE n.feed IS DISTINCT FROM o.feed OR n.region_id IS DISTINCT FROM o.region_id
        OR n.target_year IS DISTINCT FROM o.target_year OR n.plan_id IS DISTINCT FROM o.plan_id),
        touched(plan_id, region_id) AS (
            SELECT n.plan_id, n.region_id FROM new_rows n JOIN changed USING (id)
            UNION SELECT o.plan_id, o.region_id FROM old_rows o JOIN changed USING (id)
            UNION SELECT n.plan_id, a.region_id FROM new_rows n JOIN changed USING (id)
                  JOIN targets_allocation a ON a.target_id = n.id
            UNION SELECT o.plan_id, a.region_id FROM old_rows o JOIN changed USING (id)
                  JOIN targets_allocation a ON a.target_id = o.id
        )
        SELECT array_agg(DISTINCT plan_id), array_agg(DISTINCT region_id), NULL::text[]
          FROM touched) k;
        PERFORM fireplan_tally_refresh(plans, regions, periods);
        RETURN NULL;
    END
    $body$;
    """,
]


def _run(statements, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    zone = settings.TIME_ZONE.replace("'", "")
    for statement in statements:
        schema_editor.execute(statement.replace(TIME_ZONE, zone), params=None)


def install(apps, schema_editor):
    _run(INSTALL, schema_editor)


def restore(apps, schema_editor):
    _run(RESTORE, schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("targets", "0012_retired_targets_milestones_allocations"),
    ]

    operations = [
        migrations.RunPython(install, restore),
    ]
