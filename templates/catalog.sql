{#- Macros that read the system catalogs. Each renders one query (no trailing semicolon) and
    takes only validated names from the mapping or the settings; `tables` is never empty. -#}

{#- The foreign keys of tables outside `tables` (of `target_schema`) that reference one of
    them: what stops emptying the tables together without CASCADE (contract §7). One row per
    constraint: referencing_schema, referencing_table, constraint_name, referenced_table. -#}
{%- macro outside_references(target_schema, tables) -%}
select
    n.nspname as referencing_schema,
    child.relname as referencing_table,
    k.conname as constraint_name,
    parent.relname as referenced_table
from pg_catalog.pg_constraint as k
inner join pg_catalog.pg_class as child on k.conrelid = child.oid
inner join pg_catalog.pg_namespace as n on child.relnamespace = n.oid
inner join pg_catalog.pg_class as parent on k.confrelid = parent.oid
inner join pg_catalog.pg_namespace as pn on parent.relnamespace = pn.oid
where
    k.contype = 'f'
    and pn.nspname = {{ target_schema | literal }}
    and parent.relname in ({% for t in tables %}{{ t | literal }}{{ ", " if not loop.last }}{% endfor %})
    and not (
        n.nspname = {{ target_schema | literal }}
        and child.relname in ({% for t in tables %}{{ t | literal }}{{ ", " if not loop.last }}{% endfor %})
    )
{%- endmacro -%}
