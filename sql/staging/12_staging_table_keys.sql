-- After the load of one staging table: its primary key.
-- Contract: migration-contract.md §2 (staging: `ord` is the row's position in the backup's array).
-- Requires: 11_staging_table, the load.
alter table staging.{{ table | ident }} add primary key (ord);
