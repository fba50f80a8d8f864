-- Set aside the foreign keys of the target tables for the load, as PostgreSQL's "Populating a
-- Database" advises: one join per key when 45_restore_foreign_keys adds them back is far cheaper
-- than a trigger firing for every inserted row (explain analyze of a table's insert with the keys in
-- place shows the trigger time on its own line).
-- Nothing goes unchecked meanwhile: 20_convert_source turns every row whose parent is missing into
-- an orphan before it is inserted, and adding the key back checks every row again.
-- Only keys on tables the current role owns are set aside; on any other table the key stays and
-- is checked row by row. The keys come back with their own names and definitions
-- (pg_get_constraintdef), in this same transaction: a failed transform leaves them as they were.
-- Contract: migration-contract.md §5 (no row references a missing parent), §7 (one transaction).
-- Requires: 13_prepare_target (the target tables are empty). Result: temporary table
-- set_aside_foreign_keys, read by 45_restore_foreign_keys.
create temporary table set_aside_foreign_keys on commit drop as
select
    k.oid as constraint_oid,
    k.conrelid::regclass as table_name,
    k.conname as constraint_name,
    pg_catalog.pg_get_constraintdef(k.oid) as definition
from pg_catalog.pg_constraint as k
inner join pg_catalog.pg_class as child on k.conrelid = child.oid
inner join pg_catalog.pg_namespace as n on child.relnamespace = n.oid
where
    k.contype = 'f'
    and n.nspname = {{ target_schema | literal }}
    and child.relname in (
        {% for t in target_tables %}
        {{ t | literal }}{{ "," if not loop.last }}
        {% endfor %}
    )
    and pg_catalog.pg_has_role(child.relowner, 'USAGE');

do $$
declare
    k record;
begin
    for k in select * from set_aside_foreign_keys order by constraint_oid loop
        execute format('alter table %s drop constraint %I', k.table_name, k.constraint_name);
    end loop;
end
$$;
