-- migration.staged_tables: what the staging schema holds now, one row per backup table.
-- Contract: migration-contract.md §6 (staged rows = the length of the table's array in the backup;
-- rows rejected at load time count as rejected in every later run; tables skipped by name at stage).
-- Requires: 00_schemas. Replaced in the same transaction as the staging tables themselves.
create table if not exists migration.staged_tables (
    table_name text primary key,
    stage_run_id uuid not null,
    position integer not null,
    staged_rows bigint not null,
    loaded_rows bigint not null,
    unstorable_rows bigint not null,
    skipped_reason text,
    long_integers jsonb not null default '{}'::jsonb,
    columns jsonb not null default '[]'::jsonb
);
