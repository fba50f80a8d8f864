-- migration.runs: one row per invocation of stage, transform or validate.
-- Contract: migration-contract.md §2 (runs), §7 (audit rows of a failed run survive its rollback).
-- Requires: 00_schemas. Written on a separate autocommit connection, so a failed run keeps its row.
create table if not exists migration.runs (
    run_id uuid primary key,
    step text not null,
    started_at timestamptz not null,
    finished_at timestamptz,
    status text not null default 'running',
    failure text,
    backup_path text,
    backup_sha256 text,
    backup_size_bytes bigint,
    backup_created_at text,
    backup_created_by text,
    backup_version text,
    backup_version_name text,
    stage_run_id uuid,
    options jsonb not null default '{}'::jsonb,
    tool_version text,
    server_version text,
    constraint runs_step_check check (step in ('stage', 'transform', 'validate', 'rollback', 'clean')),
    constraint runs_status_check check (status in ('running', 'succeeded', 'failed'))
);
