-- Count the migrated values a declared value map changed (e.g. provider 'microsoft-entra-id' ->
-- 'azure-ad'), and the values a rule made or changed: derived values, comma lists read as lists,
-- REAL values whose float4 differs from the source, keys found by a parent's id. The seed says data
-- is preserved as-is; where the contract changes it, the report says so.
-- Contract: migration-contract.md §4 (value maps before the check), §9 (every loss is listed,
-- including values changed by a value map); contract-additions 4.2, 4.3, 4.5, 5.2 and §9.
-- Requires: 20_convert_source (its work tables, which carry the source values compared here) and
-- 30_load_source of each table with a value map. The old value is the text the value map was
-- matched against.
{% for source in sources if source.name in staged %}
{% for col in source.columns if col.value_map %}
insert into migration.value_changes (
    run_id,
    source_table,
    column_name,
    old_value,
    new_value,
    rows_changed
)
select
    w.run_id,
    {{ source.name | literal }} as source_table,
    {{ col.target | literal }} as column_name,
    migration.scalar_text(w.{{ ('old_value_' ~ col.target) | ident }}) as old_value,
    w.{{ col.target | ident }} as new_value,
    count(*) as rows_changed
from {{ work_table(source.name) | ident }} as w
where
    w.bucket = 'migrated'
    and migration.scalar_text(w.{{ ('old_value_' ~ col.target) | ident }}) in (
        {% for old in col.value_map %}
        {{ old | literal }}{{ "," if not loop.last }}
        {% endfor %}
    )
group by
    w.run_id,
    migration.scalar_text(w.{{ ('old_value_' ~ col.target) | ident }}),
    w.{{ col.target | ident }};

{% endfor %}
{% endfor %}
{% for source in sources if source.name in staged %}
{% set changes = [] %}
{% for col in source.columns if col.derive %}
{% set _ = changes.append((col, col.derive.text, 'w.' ~ (('derived_' ~ col.target) | ident))) %}
{% endfor %}
{% for col in source.columns if col.kind == 'text_list' and col.source %}
{% set _ = changes.append((col, 'a comma list read as a list',
    'migration.is_comma_list(w.' ~ (('old_value_' ~ col.target) | ident) ~ ')')) %}
{% endfor %}
{% for col in source.columns if col.kind == 'real' and col.source %}
{% set _ = changes.append((col, 'rounded to float4: differs from the source number',
    'w.' ~ (col.target | ident) ~ '::double precision <> migration.to_float8(w.'
    ~ (('old_value_' ~ col.target) | ident) ~ ')')) %}
{% endfor %}
{% for col in source.columns if col.is_key_ref %}
{% set _ = changes.append((col, 'the key of the parent whose id it held',
    'w.' ~ (col.target | ident) ~ ' <> w.' ~ (('converted_' ~ col.target) | ident))) %}
{% endfor %}
{% if changes %}
-- {{ source.name }}: every rule's count in one pass; a rule that changed no value adds no row
insert into migration.derived_values (run_id, source_table, column_name, rule, rows_changed)
select
    n.run_id,
    {{ source.name | literal }} as source_table,
    v.column_name,
    v.rule,
    v.rows_changed
from (
    select
        w.run_id,
        {% for col, rule, changed in changes %}
        count(*) filter (
            where {{ changed }}
        ) as {{ ('changed_' ~ loop.index) | ident }}{{ "," if not loop.last }}
        {% endfor %}
    from {{ work_table(source.name) | ident }} as w
    where w.bucket = 'migrated'
    group by w.run_id
) as n
cross join
    lateral (
        values
        {% for col, rule, changed in changes %}
        (
            {{ col.target | literal }},
            {{ rule | literal }},
            n.{{ ('changed_' ~ loop.index) | ident }}
        ){{ "," if not loop.last }}
        {% endfor %}
    ) as v (column_name, rule, rows_changed)
where v.rows_changed > 0;

{% endif %}
{% endfor %}
