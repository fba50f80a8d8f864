-- Count, per top-level key, the integers beyond ±2^53 in one staging table.
-- Contract: migration-contract.md §1 (a backup written by JavaScript may already have rounded them).
-- Requires: 12_staging_table_keys, the table's row in migration.staged_tables. Run only for tables
-- whose raw text holds a run of 16 or more digits.
update migration.staged_tables
set
    long_integers = coalesce((
        select jsonb_object_agg(counted.key, counted.n)
        from (
            select
                e.key,
                count(*) as n
            from staging.{{ table | ident }} as s
            cross join lateral jsonb_each(s.doc) as e
            where
                jsonb_typeof(e.value) = 'number'
                and abs(e.value::numeric) > 9007199254740992
            group by e.key
        ) as counted
    ), '{}'::jsonb)
where table_name = {{ table | literal }};
