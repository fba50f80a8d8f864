-- One view per staging table in schema staging_view: `ord`, then every top-level key as a text column.
-- Contract: migration-contract.md §2 (staging is for people in psql too).
-- Requires: all staging tables loaded and listed in migration.staged_tables with their keys in order.
-- Keys come from the data, so this block quotes them itself (format %I / %L); the empty key (no
-- column can be named so), keys longer than 63 bytes (PostgreSQL would truncate them) and the names
-- ord and doc stay reachable through `doc`.
do $$
declare
    staged record;
    key_columns text;
begin
    for staged in
        select
            t.table_name,
            t.columns
        from migration.staged_tables as t
        where t.skipped_reason is null
        order by t.position
    loop
        select string_agg(format('s.doc ->> %L as %I', k.key, k.key), ', ' order by k.n)
        into key_columns
        from jsonb_array_elements_text(staged.columns) with ordinality as k (key, n)
        where octet_length(k.key) between 1 and 63 and k.key not in ('ord', 'doc');

        execute format(
            'create view staging_view.%I as select s.ord, %s s.doc from staging.%I as s',
            staged.table_name,
            coalesce(key_columns || ', ', ''),
            staged.table_name
        );
    end loop;
end
$$;
