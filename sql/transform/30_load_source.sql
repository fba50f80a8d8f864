-- Record what {{ work }} decided for staging.{{ source.name }}: rejects, orphans,
-- the target rows{% if source.target %} (insert into {{ source.target }}){% endif %}, nulled references, the id map,
-- and the per-table outcome.
-- Contract: migration-contract.md §3 (every non-UUID id and its new UUID in migration.id_map),
-- §4 (rejects with the first failing column and its raw value), §5 (orphans: skipped or nulled),
-- §6 (staged = migrated + merged + skipped + orphaned + rejected; load-time rejects count).
-- Requires: 20_convert_source for this table.
insert into migration.rejects (
    run_id,
    source_table,
    source_ord,
    source_id,
    column_name,
    raw_value,
    reason
)
select
    w.run_id,
    {{ source.name | literal }} as source_table,
    w.ord,
    w.source_id,
    w.reject_column,
    w.raw_value,
    w.bucket_reason
from {{ work | ident }} as w
where w.bucket = 'rejected'
order by w.ord;

{% for col in source.refs %}
insert into migration.orphans (
    run_id,
    source_table,
    source_ord,
    source_id,
    fk_column,
    missing_value,
    parent_table,
    action
)
select
    w.run_id,
    {{ source.name | literal }} as source_table,
    w.ord,
    w.source_id,
    {{ col.target | literal }} as fk_column,
    w.{{ ('missing_value_' ~ col.target) | ident }} as missing_value,
    {{ col.ref_table | literal }} as parent_table,
    {% if col.on_missing == 'skip' %}
    'skipped' as action
from {{ work | ident }} as w
where w.orphan_column = {{ col.target | literal }}
    {% else %}
    'nulled' as action
from {{ work | ident }} as w
where w.bucket = 'migrated' and w.{{ ('nulled_' ~ col.target) | ident }}
    {% endif %}
order by w.ord;

{% endfor %}
{% if source.target %}
insert into {{ target_schema | ident }}.{{ source.target | ident }} (
    {% for col in source.columns %}
    {{ col.target | ident }}{{ "," if not loop.last }}
    {% endfor %}
)
select
    {% for col in source.columns %}
    w.{{ col.target | ident }}{{ "," if not loop.last }}
    {% endfor %}
from {{ work | ident }} as w
where w.bucket = 'migrated'
order by w.ord;

insert into migration.id_map (table_name, old_id, new_id, run_id)
select
    {{ source.name | literal }} as table_name,
    w.source_id as old_id,
    w.id as new_id,
    w.run_id
from {{ work | ident }} as w
where w.bucket = 'migrated' and not migration.is_uuid_text(w.source_id)
on conflict (table_name, old_id) do nothing;

{% for col in source.columns if col.kind == 'name_uuid' and source.name in staged %}
{% set old_id = 'migration.scalar_text(c.' ~ raw_of(col) ~ ')' %}
insert into migration.id_map (table_name, old_id, new_id, run_id)
select distinct on ({{ old_id }})
    {{ col.name_prefix | literal }} as table_name,
    {{ old_id }} as old_id,
    w.{{ col.target | ident }} as new_id,
    w.run_id
from {{ work | ident }} as w
inner join {{ conv | ident }} as c on w.ord = c.ord
where
    w.bucket = 'migrated'
    and not migration.is_uuid_text({{ old_id }})
    and w.{{ col.target | ident }} is not null
order by {{ old_id }}
on conflict (table_name, old_id) do nothing;

{% endfor %}
insert into migration.table_outcomes (
    run_id,
    source_table,
    target_table,
    staged,
    migrated,
    orphaned,
    rejected
)
select
    ctx.run_id,
    {{ source.name | literal }} as source_table,
    {{ source.target | literal }} as target_table,
    t.staged_rows as staged,
    w.migrated,
    w.orphaned,
    t.unstorable_rows + w.rejected as rejected
from transform_context as ctx
cross join migration.staged_tables as t
cross join (
    select
        count(*) filter (where bucket = 'migrated') as migrated,
        count(*) filter (where bucket = 'orphaned') as orphaned,
        count(*) filter (where bucket = 'rejected') as rejected
    from {{ work | ident }}
) as w
where t.table_name = {{ source.name | literal }};
{% endif %}
