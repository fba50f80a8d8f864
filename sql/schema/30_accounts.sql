-- Creates the target table accounts: the sign-in providers of each user.
-- Reflects core-tables.md "accounts" (columns in check order, the provider
-- CHECK after the value map microsoft-entra-id -> azure-ad, UNIQUE (provider,
-- provider_account_id), expires_at kept as epoch seconds) and
-- migration-contract.md §3 (ids), §4 (created_at/updated_at have no source
-- column: the backup's createdAt) and §5 (user_id -> users, on delete cascade).
-- Requires: 10_users.

create table if not exists {{ target_schema | ident }}.accounts (
    id uuid constraint accounts_pkey primary key default gen_random_uuid(),
    user_id uuid not null,
    type text not null default 'oauth',
    provider text not null,
    provider_account_id text not null,
    refresh_token text,
    access_token text,
    token_type text,
    scope text,
    id_token text,
    session_state text,
    expires_at bigint,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),

    constraint accounts_user_id_fkey foreign key (user_id)
    references {{ target_schema | ident }}.users (id) on delete cascade,
    constraint accounts_provider_check check (provider in ('google', 'azure-ad', 'credentials')),
    constraint accounts_provider_provider_account_id_key unique (provider, provider_account_id)
);

-- user_id leads no unique index: index it for the foreign key.
create index if not exists accounts_user_id_idx
on {{ target_schema | ident }}.accounts (user_id);
