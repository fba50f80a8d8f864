-- Creates the target table achievement_definitions: the catalog of achievements.
-- Reflects core-tables.md "achievement_definitions" (columns in check order,
-- key NOT NULL UNIQUE, trigger_config_json -> trigger_config jsonb, rewards
-- and sort_order default 0) and migration-contract.md §3 (text ids such as
-- ach_first_focus get deterministic uuids), §4 (JSON text -> jsonb) and §5
-- (user_achievements reference key, not id).
-- Requires: the target schema exists. No references.

create table if not exists {{ target_schema | ident }}.achievement_definitions (
    id uuid constraint achievement_definitions_pkey primary key default gen_random_uuid(),
    key text not null,
    name text not null,
    description text,
    category text not null,
    icon text,
    trigger_type text not null,
    trigger_config jsonb,
    reward_coins integer not null default 0,
    reward_xp integer not null default 0,
    sort_order integer not null default 0,
    is_hidden boolean not null default false,
    created_at timestamptz not null default now(),

    constraint achievement_definitions_key_key unique (key)
);
