-- Count the migrated values a declared value map changed (e.g. provider 'microsoft-entra-id' ->
-- 'azure-ad'), and the values a rule made or changed: derived values, comma lists read as lists,
-- REAL values whose float4 differs from the source, keys found by a parent's id. The seed says data
-- is preserved as-is; where the contract changes it, the report says so.
-- Contract: migration-contract.md §4 (value maps before the check), §9 (every loss is listed,
-- including values changed by a value map); contract-additions 4.2, 4.3, 4.5, 5.2 and §9.
-- Requires: 20_convert_source (its work and converted tables) and 30_load_source of each table
-- with a value map. The old value is the text the value map was matched against.
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
    migration.scalar_text(c.{{ raw_of(col) }}) as old_value,
    w.{{ col.target | ident }} as new_value,
    count(*) as rows_changed
from {{ work_table(source.name) | ident }} as w
inner join {{ conv_table(source.name) | ident }} as c on w.ord = c.ord
where
    w.bucket = 'migrated'
    and migration.scalar_text(c.{{ raw_of(col) }}) in (
        {% for old in col.value_map %}
        {{ old | literal }}{{ "," if not loop.last }}
        {% endfor %}
    )
group by w.run_id, migration.scalar_text(c.{{ raw_of(col) }}), w.{{ col.target | ident }};

{% endfor %}
{% endfor %}
{% for source in sources if source.name in staged %}
{% set changes = [] %}
{% for col in source.columns if col.derive %}
{% set _ = changes.append((col, col.derive.text, 'w.' ~ (('derived_' ~ col.target) | ident))) %}
{% endfor %}
{% for col in source.columns if col.kind == 'text_list' and col.source %}
{% set _ = changes.append((col, 'a comma list read as a list', 'migration.is_comma_list(c.' ~ raw_of(col) ~ ')')) %}
{% endfor %}
{% for col in source.columns if col.kind == 'real' and col.source %}
{% set _ = changes.append((col, 'rounded to float4: differs from the source number',
    'w.' ~ (col.target | ident) ~ '::double precision <> migration.to_float8(c.' ~ raw_of(col) ~ ')')) %}
{% endfor %}
{% for col in source.columns if col.is_key_ref %}
{% set _ = changes.append((col, 'the key of the parent whose id it held',
    'w.' ~ (col.target | ident) ~ ' <> c.' ~ (col.target | ident))) %}
{% endfor %}
{% for col, rule, changed in changes %}
insert into migration.derived_values (run_id, source_table, column_name, rule, rows_changed)
select
    w.run_id,
    {{ source.name | literal }} as source_table,
    {{ col.target | literal }} as column_name,
    {{ rule | literal }} as rule,
    count(*) as rows_changed
from {{ work_table(source.name) | ident }} as w
inner join {{ conv_table(source.name) | ident }} as c on w.ord = c.ord
where w.bucket = 'migrated' and {{ changed }}
group by w.run_id;

{% endfor %}
{% endfor %}
