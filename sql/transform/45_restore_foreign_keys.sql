-- Add back the foreign keys 14_drop_foreign_keys set aside, each with its own name and definition.
-- PostgreSQL checks every loaded row as it adds a key (one join per key); a row without its parent
-- fails the transform here, naming the key and the value, and nothing is written.
-- Contract: migration-contract.md §5 (no row references a missing parent), §7 (one transaction).
-- Requires: 14_drop_foreign_keys, and every load_source and merge step done.
do $$
declare
    k record;
begin
    for k in select * from set_aside_foreign_keys order by constraint_oid loop
        execute format('alter table %s add constraint %I %s', k.table_name, k.constraint_name, k.definition);
    end loop;
end
$$;
