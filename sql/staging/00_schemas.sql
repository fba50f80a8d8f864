-- Create the schemas d1pg works in, if they are missing.
-- Contract: migration-contract.md §2 (stages and schemas).
-- Requires: nothing; safe to run again.
--   staging       one table per backup table, named exactly as the source table
--   staging_view  one view per staging table, top-level keys as text columns (for psql)
--   migration     bookkeeping: runs, audit_log, id_map, orphans, rejects, conflicts
create schema if not exists staging;

create schema if not exists staging_view;

create schema if not exists migration;
