-- Convert staging.{{ source.name }} into typed rows and decide each row's bucket, in the order of
-- contract §5: missing id, first failing column, duplicate id, orphaned reference (cascading:
-- parents are read from the target, which holds only migrated rows), duplicate unique key.
-- Contract: migration-contract.md §3 (ids), §4 (values, first failing column in target column
-- order, deterministic timestamps), §5 (orphans, SET NULL references, unique keys).
-- Requires: 00_functions, 10_prologue (transform_context), the parents' target tables filled.
-- Result: temporary tables {{ conv }} (converted values) and {{ work }}
-- (the decisions), dropped at commit, one row per stored source row.

-- Each stored row's values converted once: the function calls of §3-§4 are most of the work,
-- and this query reads no temporary table, so PostgreSQL may share it among parallel workers.
-- A document stored out of line (over about 2 kB) is decompressed once per key read; the app's
-- rows are far smaller.
create temporary table {{ conv | ident }} on commit drop as
select
    r.*,
    {% for c in source.columns if c.source %}
    {{ convert_base(c, 'r.' ~ raw_of(c), source.name, ref_sources) | indent(4) }} as {{ c.target | ident }}
    {{- "," if not loop.last }}
    {% endfor %}
from (
    -- each column's source value: its key, or an older key (contract-additions 4.4)
    select
        s.ord,
        {% for c in source.columns if c.source %}
        {{ source_value(c, 's.doc') | indent(8) }} as {{ raw_of(c) }},
        {% endfor %}
        {% for key in source.derive_keys %}
        s.doc -> {{ key | literal }} as {{ key_of(key) }},
        {% endfor %}
        {% for c in source.columns if c.derive and c.derive.rule in ('id_of_key', 'alias_when') %}
        {{ read_alias(c, 's.doc') | indent(8) }} as {{ ('alias_read_' ~ c.target) | ident }},
        {% endfor %}
        migration.scalar_text({{ source_value(source.id_column, 's.doc') | indent(8) }}) as source_id
{% if source.name in staged %}
    from staging.{{ source.name | ident }} as s
    where s.doc is not null
{% else %}
    -- the backup does not hold {{ source.name }} (accepted with --accept-missing)
    from (select null::bigint as ord, null::jsonb as doc) as s
    where false
{% endif %}
) as r;

-- The row count and the id's statistics for the plan below (temporary tables are never analyzed
-- automatically; the other columns are left out, as their statistics cost seconds and steer nothing).
analyze {{ conv | ident }} (ord, id);

create temporary table {{ work | ident }} on commit drop as
with {{ "recursive " if source.self_refs }}completed as (
    select
        c.*,
        {% for col in source.columns %}
        {% if col.is_key_ref %}
        -- a key, else the id of a migrated parent, which becomes its key (contract-additions 5.2)
        coalesce(
            (
                select p.{{ col.ref_column | ident }}
                from {{ target_schema | ident }}.{{ col.ref_table | ident }} as p
                where p.{{ col.ref_column | ident }} = c.{{ col.target | ident }}
            ),
            (
                select p.{{ col.ref_column | ident }}
                from {{ target_schema | ident }}.{{ col.ref_table | ident }} as p
                where p.id = migration.to_id(c.{{ raw_of(col) }}, {{ ref_sources[col.ref_table] | literal }})
            ),
            c.{{ col.target | ident }}
        ) as {{ ('final_' ~ col.target) | ident }},
        {% else %}
        {{ final_value(col, source) | indent(8) }} as {{ ('final_' ~ col.target) | ident }},
        {% endif %}
        {% endfor %}
        ctx.run_id
    from {{ conv | ident }} as c
    cross join transform_context as ctx
),

checked as materialized (
    select
        {% for col in source.columns %}
        {% set error = column_error(col, 'm.' ~ raw_of(col), 'm.' ~ (col.target | ident), 'm.' ~ (('final_' ~ col.target) | ident)) %}
        {% if error %}
        {{ error | indent(8) }} as {{ ('failure_' ~ col.target) | ident }},
        {% endif %}
        {% endfor %}
        {% for col in source.columns if col.derive %}
        {{ derived_flag(col) }} as {{ ('derived_' ~ col.target) | ident }},
        {% endfor %}
        m.*
    from completed as m
),

first_failures as materialized (
    select
        e.*,
        case
            {% for col in source.columns %}
            {% if column_error(col, 'x', 'x', 'x') %}
            when e.{{ ('failure_' ~ col.target) | ident }} is not null
                then array[
                    {{ col.target | literal }},
                    e.{{ ('failure_' ~ col.target) | ident }},
                    {{ ('e.' ~ raw_of(col) ~ " #>> '{}'") if col.source else 'null' }}
                ]
            {% endif %}
            {% endfor %}
        end as first_failure
    from checked as e
),

-- The first row of each id in backup order keeps it (§5 duplicate_id). Found by grouping the
-- rows that passed their columns, so that the wide rows are joined, never sorted.
first_of_id as (
    select
        f.id,
        min(f.ord) as first_ord
    from first_failures as f
    where f.first_failure is null
    group by f.id
),

deduplicated as (
    select
        k.*,
        case
            when k.first_failure is not null then k.first_failure[2]
            when k.ord <> i.first_ord then 'duplicate_id'
        end as bucket_reason
    from first_failures as k
    left join first_of_id as i on k.id = i.id
){{ "," if source.refs or source.unique }}
{% set last = namespace(cte='deduplicated') %}
{% if source.refs %}

-- Each reference whose parent is not migrated (parents are read from the target, which holds only
-- migrated rows, so orphans cascade), and the first NOT NULL one, which makes the row an orphan.
referenced as (
    select
        d.*{{ "," if source.refs | reject('in', source.self_refs) | list }}
        {% for col in source.refs | reject('in', source.self_refs) %}
        {% set final = 'd.' ~ (('final_' ~ col.target) | ident) %}
        d.bucket_reason is null and {{ final }} is not null and not exists (
            select 1
            from {{ target_schema | ident }}.{{ col.ref_table | ident }} as p
            where p.{{ col.ref_column | ident }} = {{ final }}
        ) as {{ ('missing_' ~ col.target) | ident }}{{ "," if not loop.last }}
        {% endfor %}
    from deduplicated as d
),
{% for col in source.self_refs %}
{% set final = (('final_' ~ col.target) | ident) %}
{% set others %}
r.bucket_reason is null
{% for other in source.refs if other.on_missing == 'skip' and other not in source.self_refs %}
and not r.{{ ('missing_' ~ other.target) | ident }}
{% endfor %}
{% endset %}

-- {{ col.target }} refers to this table's own rows, inserted together: a row is kept when its
-- chain of parents reaches a row without one, every link kept (contract-additions 5.1: a row
-- whose parent is an orphan is an orphan, to a fixed point). Rows on a cycle never reach a root.
kept_by_{{ col.target }} (id) as (
    select r.{{ source.id_column.target | ident }}
    from referenced as r
    where
        {{ others | trim | indent(8) }}
        and r.{{ final }} is null
    union
    select r.{{ source.id_column.target | ident }}
    from referenced as r
    inner join kept_by_{{ col.target }} as k on r.{{ final }} = k.id
    where
        {{ others | trim | indent(8) }}
),
{% endfor %}
{% if source.self_refs %}

self_referenced as (
    select
        r.*,
        {% for col in source.self_refs %}
        r.bucket_reason is null and r.{{ ('final_' ~ col.target) | ident }} is not null and not exists (
            select 1 from kept_by_{{ col.target }} as k
            where k.id = r.{{ source.id_column.target | ident }}
        ) as {{ ('missing_' ~ col.target) | ident }}{{ "," if not loop.last }}
        {% endfor %}
    from referenced as r
),
{% endif %}

judged as (
    select
        f.*,
        case
            when f.bucket_reason is not null then null
            {% for col in source.refs if col.on_missing == 'skip' %}
            when f.{{ ('missing_' ~ col.target) | ident }} then {{ col.target | literal }}
            {% endfor %}
        end as orphan_column
    from {{ 'self_referenced' if source.self_refs else 'referenced' }} as f
){{ "," if source.unique }}
{% set last.cte = 'judged' %}
{% endif %}
{% if source.unique %}

eligible as (
    select
        j.*,
        {% for key in source.unique %}
        (
            j.bucket_reason is null
            {% if source.refs %}
            and j.orphan_column is null
            {% endif %}
            {% for col in key.columns %}
            and j.{{ ('final_' ~ col) | ident }} is not null
            {% endfor %}
        ) as {{ ('key_eligible_' ~ loop.index) | ident }}{{ "," if not loop.last }}
        {% endfor %}
    from {{ last.cte }} as j
),

{% for key in source.unique %}
-- The row that keeps unique key {{ loop.index }} ({{ key.columns | join(', ') }}): the first in the key's order.
key_winners_{{ loop.index }} as (
    select distinct on ({% for col in key.columns %}e.{{ ('final_' ~ col) | ident }}{{ ", " if not loop.last }}{% endfor %}) e.ord
    from eligible as e
    where e.{{ ('key_eligible_' ~ loop.index) | ident }}
    {% set asc = " asc" if key.ordering | selectattr(1) | list else "" %}
    order by
        {% for col in key.columns %}
        e.{{ ('final_' ~ col) | ident }}{{ asc }},
        {% endfor %}
        {% for col, descending in key.ordering %}
        e.{{ ('final_' ~ col) | ident }}{{ " desc nulls last" if descending else asc }},
        {% endfor %}
        e.ord{{ asc }}
),

{% endfor %}
keyed as (
    select
        e.*,
        {% for key in source.unique %}
        e.{{ ('key_eligible_' ~ loop.index) | ident }} and w{{ loop.index }}.ord is null as {{ ('duplicate_key_' ~ loop.index) | ident }}{{ "," if not loop.last }}
        {% endfor %}
    from eligible as e
    {% for key in source.unique %}
    left join key_winners_{{ loop.index }} as w{{ loop.index }} on e.ord = w{{ loop.index }}.ord
    {% endfor %}
)
{% set last.cte = 'keyed' %}
{% endif %}
{% set orphan = 'g.orphan_column is null and ' if source.refs else '' %}

select
    g.ord,
    g.source_id,
    g.run_id,
    case
        when g.bucket_reason is not null then 'rejected'
        {% if source.refs %}
        when g.orphan_column is not null then 'orphaned'
        {% endif %}
        {% for key in source.unique %}
        when g.{{ ('duplicate_key_' ~ loop.index) | ident }} then 'rejected'
        {% endfor %}
        else 'migrated'
    end as bucket,
    {% if source.unique %}
    case
        when g.bucket_reason is not null then g.bucket_reason
        {% for key in source.unique %}
        when {{ orphan }}g.{{ ('duplicate_key_' ~ loop.index) | ident }} then 'duplicate_key'
        {% endfor %}
    end as bucket_reason,
    {% else %}
    g.bucket_reason,
    {% endif %}
    case
        when g.first_failure is not null then g.first_failure[1]
        when g.bucket_reason = 'duplicate_id' then {{ source.id_column.target | literal }}
        {% for key in source.unique %}
        when {{ orphan }}g.{{ ('duplicate_key_' ~ loop.index) | ident }}
            then {{ key.columns | join(', ') | literal }}
        {% endfor %}
    end as reject_column,
    case
        when g.first_failure is not null then g.first_failure[3]
        when g.bucket_reason = 'duplicate_id' then g.source_id
    end as raw_value,
    {% if source.refs %}
    g.orphan_column,
    {% else %}
    null::text as orphan_column,
    {% endif %}
    {% for col in source.refs %}
    {% if col.on_missing == 'skip' %}
    case when g.orphan_column = {{ col.target | literal }} then g.{{ raw_of(col) }} #>> '{}' end
        as {{ ('missing_value_' ~ col.target) | ident }},
    {% else %}
    g.{{ ('missing_' ~ col.target) | ident }} as {{ ('nulled_' ~ col.target) | ident }},
    g.{{ raw_of(col) }} #>> '{}' as {{ ('missing_value_' ~ col.target) | ident }},
    {% endif %}
    {% endfor %}
    {% for col in source.columns if col.derive %}
    g.{{ ('derived_' ~ col.target) | ident }},
    {% endfor %}
    -- what 55_value_changes compares the final values with, so that it reads this table alone
    {% for col in source.columns if col.source and (col.value_map or col.kind in ('text_list', 'real')) %}
    g.{{ raw_of(col) }} as {{ ('old_value_' ~ col.target) | ident }},
    {% endfor %}
    {% for col in source.columns if col.is_key_ref %}
    g.{{ col.target | ident }} as {{ ('converted_' ~ col.target) | ident }},
    {% endfor %}
    {% for col in source.columns %}
    {% if col in source.refs and col.on_missing == 'null' %}
    case
        when not g.{{ ('missing_' ~ col.target) | ident }} then g.{{ ('final_' ~ col.target) | ident }}
    end as {{ col.target | ident }}{{ "," if not loop.last }}
    {% else %}
    g.{{ ('final_' ~ col.target) | ident }} as {{ col.target | ident }}{{ "," if not loop.last }}
    {% endif %}
    {% endfor %}
from {{ last.cte }} as g;
