-- The foreign keys of tables outside the mapping that reference a mapped target table, with their
-- key columns. rollback counts the rows holding a key value: a table with such rows stops it (it
-- is named, nothing is emptied); one without only makes rollback empty the tables by DELETE.
-- Contract: migration-contract.md §7 with contract-additions §7 (tables outside the mapping are
-- never emptied; no CASCADE). The same check as `transform --replace`.
-- Requires: the target schema; macro outside_references (templates/catalog.sql).
select
    r.referencing_schema,
    r.referencing_table,
    r.constraint_name,
    r.referenced_table,
    r.referencing_columns
from (
    {{ outside_references(target_schema, tables) | indent(4) }}
) as r
order by r.referencing_schema, r.referencing_table, r.constraint_name;
