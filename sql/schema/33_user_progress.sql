-- Creates the target table user_progress: one row per user, xp and level.
-- Reflects core-tables.md "user_progress and user_wallet (the merge)" (target
-- columns in check order; user_id UNIQUE: one row per user; filled from D1
-- user_wallet xp / level / total_skill_stars, else D1 user_progress) and
-- migration-contract.md §3 (ids), §4 (timestamps from the source rows, rule 5
-- of the merge) and §5 (user_id -> users, on delete cascade).
-- Requires: 10_users.

create table if not exists {{ target_schema | ident }}.user_progress (
    id uuid constraint user_progress_pkey primary key default gen_random_uuid(),
    user_id uuid not null,
    total_xp bigint not null default 0,
    current_level integer not null default 1,
    xp_to_next_level integer not null default 100,
    total_skill_stars integer not null default 0,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),

    constraint user_progress_user_id_key unique (user_id),
    constraint user_progress_user_id_fkey foreign key (user_id)
    references {{ target_schema | ident }}.users (id) on delete cascade
);
