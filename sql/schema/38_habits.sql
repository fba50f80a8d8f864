-- Creates the target table habits: the habits each user tracks.
-- Reflects core-tables.md "habits" (columns in check order, the frequency
-- CHECK; custom_days, streaks, sort_order, last_completed_at have no source
-- column) and migration-contract.md §3 (ids), §4 (CHECK values) and §5
-- (user_id -> users, on delete cascade).
-- Requires: 10_users.

create table if not exists {{ target_schema | ident }}.habits (
    id uuid constraint habits_pkey primary key default gen_random_uuid(),
    user_id uuid not null,
    name text not null,
    description text,
    icon text,
    color text,
    frequency text not null default 'daily',
    target_count integer not null default 1,
    is_active boolean not null default true,
    custom_days text,
    current_streak integer not null default 0,
    longest_streak integer not null default 0,
    sort_order integer not null default 0,
    last_completed_at timestamptz,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),

    constraint habits_user_id_fkey foreign key (user_id)
    references {{ target_schema | ident }}.users (id) on delete cascade,
    constraint habits_frequency_check check (frequency in ('daily', 'weekly', 'custom'))
);

-- user_id leads no unique index: index it for the foreign key.
create index if not exists habits_user_id_idx
on {{ target_schema | ident }}.habits (user_id);
