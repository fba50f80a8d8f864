-- Create one staging table, named exactly as the backup's table.
-- Contract: migration-contract.md §2 (staging: `ord bigint`, `doc jsonb`), §4 (unstorable rows).
-- Requires: 10_replace_staging. The loader fills it by text-format COPY:
--   ord          0-based position of the row in the backup's array
--   doc          the row as it was (null only when PostgreSQL cannot hold it as jsonb)
--   raw_text     the raw JSON text of such an unstorable row
--   load_reject  why it could not be stored
create table staging.{{ table | ident }} (
    ord bigint not null,
    doc jsonb,
    raw_text text,
    load_reject text
);
