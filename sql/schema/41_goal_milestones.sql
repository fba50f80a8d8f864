-- Creates the target table goal_milestones: the steps of a goal.
-- Reflects core-tables.md "goal_milestones" (columns in check order;
-- description has no source column) and migration-contract.md §3 (ids) and
-- §5 (goal_id -> goals, on delete cascade; a milestone of an unmigrated goal
-- is an orphan).
-- Requires: 39_goals.

create table if not exists {{ target_schema | ident }}.goal_milestones (
    id uuid constraint goal_milestones_pkey primary key default gen_random_uuid(),
    goal_id uuid not null,
    title text not null,
    description text,
    is_completed boolean not null default false,
    completed_at timestamptz,
    sort_order integer not null default 0,

    constraint goal_milestones_goal_id_fkey foreign key (goal_id)
    references {{ target_schema | ident }}.goals (id) on delete cascade
);

-- goal_id leads no unique index: index it for the foreign key.
create index if not exists goal_milestones_goal_id_idx
on {{ target_schema | ident }}.goal_milestones (goal_id);
