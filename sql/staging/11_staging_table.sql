-- Create one staging table, named exactly as the backup's table.
-- Contract: migration-contract.md §2 (staging: `ord bigint`, `doc jsonb`), §4 (rows rejected at load).
-- Requires: 10_replace_staging. The loader fills it by binary COPY (ord, doc) and inserts the rows
-- rejected at load time (ord, raw_text, load_reject, load_reason):
--   ord          0-based position of the row in the backup's array
--   doc          the row as it was (null only when PostgreSQL cannot hold it as jsonb without loss)
--   raw_text     the raw JSON text of such a row
--   load_reject  why it could not be stored (detail)
--   load_reason  the reject reason: unstorable_text or duplicate_key_in_row
create table staging.{{ table | ident }} (
    ord bigint not null,
    doc jsonb,
    raw_text text,
    load_reject text,
    load_reason text
);
