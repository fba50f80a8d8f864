-- Check the target before writing: every declared table is there as the declarations state it.
-- The expected tables are made from the very DDL `invoke schema` runs (templates/ddl.sql), as
-- temporary copies without foreign keys, and the catalogs are compared: columns, types,
-- nullability, defaults, CHECK constraints, primary and unique keys, and the declared foreign keys
-- with their parent and ON DELETE. Undeclared unique keys, foreign keys and NOT NULL columns
-- without a default are differences too (they would fail the load). Each difference is named.
-- Contract: migration-contract.md §7 (a mismatch is named and nothing is written);
-- contract-additions §0 (the target is the app's schema). Requires: 10_prologue.
{% for table in tables %}
create temporary table {{ table.name | ident }} (
    {{ table_body(table, target_schema, references=false) | indent(4) }}
) on commit drop;
{% for key in table.unique if key.index %}
create unique index on {{ table.name | ident }} ({{ key.columns | map('ident') | join(', ') }});
{% endfor %}

{% endfor %}
do $$
declare
    problems text;
begin
    {% set fks = [] %}
    {% for table in tables %}
    {% for c in table.refs if c.foreign_key %}
    {% set _ = fks.append((table, c)) %}
    {% endfor %}
    {% endfor %}
    with declared_fks (table_name, column_name, parent_table, parent_column, on_delete) as (
        values
        {% for table, c in fks %}
        (
            {{ table.name | literal }}, {{ c.target | literal }}, {{ c.ref_table | literal }},
            {{ c.ref_column | literal }}, {{ c.on_delete | literal }}
        ){{ "," if not loop.last }}
        {% endfor %}
    ),

    expected_tables as (
        select
            t.oid as expected_oid,
            t.relname as table_name,
            (
                select a.oid from pg_catalog.pg_class as a
                where a.relname = t.relname and a.relnamespace = {{ target_schema | literal }}::regnamespace
            ) as actual_oid
        from pg_catalog.pg_class as t
        where t.relnamespace = pg_my_temp_schema() and t.relname in (
            {% for table in tables %}
            {{ table.name | literal }}{{ "," if not loop.last }}
            {% endfor %}
        )
    ),

    columns_of as (
        select
            e.table_name,
            e.expected_oid = a.attrelid as expected,
            a.attname::text as column_name,
            format_type(a.atttypid, a.atttypmod) as data_type,
            a.attnotnull as not_null,
            pg_get_expr(d.adbin, d.adrelid) as default_value
        from expected_tables as e
        inner join pg_catalog.pg_attribute as a on a.attrelid in (e.expected_oid, e.actual_oid)
        left join pg_catalog.pg_attrdef as d on a.attrelid = d.adrelid and a.attnum = d.adnum
        where a.attnum > 0 and not a.attisdropped
    ),

    keys_of as (
        -- primary keys, unique constraints and unique indexes without a predicate, by their columns
        select
            e.table_name,
            e.expected_oid = i.indrelid as expected,
            (
                select string_agg(a.attname, ', ' order by k.n)
                from unnest(i.indkey) with ordinality as k (attnum, n)
                inner join pg_catalog.pg_attribute as a on a.attrelid = i.indrelid and a.attnum = k.attnum
            ) as key_columns
        from expected_tables as e
        inner join pg_catalog.pg_index as i on i.indrelid in (e.expected_oid, e.actual_oid)
        where i.indisunique and i.indpred is null
    ),

    checks_of as (
        select
            e.table_name,
            e.expected_oid = c.conrelid as expected,
            pg_get_constraintdef(c.oid) as definition
        from expected_tables as e
        inner join pg_catalog.pg_constraint as c on c.conrelid in (e.expected_oid, e.actual_oid)
        where c.contype = 'c'
    ),

    actual_fks as (
        select
            e.table_name,
            a.attname::text as column_name,
            parent.relname::text as parent_table,
            pa.attname::text as parent_column,
            case k.confdeltype
                when 'c' then 'cascade'
                when 'n' then 'set null'
                when 'a' then 'no action'
                when 'r' then 'restrict'
                when 'd' then 'set default'
            end as on_delete
        from expected_tables as e
        inner join pg_catalog.pg_constraint as k on k.conrelid = e.actual_oid and k.contype = 'f'
        inner join pg_catalog.pg_class as parent on k.confrelid = parent.oid
        inner join pg_catalog.pg_attribute as a on a.attrelid = k.conrelid and a.attnum = k.conkey[1]
        inner join pg_catalog.pg_attribute as pa on pa.attrelid = k.confrelid and pa.attnum = k.confkey[1]
    ),

    problems as (
        select format('%s is missing', e.table_name) as problem
        from expected_tables as e
        where e.actual_oid is null

        union all
        select
            case
                when a.column_name is null then format('%s.%s is missing', x.table_name, x.column_name)
                when a.data_type <> x.data_type
                    then format('%s.%s is %s, expected %s', x.table_name, x.column_name, a.data_type, x.data_type)
                when a.not_null <> x.not_null
                    then format(
                        '%s.%s is %s, expected %s', x.table_name, x.column_name,
                        case when a.not_null then 'not null' else 'nullable' end,
                        case when x.not_null then 'not null' else 'nullable' end
                    )
                when a.default_value is distinct from x.default_value
                    then format(
                        '%s.%s has default %s, expected %s', x.table_name, x.column_name,
                        coalesce(a.default_value, 'none'), coalesce(x.default_value, 'none')
                    )
            end
        from columns_of as x
        left join columns_of as a
            on a.table_name = x.table_name and a.column_name = x.column_name and not a.expected
        where x.expected

        union all
        select format('%s.%s is not null without a default, and no declaration fills it', a.table_name, a.column_name)
        from columns_of as a
        where
            not a.expected and a.not_null and a.default_value is null
            and not exists (
                select 1 from columns_of as x
                where x.expected and x.table_name = a.table_name and x.column_name = a.column_name
            )

        union all
        select format('%s has no unique key on (%s)', x.table_name, x.key_columns)
        from keys_of as x
        where x.expected and not exists (
            select 1 from keys_of as a
            where not a.expected and a.table_name = x.table_name and a.key_columns = x.key_columns
        )

        union all
        select format('%s has a unique key on (%s) that the declarations do not state', a.table_name, a.key_columns)
        from keys_of as a
        where not a.expected and not exists (
            select 1 from keys_of as x
            where x.expected and x.table_name = a.table_name and x.key_columns = a.key_columns
        )

        union all
        select format('%s has no check %s', x.table_name, x.definition)
        from checks_of as x
        where x.expected and not exists (
            select 1 from checks_of as a
            where not a.expected and a.table_name = x.table_name and a.definition = x.definition
        )

        union all
        select format('%s has a check the declarations do not state: %s', a.table_name, a.definition)
        from checks_of as a
        where not a.expected and not exists (
            select 1 from checks_of as x
            where x.expected and x.table_name = a.table_name and x.definition = a.definition
        )

        union all
        select format(
            '%s.%s has no foreign key to %s (%s) on delete %s', f.table_name, f.column_name, f.parent_table,
            f.parent_column, f.on_delete
        )
        from declared_fks as f
        where not exists (
            select 1 from actual_fks as a
            where
                a.table_name = f.table_name and a.column_name = f.column_name and a.parent_table = f.parent_table
                and a.parent_column = f.parent_column and a.on_delete = f.on_delete
        )

        union all
        select format(
            '%s.%s has a foreign key to %s (%s) that the declarations do not state', a.table_name, a.column_name,
            a.parent_table, a.parent_column
        )
        from actual_fks as a
        where not exists (
            select 1 from declared_fks as f
            where
                a.table_name = f.table_name and a.column_name = f.column_name and a.parent_table = f.parent_table
                and a.parent_column = f.parent_column and a.on_delete = f.on_delete
        )
    )

    select string_agg(p.problem, '; ' order by p.problem)
    into problems
    from problems as p
    where p.problem is not null;

    if problems is not null then
        raise exception 'the target schema {{ target_schema }} does not match the declarations: %. '
        'Nothing was written; `invoke schema` creates the declared tables', problems;
    end if;
end
$$;

{% for table in tables %}
drop table pg_temp.{{ table.name | ident }};
{% endfor %}
