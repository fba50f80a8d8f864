-- Replace the staging area: drop the previous staging tables and views and start empty.
-- Contract: migration-contract.md §2 (staging keeps the raw data until `invoke clean`).
-- Requires: 00_schemas, 05_staged_tables. Runs inside the stage's one transaction, so a stage
-- that fails or is killed leaves the earlier staging exactly as it was.
drop schema if exists staging_view cascade;

drop schema if exists staging cascade;

create schema staging;

create schema staging_view;

delete from migration.staged_tables;
