-- Check 1 (evidence): each mapped table's rejected and orphaned counts equal the rows logged for
-- them in migration.rejects (load-time and transform rejects) and migration.orphans (skipped).
-- Contract: migration-contract.md §4 (rejects are logged), §5 (orphans are logged), §6, §8.1.
-- Requires: 00_select_run. Returns the offending tables; none when the check passes.
with outcomes as (
    select o.*
    from migration.table_outcomes as o
    where
        o.run_id = current_setting('d1pg.transform_run_id')::uuid
        and o.skip_reason is null
),

stage_run as (
    select t.stage_run_id
    from migration.staged_tables as t
    order by t.stage_run_id
    limit 1
),

logged_rejects as (
    select
        r.source_table,
        count(*) as logged
    from migration.rejects as r
    where
        r.run_id = current_setting('d1pg.transform_run_id')::uuid
        or r.run_id = (select s.stage_run_id from stage_run as s)
    group by r.source_table
),

logged_orphans as (
    select
        p.source_table,
        count(*) as logged
    from migration.orphans as p
    where
        p.run_id = current_setting('d1pg.transform_run_id')::uuid
        and p.action = 'skipped'
    group by p.source_table
)

select
    o.source_table,
    o.rejected,
    coalesce(r.logged, 0) as rejects_logged,
    o.orphaned,
    coalesce(p.logged, 0) as orphans_logged
from outcomes as o
left join logged_rejects as r on o.source_table = r.source_table
left join logged_orphans as p on o.source_table = p.source_table
where
    o.rejected <> coalesce(r.logged, 0)
    or o.orphaned <> coalesce(p.logged, 0)
order by o.source_table;
