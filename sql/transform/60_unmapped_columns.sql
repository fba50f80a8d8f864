-- Count, per mapped table and key, the source keys that no mapping uses: possible data loss.
-- Contract: migration-contract.md §4 (unmapped columns are counted per table and column and shown
-- in the report).
-- Requires: 10_prologue.
-- The keys come from migration.staged_tables.columns (every key stage met), so each table is read
-- once per unmapped key, and not at all when every key is mapped.
{% for source in sources if source.name in staged %}
insert into migration.unmapped_columns (run_id, source_table, column_name, rows_with_value)
select
    ctx.run_id,
    {{ source.name | literal }} as source_table,
    k.key as column_name,
    count(*) as rows_with_value
from transform_context as ctx
cross join (
    select c.key
    from migration.staged_tables as t
    cross join lateral jsonb_array_elements_text(t.columns) as c (key)
    where
        t.table_name = {{ source.name | literal }}
        and c.key not in (
            {% for key in source.source_keys %}
            {{ key | literal }}{{ "," if not loop.last }}
            {% endfor %}
        )
) as k
inner join staging.{{ source.name | ident }} as s on s.doc ? k.key
group by ctx.run_id, k.key;

{% endfor %}
