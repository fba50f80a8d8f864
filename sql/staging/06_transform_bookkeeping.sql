-- Bookkeeping of transform: per-table outcomes, unmapped columns, and the tables d1pg created.
-- Contract: migration-contract.md §6 (staged = migrated + merged + skipped + orphaned + rejected;
-- unmapped columns reported as possible data loss), §7 (the tool records which tables it created).
-- Requires: 00_schemas.
create table if not exists migration.table_outcomes (
    run_id uuid not null,
    source_table text not null,
    staged bigint not null,
    migrated bigint not null default 0,
    merged bigint not null default 0,
    skipped bigint not null default 0,
    orphaned bigint not null default 0,
    rejected bigint not null default 0,
    skip_reason text,
    target_table text,
    primary key (run_id, source_table)
);

create table if not exists migration.unmapped_columns (
    run_id uuid not null,
    source_table text not null,
    column_name text not null,
    rows_with_value bigint not null,
    primary key (run_id, source_table, column_name)
);

create table if not exists migration.created_tables (
    table_schema text not null,
    table_name text not null,
    created_at timestamptz not null default now(),
    primary key (table_schema, table_name)
);
