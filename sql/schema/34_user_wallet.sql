-- Creates the target table user_wallet: one row per user, coins.
-- Reflects core-tables.md "user_progress and user_wallet (the merge)" (target
-- columns in check order; user_id UNIQUE: one row per user; coins from D1
-- user_wallet, else D1 user_progress with a derived id) and
-- migration-contract.md §3 (ids, the derived user_wallet:<user id> uuid),
-- §4 (timestamps from the source rows, rule 5 of the merge) and §5 (user_id
-- -> users, on delete cascade).
-- Requires: 10_users.

create table if not exists {{ target_schema | ident }}.user_wallet (
    id uuid constraint user_wallet_pkey primary key default gen_random_uuid(),
    user_id uuid not null,
    coins bigint not null default 0,
    total_earned bigint not null default 0,
    total_spent bigint not null default 0,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),

    constraint user_wallet_user_id_key unique (user_id),
    constraint user_wallet_user_id_fkey foreign key (user_id)
    references {{ target_schema | ident }}.users (id) on delete cascade
);
