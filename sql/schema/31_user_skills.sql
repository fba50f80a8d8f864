-- Creates the target table user_skills: each user's stars and level per skill.
-- Reflects core-tables.md "user_skills" (columns in check order: updated_at,
-- then created_at which takes updated_at; UNIQUE (user_id, skill_key)) and
-- migration-contract.md §3 (skill_key is a key, matched exactly as text),
-- §4 (created_at <- updated_at) and §5 (user_id -> users and skill_key ->
-- skill_definitions (key), both on delete cascade; duplicate keys rejected).
-- Requires: 10_users, 20_skill_definitions.

create table if not exists {{ target_schema | ident }}.user_skills (
    id uuid constraint user_skills_pkey primary key default gen_random_uuid(),
    user_id uuid not null,
    skill_key text not null,
    current_stars integer not null default 0,
    current_level integer not null default 0,
    updated_at timestamptz,
    created_at timestamptz,

    constraint user_skills_user_id_fkey foreign key (user_id)
    references {{ target_schema | ident }}.users (id) on delete cascade,
    constraint user_skills_skill_key_fkey foreign key (skill_key)
    references {{ target_schema | ident }}.skill_definitions (key) on delete cascade,
    constraint user_skills_user_id_skill_key_key unique (user_id, skill_key)
);

-- user_id is covered by the unique index; skill_key leads none.
create index if not exists user_skills_skill_key_idx
on {{ target_schema | ident }}.user_skills (skill_key);
