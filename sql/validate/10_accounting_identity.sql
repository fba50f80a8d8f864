-- Check 1: every staged table is accounted for, and its rows add up:
-- staged = migrated + merged + skipped + orphaned + rejected, and staged = the rows in the backup.
-- Contract: migration-contract.md §6 (nothing unexplained), §8.1.
-- Requires: 00_select_run. Returns the offending tables; none when the check passes.
with outcomes as (
    select o.*
    from migration.table_outcomes as o
    where o.run_id = current_setting('d1pg.transform_run_id')::uuid
)

select
    coalesce(o.source_table, t.table_name) as source_table,
    t.staged_rows as rows_in_backup,
    o.staged,
    o.migrated + o.merged + o.skipped + o.orphaned + o.rejected as accounted_for
from outcomes as o
full join migration.staged_tables as t on o.source_table = t.table_name
where
    o.source_table is null
    or t.table_name is null
    or o.staged <> t.staged_rows
    or o.staged <> o.migrated + o.merged + o.skipped + o.orphaned + o.rejected
order by 1;
