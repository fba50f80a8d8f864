-- Count, per mapped table and key, the source keys that no mapping uses: possible data loss.
-- Contract: migration-contract.md §4 (unmapped columns are counted per table and column and shown
-- in the report).
-- Requires: 10_prologue.
{% for source in sources if source.name in staged %}
insert into migration.unmapped_columns (run_id, source_table, column_name, rows_with_value)
select
    ctx.run_id,
    {{ source.name | literal }} as source_table,
    k.key as column_name,
    count(*) as rows_with_value
from staging.{{ source.name | ident }} as s
cross join lateral jsonb_object_keys(s.doc) as k (key)
cross join transform_context as ctx
where
    k.key not in (
        {% for key in source.source_keys %}
        {{ key | literal }}{{ "," if not loop.last }}
        {% endfor %}
    )
group by ctx.run_id, k.key;

{% endfor %}
