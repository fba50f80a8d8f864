-- Drop d1pg's own schemas: the staged backup (staging, staging_view) and all bookkeeping
-- (migration: runs, audit_log, id_map, rejects, orphans, conflicts, the conversion functions).
-- Contract: migration-contract.md §2 (staging keeps the raw data until `invoke clean`), §7
-- (rollback plan: staging and bookkeeping can be dropped behind an explicit confirmation).
-- Requires: 11_outside_dependents found nothing outside these schemas that depends on them, so
-- CASCADE here reaches only objects inside them. The target tables are not touched.
drop schema if exists staging_view cascade;

drop schema if exists staging cascade;

drop schema if exists migration cascade;
