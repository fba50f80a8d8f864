-- The foreign keys of tables outside the mapping that reference a mapped target table. While any
-- exists, `invoke rollback` empties nothing: it names them and stops (no CASCADE).
-- Contract: migration-contract.md §7 (emptying the mapped tables together, without CASCADE; a
-- table outside the mapping that references them is named). The same check as `transform --replace`.
-- Requires: the target schema; macro outside_references (templates/catalog.sql).
select
    r.referencing_schema,
    r.referencing_table,
    r.constraint_name,
    r.referenced_table
from (
    {{ outside_references(target_schema, tables) | indent(4) }}
) as r
order by r.referencing_schema, r.referencing_table, r.constraint_name;
