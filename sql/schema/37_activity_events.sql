-- Creates the target table activity_events: the users' activity feed.
-- Reflects core-tables.md "activity_events" (columns in check order;
-- metadata_json -> metadata jsonb; category, xp_earned, coins_earned have no
-- source column) and migration-contract.md §3 (ids), §4 (JSON text -> jsonb)
-- and §5 (user_id -> users, on delete cascade).
-- Requires: 10_users.

create table if not exists {{ target_schema | ident }}.activity_events (
    id uuid constraint activity_events_pkey primary key default gen_random_uuid(),
    user_id uuid not null,
    event_type text not null,
    metadata jsonb,
    category text,
    xp_earned integer default 0,
    coins_earned integer default 0,
    created_at timestamptz not null default now(),

    constraint activity_events_user_id_fkey foreign key (user_id)
    references {{ target_schema | ident }}.users (id) on delete cascade
);

-- user_id leads no unique index: index it for the foreign key.
create index if not exists activity_events_user_id_idx
on {{ target_schema | ident }}.activity_events (user_id);
