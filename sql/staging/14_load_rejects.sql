-- Log the rows of one staging table that were rejected at load time, with their raw JSON text.
-- Contract: migration-contract.md §4 (a row PostgreSQL cannot hold as jsonb is rejected with reason
-- `unstorable_text` and the load goes on; so is a row whose object names a key twice, reason
-- `duplicate_key_in_row`: jsonb would keep only the last value), §6 (it still counts as staged).
-- Requires: 12_staging_table_keys; setting d1pg.run_id (the stage run). Run only for tables
-- that have such rows.
insert into migration.rejects (
    run_id,
    source_table,
    source_ord,
    raw_value,
    reason,
    detail
)
select
    current_setting('d1pg.run_id')::uuid as run_id,
    {{ table | literal }} as source_table,
    s.ord as source_ord,
    s.raw_text as raw_value,
    s.load_reason as reason,
    s.load_reject as detail
from staging.{{ table | ident }} as s
where s.doc is null
order by s.ord;
