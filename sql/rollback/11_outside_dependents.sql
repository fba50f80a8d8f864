-- What a drop would take along: objects outside the set to be dropped (`inside`: whole schemas as
-- (schema, null), single tables as (schema, table)) that depend on something inside it: a foreign
-- key, a view, a column default, an index, a column of its row type. While any exists, nothing is
-- dropped.
-- Contract: migration-contract.md §7 (rollback drops only what the tool created; nothing of the
-- user's goes with it). Used by `rollback --drop` (tables) and `clean` (d1pg's own schemas).
-- Requires: nothing. One row per outside object and what it depends on; none means safe to drop.
with inside_names (schema_name, table_name) as (
    values
    {% for schema_name, table_name in inside %}
        ({{ schema_name | literal }}, {{ table_name | literal }}::text){{ "," if not loop.last }}
    {% endfor %}
),

inside_namespaces as (
    select n.oid
    from pg_catalog.pg_namespace as n
    where
        n.nspname in (
            select i.schema_name
            from inside_names as i
            where i.table_name is null
        )
),

inside_relations as (
    select c.oid
    from pg_catalog.pg_class as c
    inner join pg_catalog.pg_namespace as n on c.relnamespace = n.oid
    where
        c.relnamespace in (select i.oid from inside_namespaces as i)
        or exists (
            select 1
            from inside_names as i
            where i.schema_name = n.nspname and i.table_name = c.relname
        )
),

inside_objects as (
    select
        'pg_catalog.pg_namespace'::regclass as classid,
        i.oid as objid
    from inside_namespaces as i
    union all
    select
        'pg_catalog.pg_class'::regclass as classid,
        r.oid as objid
    from inside_relations as r
    union all
    select
        'pg_catalog.pg_type'::regclass as classid,
        c.reltype as objid
    from pg_catalog.pg_class as c
    where c.oid in (select r.oid from inside_relations as r)
    union all
    select
        'pg_catalog.pg_type'::regclass as classid,
        t.oid as objid
    from pg_catalog.pg_type as t
    where t.typnamespace in (select i.oid from inside_namespaces as i)
    union all
    select
        'pg_catalog.pg_proc'::regclass as classid,
        p.oid as objid
    from pg_catalog.pg_proc as p
    where p.pronamespace in (select i.oid from inside_namespaces as i)
),

-- Every normal dependency on an inside object, with the relation that owns the dependent object
-- (the table of a constraint, default, trigger or policy; the view of a rewrite rule; the table
-- of an index), so that a table's own parts count as the table.
dependencies as (
    select
        d.classid,
        d.objid,
        d.objsubid,
        d.refclassid,
        d.refobjid,
        d.refobjsubid,
        case d.classid
            when 'pg_catalog.pg_class'::regclass then coalesce(x.indrelid, d.objid)
            when 'pg_catalog.pg_rewrite'::regclass then w.ev_class
            when 'pg_catalog.pg_attrdef'::regclass then a.adrelid
            when 'pg_catalog.pg_constraint'::regclass then nullif(k.conrelid, 0)
            when 'pg_catalog.pg_trigger'::regclass then g.tgrelid
            when 'pg_catalog.pg_policy'::regclass then p.polrelid
        end as owner_relid
    from pg_catalog.pg_depend as d
    inner join inside_objects as o on d.refclassid = o.classid and d.refobjid = o.objid
    left join pg_catalog.pg_index as x
        on d.classid = 'pg_catalog.pg_class'::regclass and d.objid = x.indexrelid
    left join pg_catalog.pg_rewrite as w
        on d.classid = 'pg_catalog.pg_rewrite'::regclass and d.objid = w.oid
    left join pg_catalog.pg_attrdef as a
        on d.classid = 'pg_catalog.pg_attrdef'::regclass and d.objid = a.oid
    left join pg_catalog.pg_constraint as k
        on d.classid = 'pg_catalog.pg_constraint'::regclass and d.objid = k.oid
    left join pg_catalog.pg_trigger as g
        on d.classid = 'pg_catalog.pg_trigger'::regclass and d.objid = g.oid
    left join pg_catalog.pg_policy as p
        on d.classid = 'pg_catalog.pg_policy'::regclass and d.objid = p.oid
    where d.deptype = 'n'
)

select distinct
    case
        when d.owner_relid is not null then concat_ws(' ', owner.type, owner.identity)
        else concat_ws(' ', part.type, part.identity)
    end as dependent,
    concat_ws(' ', part.type, part.identity) as dependent_part,
    concat_ws(' ', referenced.type, referenced.identity) as depends_on
from dependencies as d
cross join lateral pg_catalog.pg_identify_object(d.classid, d.objid, d.objsubid) as part
cross join lateral pg_catalog.pg_identify_object('pg_catalog.pg_class'::regclass, d.owner_relid, 0) as owner
cross join lateral pg_catalog.pg_identify_object(d.refclassid, d.refobjid, d.refobjsubid) as referenced
where
    not exists (
        select 1
        from inside_objects as i
        where
            (d.owner_relid is not null and i.classid = 'pg_catalog.pg_class'::regclass and i.objid = d.owner_relid)
            or (d.owner_relid is null and i.classid = d.classid and i.objid = d.objid)
    )
    and not exists (
        select 1
        from inside_names as i
        where i.table_name is null and i.schema_name = part.schema
    )
order by dependent, dependent_part, depends_on;
