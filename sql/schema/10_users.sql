-- Creates the target table users: one row per migrated D1 user.
-- Reflects core-tables.md "users" (columns in check order, types, defaults,
-- the role CHECK, the unique email) and migration-contract.md §3 (ids are
-- uuid), §4 (column order is the order values are checked) and §5 (email is
-- unique, compared exactly).
-- Requires: the target schema exists. First in the dependency order.

create table if not exists {{ target_schema | ident }}.users (
    id uuid constraint users_pkey primary key default gen_random_uuid(),
    name text not null default 'User',
    email text not null,
    email_verified timestamptz,
    image text,
    role text not null default 'user',
    approved boolean not null default true,
    age_verified boolean not null default true,
    tos_accepted boolean not null default false,
    tos_accepted_at timestamptz,
    tos_version text,
    last_activity_at timestamptz,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),

    constraint users_email_key unique (email),
    constraint users_role_check check (role in ('user', 'admin', 'moderator'))
);
