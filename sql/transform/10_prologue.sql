-- Set up one transform run: its run id, the backup's createdAt, and the options, in a temporary
-- table transform_context that every later step reads.
-- Contract: migration-contract.md §4 (no clock in the data: missing timestamps take the backup's
-- createdAt), §7 (one transaction), core-tables.md (merge winner is one named setting).
-- Requires: a staged backup (migration.staged_tables, migration.runs of its stage; a backup without
-- tables is the last stage run that succeeded).
-- Settings (set_config before this script, or psql defaults below):
--   d1pg.run_id (a new uuid when unset), d1pg.merge_winner (wallet | progress, default wallet),
--   d1pg.accept_unmapped, d1pg.accept_missing, d1pg.replace (on | off, default off).
set local extra_float_digits = 1;

-- The conversion expressions are wide; JIT compiling them costs seconds and saves nothing here.
set local jit = off;

-- Room for the hash tables and sorts that decide duplicates (a quarter of a million ids and more
-- per table): at least 64 MB for this transaction, or the session's own setting when larger.
do $$
begin
    perform set_config(
        'work_mem',
        (greatest(pg_size_bytes(current_setting('work_mem')), 64 * 1024 * 1024) / 1024)::text || 'kB',
        true
    );
end
$$;

create temporary table transform_context on commit drop as
select
    coalesce(nullif(current_setting('d1pg.run_id', true), ''), gen_random_uuid()::text)::uuid as run_id,
    stage.run_id as stage_run_id,
    migration.to_timestamptz(to_jsonb(stage.backup_created_at)) as backup_created_at,
    coalesce(nullif(current_setting('d1pg.merge_winner', true), ''), 'wallet') as merge_winner,
    coalesce(nullif(current_setting('d1pg.accept_unmapped', true), ''), 'off') = 'on' as accept_unmapped,
    coalesce(nullif(current_setting('d1pg.accept_missing', true), ''), 'off') = 'on' as accept_missing,
    coalesce(nullif(current_setting('d1pg.replace', true), ''), 'off') = 'on' as replace_target
from migration.runs as stage
where stage.run_id = coalesce(
    (
        select t.stage_run_id from migration.staged_tables as t
        order by t.stage_run_id
        limit 1
    ),
    -- a backup with no tables at all: the last stage that succeeded staged it
    (
        select r.run_id from migration.runs as r
        where r.step = 'stage' and r.status = 'succeeded'
        order by r.finished_at desc
        limit 1
    )
);

-- Temporary tables are never analyzed automatically; without statistics every later plan
-- would guess hundreds of rows here instead of one.
analyze transform_context;

do $$
begin
    if not exists (select 1 from transform_context) then
        raise exception 'nothing is staged: run `invoke stage BACKUP` first';
    end if;
    if (select merge_winner from transform_context) not in ('wallet', 'progress') then
        raise exception 'd1pg.merge_winner must be wallet or progress';
    end if;
end
$$;
