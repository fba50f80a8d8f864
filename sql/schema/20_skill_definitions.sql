-- Creates the target table skill_definitions: the catalog of skills.
-- Reflects core-tables.md "skill_definitions" (columns in check order, key
-- NOT NULL UNIQUE, name and category NOT NULL, defaults 10 / 10 / 0) and
-- migration-contract.md §3 (text ids such as skill_focus get deterministic
-- uuids) and §5 (user_skills and points_ledger reference key, not id).
-- Requires: the target schema exists. No references.

create table if not exists {{ target_schema | ident }}.skill_definitions (
    id uuid constraint skill_definitions_pkey primary key default gen_random_uuid(),
    key text not null,
    name text not null,
    description text,
    category text not null,
    icon text,
    max_level integer not null default 10,
    stars_per_level integer not null default 10,
    sort_order integer not null default 0,
    created_at timestamptz not null default now(),

    constraint skill_definitions_key_key unique (key)
);
