-- Creates the target table goals: the goals each user sets.
-- Reflects core-tables.md "goals" (columns in check order, the status CHECK,
-- progress 0..100; started_at, completed_at, priority, sort_order have no
-- source column) and migration-contract.md §3 (ids), §4 (CHECK values) and §5
-- (user_id -> users, on delete cascade).
-- created_at / updated_at: core-tables.md says only "same"; they follow every
-- other table's created_at / updated_at (timestamptz not null default now()).
-- Requires: 10_users.

create table if not exists {{ target_schema | ident }}.goals (
    id uuid constraint goals_pkey primary key default gen_random_uuid(),
    user_id uuid not null,
    title text not null,
    description text,
    category text,
    target_date date,
    status text not null default 'active',
    progress integer not null default 0,
    started_at timestamptz,
    completed_at timestamptz,
    priority integer not null default 0,
    sort_order integer not null default 0,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),

    constraint goals_user_id_fkey foreign key (user_id)
    references {{ target_schema | ident }}.users (id) on delete cascade,
    constraint goals_status_check check (status in ('active', 'completed', 'abandoned', 'paused')),
    constraint goals_progress_check check (progress between 0 and 100)
);

-- user_id leads no unique index: index it for the foreign key.
create index if not exists goals_user_id_idx
on {{ target_schema | ident }}.goals (user_id);
