-- Check the target before writing: every mapped table and column exists with the expected type
-- and nullability, and every reference the orphan logic relies on is a declared foreign key.
-- Contract: migration-contract.md §7 (a mismatch is named and nothing is written).
-- Requires: 10_prologue. Target schema: {{ target_schema }}.
do $$
declare
    problems text;
begin
    with expected (table_name, column_name, data_type, not_null) as (
        values
        {% for t in expected_columns %}
        ({{ t[0] | literal }}, {{ t[1] | literal }}, {{ t[2] | literal }}, {{ t[3] | literal }}){{ "," if not loop.last }}
        {% endfor %}
    ),

    expected_fks (table_name, column_name, parent_table) as (
        values
        {% for f in expected_fks %}
        ({{ f[0] | literal }}, {{ f[1] | literal }}, {{ f[2] | literal }}){{ "," if not loop.last }}
        {% endfor %}
    ),

    column_problems as (
        select
            case
                when c.column_name is null then format('%s.%s is missing', e.table_name, e.column_name)
                when c.data_type <> e.data_type
                    then format('%s.%s is %s, expected %s', e.table_name, e.column_name, c.data_type, e.data_type)
                when (c.is_nullable = 'NO') <> e.not_null
                    then format(
                        '%s.%s is %s, expected %s', e.table_name, e.column_name,
                        case when c.is_nullable = 'NO' then 'not null' else 'nullable' end,
                        case when e.not_null then 'not null' else 'nullable' end
                    )
            end as problem
        from expected as e
        left join information_schema.columns as c
            on
                c.table_schema = {{ target_schema | literal }}
                and c.table_name = e.table_name
                and c.column_name = e.column_name
    ),

    fk_problems as (
        select format('%s.%s has no foreign key to %s', f.table_name, f.column_name, f.parent_table) as problem
        from expected_fks as f
        where not exists (
            select 1
            from pg_catalog.pg_constraint as k
            inner join pg_catalog.pg_class as child on k.conrelid = child.oid
            inner join pg_catalog.pg_namespace as n on child.relnamespace = n.oid
            inner join pg_catalog.pg_class as parent on k.confrelid = parent.oid
            inner join pg_catalog.pg_attribute as a on a.attrelid = child.oid and a.attnum = any(k.conkey)
            where
                k.contype = 'f'
                and n.nspname = {{ target_schema | literal }}
                and child.relname = f.table_name
                and parent.relname = f.parent_table
                and a.attname = f.column_name
        )
    )

    select string_agg(p.problem, '; ')
    into problems
    from (
        select problem from column_problems
        union all
        select problem from fk_problems
    ) as p
    where p.problem is not null;

    if problems is not null then
        raise exception 'the target schema {{ target_schema }} does not match the mappings: %. '
        'Nothing was written; `invoke schema` creates the expected tables', problems;
    end if;
end
$$;
