-- Check 2: every target table holds exactly the rows the transform says it migrated. For the merged
-- targets (user_progress, user_wallet) that is one row per user with a surviving wallet or progress row.
-- Contract: migration-contract.md §8.2; core-tables.md (the merge).
-- Requires: 00_select_run. Returns the offending target tables; none when the check passes.
with expected as (
    {% for target, sources in target_sources.items() %}
    select
        {{ target | literal }} as target_table,
        coalesce(sum(o.migrated), 0) as expected_rows
    from migration.table_outcomes as o
    where
        o.run_id = current_setting('d1pg.transform_run_id')::uuid
        and o.source_table in (
            {% for name in sources %}
            {{ name | literal }}{{ "," if not loop.last }}
            {% endfor %}
        )
    {% if not loop.last %}
    union all
    {% endif %}
    {% endfor %}
),

actual as (
    {% for target in target_sources %}
    select
        {{ target | literal }} as target_table,
        count(*) as actual_rows
    from {{ target_schema | ident }}.{{ target | ident }}
    {% if not loop.last %}
    union all
    {% endif %}
    {% endfor %}
)

select
    e.target_table,
    e.expected_rows,
    a.actual_rows
from expected as e
inner join actual as a on e.target_table = a.target_table
where e.expected_rows <> a.actual_rows
order by e.target_table;
