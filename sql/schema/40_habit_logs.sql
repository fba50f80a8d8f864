-- Creates the target table habit_logs: one completion of a habit per day.
-- Reflects core-tables.md "habit_logs" (columns in check order;
-- completed_date is the UTC date of completed_at; UNIQUE (habit_id,
-- completed_date), the earliest completed_at kept) and migration-contract.md
-- §3 (ids), §4 (timestamps, dates) and §5 (habit_id -> habits and user_id ->
-- users, both on delete cascade; a log of an unmigrated habit is an orphan).
-- Requires: 10_users, 38_habits.

create table if not exists {{ target_schema | ident }}.habit_logs (
    id uuid constraint habit_logs_pkey primary key default gen_random_uuid(),
    habit_id uuid not null,
    user_id uuid not null,
    completed_at timestamptz not null,
    completed_date date not null,
    notes text,

    constraint habit_logs_habit_id_fkey foreign key (habit_id)
    references {{ target_schema | ident }}.habits (id) on delete cascade,
    constraint habit_logs_user_id_fkey foreign key (user_id)
    references {{ target_schema | ident }}.users (id) on delete cascade,
    constraint habit_logs_habit_id_completed_date_key unique (habit_id, completed_date)
);

-- habit_id is covered by the unique index; user_id leads none.
create index if not exists habit_logs_user_id_idx
on {{ target_schema | ident }}.habit_logs (user_id);
