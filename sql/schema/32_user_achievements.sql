-- Creates the target table user_achievements: the achievements each user earned.
-- Reflects core-tables.md "user_achievements" (columns in check order,
-- earned_at NOT NULL, UNIQUE (user_id, achievement_key)) and
-- migration-contract.md §3 (achievement_key is a key, matched exactly as
-- text) and §5 (user_id -> users and achievement_key ->
-- achievement_definitions (key), both on delete cascade; duplicate keys
-- rejected).
-- Requires: 10_users, 21_achievement_definitions.

create table if not exists {{ target_schema | ident }}.user_achievements (
    id uuid constraint user_achievements_pkey primary key default gen_random_uuid(),
    user_id uuid not null,
    achievement_key text not null,
    earned_at timestamptz not null,
    notified boolean not null default false,

    constraint user_achievements_user_id_fkey foreign key (user_id)
    references {{ target_schema | ident }}.users (id) on delete cascade,
    constraint user_achievements_achievement_key_fkey foreign key (achievement_key)
    references {{ target_schema | ident }}.achievement_definitions (key) on delete cascade,
    constraint user_achievements_user_id_achievement_key_key unique (user_id, achievement_key)
);

-- user_id is covered by the unique index; achievement_key leads none.
create index if not exists user_achievements_achievement_key_idx
on {{ target_schema | ident }}.user_achievements (achievement_key);
