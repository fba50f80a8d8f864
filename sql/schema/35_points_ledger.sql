-- Creates the target table points_ledger: every coin / xp / star award.
-- Reflects core-tables.md "points_ledger" (columns in check order; event_id
-- is a uuid with no foreign key; idempotency_key UNIQUE, NULLs distinct) and
-- migration-contract.md §3 (ids; non-uuid event_id values get deterministic
-- uuids) and §5 (user_id -> users, on delete cascade; skill_key ->
-- skill_definitions (key), on delete set null: a dangling key is nulled and
-- logged as an orphan with action nulled).
-- Requires: 10_users, 20_skill_definitions.

create table if not exists {{ target_schema | ident }}.points_ledger (
    id uuid constraint points_ledger_pkey primary key default gen_random_uuid(),
    user_id uuid not null,
    event_type text not null,
    event_id uuid,
    coins integer not null default 0,
    xp integer not null default 0,
    skill_stars integer not null default 0,
    skill_key text,
    reason text,
    idempotency_key text,
    created_at timestamptz not null default now(),

    constraint points_ledger_user_id_fkey foreign key (user_id)
    references {{ target_schema | ident }}.users (id) on delete cascade,
    constraint points_ledger_skill_key_fkey foreign key (skill_key)
    references {{ target_schema | ident }}.skill_definitions (key) on delete set null,
    constraint points_ledger_idempotency_key_key unique (idempotency_key)
);

-- Neither foreign-key column leads a unique index: index both.
create index if not exists points_ledger_user_id_idx
on {{ target_schema | ident }}.points_ledger (user_id);

create index if not exists points_ledger_skill_key_idx
on {{ target_schema | ident }}.points_ledger (skill_key);
