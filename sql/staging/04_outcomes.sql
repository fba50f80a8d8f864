-- migration.rejects, migration.orphans, migration.conflicts: rows and values that did not move as they were.
-- Contract: migration-contract.md §2, §4 (rejects and reasons), §5 (orphans), core-tables.md (merge conflicts).
-- Requires: 00_schemas. Raw values are kept here as they were; everything shown to people masks secrets.
create table if not exists migration.rejects (
    reject_id bigint generated always as identity primary key,
    run_id uuid not null,
    source_table text not null,
    source_ord bigint not null,
    source_id text,
    column_name text,
    raw_value text,
    reason text not null,
    detail text
);

create index if not exists rejects_run_id_idx on migration.rejects (run_id, source_table);

create table if not exists migration.orphans (
    orphan_id bigint generated always as identity primary key,
    run_id uuid not null,
    source_table text not null,
    source_ord bigint not null,
    source_id text,
    fk_column text not null,
    missing_value text,
    parent_table text not null,
    action text not null,
    constraint orphans_action_check check (action in ('skipped', 'nulled'))
);

create index if not exists orphans_run_id_idx on migration.orphans (run_id, source_table);

create table if not exists migration.conflicts (
    conflict_id bigint generated always as identity primary key,
    run_id uuid not null,
    target_table text not null,
    key text not null,
    detail jsonb not null
);

create index if not exists conflicts_run_id_idx on migration.conflicts (run_id, target_table);
