-- After the COPY of one staging table: its primary key, and its unstorable rows logged as rejects.
-- Contract: migration-contract.md §4 (a row PostgreSQL cannot hold as jsonb is rejected with reason
-- `unstorable_text` and its raw JSON text; the load goes on), §6 (it still counts as a staged row).
-- Requires: 11_staging_table, the COPY; setting d1pg.run_id (the stage run).
alter table staging.{{ table | ident }} add primary key (ord);

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
    'unstorable_text' as reason,
    s.load_reject as detail
from staging.{{ table | ident }} as s
where s.doc is null
order by s.ord;
