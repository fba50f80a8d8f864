{#- Macros that read the system catalogs. Each renders one query (no trailing semicolon) and
    takes only validated names from the mapping or the settings; `tables` is never empty. -#}

{#- The foreign keys of tables outside `tables` (of `target_schema`) that reference one of
    them (contract §7 with contract-additions §7). One row per constraint: referencing_schema,
    referencing_table, constraint_name, referenced_table, and referencing_rows: how many of its
    rows hold a non-null key value (each references a row of the mapped table; a key with a null
    column is not checked). Such a row stops emptying the mapped tables; a constraint with none
    only means the tables are emptied by DELETE instead of TRUNCATE. The count is dynamic SQL run
    through query_to_xml, so this stays one plain query; names are quoted by format's %I. -#}
{%- macro outside_references(target_schema, tables) -%}
select
    n.nspname as referencing_schema,
    child.relname as referencing_table,
    k.conname as constraint_name,
    parent.relname as referenced_table,
    array(
        select a.attname::text
        from pg_catalog.pg_attribute as a
        where a.attrelid = child.oid and a.attnum = any(k.conkey)
        order by a.attnum
    ) as referencing_columns
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
