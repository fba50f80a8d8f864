-- The progress merge: D1 user_wallet and user_progress become target user_progress and user_wallet,
-- one row each per user with a surviving wallet or progress row; conflicts are recorded.
-- Contract: core-tables.md "user_progress and user_wallet (the merge)" rules 1-6; migration-contract.md
-- §3 (ids: the wallet's, else the progress row's mapped id; a derived wallet id for progress-only
-- users, not recorded in id_map), §6 (a progress row is merged when a surviving wallet row exists).
-- Requires: 20_convert_source and 30_load_source for user_wallet and user_progress.
-- Setting d1pg.merge_winner (transform_context.merge_winner) decides which side's values win; ids never move.
create temporary table merged_progress on commit drop as
with
wallet as (
    select * from {{ work_table('user_wallet') | ident }}
    where bucket = 'migrated'
),

progress as (
    select * from {{ work_table('user_progress') | ident }}
    where bucket = 'migrated'
)

select
    coalesce(w.user_id, p.user_id) as user_id,
    w.id as wallet_id,
    p.id as progress_id,
    p.source_id as progress_source_id,
    w.source_id as wallet_source_id,
    w.xp as wallet_xp,
    p.total_xp as progress_xp,
    w.level as wallet_level,
    p.current_level as progress_level,
    w.coins as wallet_coins,
    p.coins as progress_coins,
    w.xp_to_next_level,
    w.total_skill_stars,
    coalesce(
        case when w.id is not null then w.updated_at else p.updated_at end,
        ctx.backup_created_at
    ) as updated_at,
    coalesce(
        case when p.id is not null then p.created_at else w.updated_at end,
        ctx.backup_created_at
    ) as created_at,
    ctx.merge_winner,
    ctx.run_id
from wallet as w
full join progress as p on w.user_id = p.user_id
cross join transform_context as ctx;

insert into {{ target_schema | ident }}.user_progress (
    id,
    user_id,
    total_xp,
    current_level,
    xp_to_next_level,
    total_skill_stars,
    created_at,
    updated_at
)
select
    coalesce(m.wallet_id, m.progress_id) as id,
    m.user_id,
    coalesce(
        case
            when m.merge_winner = 'wallet' then coalesce(m.wallet_xp, m.progress_xp)
            else coalesce(m.progress_xp, m.wallet_xp)
        end,
        0
    ) as total_xp,
    coalesce(
        case
            when m.merge_winner = 'wallet' then coalesce(m.wallet_level, m.progress_level)
            else coalesce(m.progress_level, m.wallet_level)
        end,
        1
    ) as current_level,
    coalesce(m.xp_to_next_level, 100) as xp_to_next_level,
    coalesce(m.total_skill_stars, 0) as total_skill_stars,
    m.created_at,
    m.updated_at
from merged_progress as m
order by m.user_id;

insert into {{ target_schema | ident }}.user_wallet (
    id,
    user_id,
    coins,
    created_at,
    updated_at
)
select
    coalesce(m.wallet_id, migration.name_uuid('user_wallet:' || m.user_id::text)) as id,
    m.user_id,
    coalesce(
        case
            when m.merge_winner = 'wallet' then coalesce(m.wallet_coins, m.progress_coins)
            else coalesce(m.progress_coins, m.wallet_coins)
        end,
        0
    ) as coins,
    m.created_at,
    m.updated_at
from merged_progress as m
order by m.user_id;

insert into migration.conflicts (run_id, target_table, key, detail)
select
    m.run_id,
    'user_progress' as target_table,
    m.user_id::text as key,
    jsonb_strip_nulls(jsonb_build_object(
        'kept', m.merge_winner,
        'total_xp', case when m.wallet_xp <> m.progress_xp then jsonb_build_object(
            'user_wallet.xp', m.wallet_xp, 'user_progress.total_xp', m.progress_xp
        ) end,
        'current_level', case when m.wallet_level <> m.progress_level then jsonb_build_object(
            'user_wallet.level', m.wallet_level, 'user_progress.current_level', m.progress_level
        ) end
    )) as detail
from merged_progress as m
where m.wallet_xp <> m.progress_xp or m.wallet_level <> m.progress_level
order by m.user_id;

insert into migration.conflicts (run_id, target_table, key, detail)
select
    m.run_id,
    'user_wallet' as target_table,
    m.user_id::text as key,
    jsonb_build_object(
        'kept', m.merge_winner,
        'coins', jsonb_build_object('user_wallet.coins', m.wallet_coins, 'user_progress.coins', m.progress_coins)
    ) as detail
from merged_progress as m
where m.wallet_coins <> m.progress_coins
order by m.user_id;

insert into migration.id_map (table_name, old_id, new_id, run_id)
select
    'user_wallet' as table_name,
    m.wallet_source_id as old_id,
    m.wallet_id as new_id,
    m.run_id
from merged_progress as m
where m.wallet_id is not null and not migration.is_uuid_text(m.wallet_source_id)
union all
select
    'user_progress' as table_name,
    m.progress_source_id as old_id,
    m.progress_id as new_id,
    m.run_id
from merged_progress as m
where m.wallet_id is null and m.progress_id is not null and not migration.is_uuid_text(m.progress_source_id)
on conflict (table_name, old_id) do nothing;

insert into migration.table_outcomes (
    run_id,
    source_table,
    target_table,
    staged,
    migrated,
    merged,
    orphaned,
    rejected
)
select
    ctx.run_id,
    t.table_name as source_table,
    'user_progress, user_wallet' as target_table,
    t.staged_rows as staged,
    case t.table_name
        when 'user_wallet' then m.with_wallet
        else m.progress_only
    end as migrated,
    case t.table_name
        when 'user_wallet' then 0
        else m.with_both
    end as merged,
    case t.table_name
        when 'user_wallet' then w.orphaned
        else p.orphaned
    end as orphaned,
    t.unstorable_rows + case t.table_name
        when 'user_wallet' then w.rejected
        else p.rejected
    end as rejected
from migration.staged_tables as t
cross join transform_context as ctx
cross join (
    select
        count(*) filter (where wallet_id is not null) as with_wallet,
        count(*) filter (where wallet_id is null and progress_id is not null) as progress_only,
        count(*) filter (where wallet_id is not null and progress_id is not null) as with_both
    from merged_progress
) as m
cross join (
    select
        count(*) filter (where bucket = 'orphaned') as orphaned,
        count(*) filter (where bucket = 'rejected') as rejected
    from {{ work_table('user_wallet') | ident }}
) as w
cross join (
    select
        count(*) filter (where bucket = 'orphaned') as orphaned,
        count(*) filter (where bucket = 'rejected') as rejected
    from {{ work_table('user_progress') | ident }}
) as p
where t.table_name in ('user_wallet', 'user_progress');
