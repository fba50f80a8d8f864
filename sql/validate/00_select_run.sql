-- Choose the transform run every later check reads: the setting d1pg.transform_run_id when set
-- (the tool sets it), else d1pg.run_id (set it when running the transform bundle in psql), else the
-- newest succeeded transform the tool recorded.
-- Contract: migration-contract.md §8 (validation of one transform's outcome).
-- Requires: the bookkeeping of a finished transform (migration.table_outcomes).
select
    set_config(
        'd1pg.transform_run_id',
        coalesce(
            nullif(current_setting('d1pg.transform_run_id', true), ''),
            nullif(current_setting('d1pg.run_id', true), ''),
            (
                select r.run_id::text
                from migration.runs as r
                where r.step = 'transform' and r.status = 'succeeded'
                order by r.started_at desc
                limit 1
            )
        ),
        false
    ) as transform_run_id;
