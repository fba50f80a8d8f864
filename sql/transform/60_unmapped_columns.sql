-- Count, per mapped table and key, the source values that no mapping reads: possible data loss.
-- A key no column reads counts in every row that has it; an older alias key counts in the rows
-- where it is not read, because the current key (or an earlier alias) is there too.
-- Contract: migration-contract.md §4 (unmapped columns are counted per table and column and shown
-- in the report); contract-additions 4.4 (an alias key present alongside its shape-C key is an
-- unmapped column).
-- Requires: 10_prologue.
-- The keys come from migration.staged_tables.columns (every key stage met), so each table is read
-- once per unmapped key, and not at all when every key is mapped.
{% for source in sources if source.name in staged %}
{% set reads = source.key_reads() %}
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
            {% for key in reads %}
            {{ key | literal }}{{ "," if not loop.last }}
            {% endfor %}
        )
) as k
inner join staging.{{ source.name | ident }} as s on s.doc ? k.key
group by ctx.run_id, k.key;
{% for key, conditions in reads.items() if conditions %}

-- {{ key }}: an older key; the rows that hold it where it is not read hold an unmapped value
insert into migration.unmapped_columns (run_id, source_table, column_name, rows_with_value)
select
    ctx.run_id,
    {{ source.name | literal }} as source_table,
    {{ key | literal }} as column_name,
    count(*) as rows_with_value
from staging.{{ source.name | ident }} as s
cross join transform_context as ctx
where
    s.doc ? {{ key | literal }}
    {% for condition in conditions %}
    and not (
        {% if condition[1] %}
        not (s.doc ?| array[{% for k in condition[1] %}{{ k | literal }}{{ ", " if not loop.last }}{% endfor %}])
        {% else %}
        true
        {% endif %}
        {% if condition[0] == 'absent_when' %}
        and s.doc ->> {{ condition[2] | literal }} = {{ condition[3] | literal }}
        {% endif %}
    )
    {% endfor %}
group by ctx.run_id;
{% endfor %}

{% endfor %}
