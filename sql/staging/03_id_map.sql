-- migration.id_map: every non-UUID source id and the deterministic UUID it became.
-- Contract: migration-contract.md §3 (identifiers); seed plan "migration_id_map".
-- Requires: 00_schemas.
create table if not exists migration.id_map (
    table_name text not null,
    old_id text not null,
    new_id uuid not null,
    run_id uuid not null,
    primary key (table_name, old_id)
);
