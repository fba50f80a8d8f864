-- migration.audit_log: start and end of each step, per-table counts, every warning and error.
-- Contract: migration-contract.md §2 (audit_log), §7; seed plan "Audit Trail".
-- Requires: 00_schemas. Written on a separate autocommit connection.
create table if not exists migration.audit_log (
    audit_id bigint generated always as identity primary key,
    run_id uuid not null,
    at timestamptz not null default clock_timestamp(),
    level text not null,
    step text not null,
    table_name text,
    message text not null,
    counts jsonb,
    constraint audit_log_level_check check (level in ('info', 'warning', 'error'))
);

create index if not exists audit_log_run_id_idx on migration.audit_log (run_id, audit_id);
