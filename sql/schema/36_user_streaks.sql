-- Creates the target table user_streaks: each user's current and longest streaks.
-- Reflects core-tables.md "user_streaks" (columns in check order: updated_at,
-- then created_at which takes updated_at; UNIQUE (user_id, streak_type)) and
-- migration-contract.md §3 (ids), §4 (created_at <- updated_at; dates) and §5
-- (user_id -> users, on delete cascade; duplicate keys rejected).
-- Requires: 10_users.

create table if not exists {{ target_schema | ident }}.user_streaks (
    id uuid constraint user_streaks_pkey primary key default gen_random_uuid(),
    user_id uuid not null,
    streak_type text not null,
    current_streak integer not null default 0,
    longest_streak integer not null default 0,
    last_activity_date date,
    updated_at timestamptz,
    created_at timestamptz,

    constraint user_streaks_user_id_fkey foreign key (user_id)
    references {{ target_schema | ident }}.users (id) on delete cascade,
    constraint user_streaks_user_id_streak_type_key unique (user_id, streak_type)
);
