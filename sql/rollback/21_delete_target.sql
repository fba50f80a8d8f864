-- Empty one mapped target table by DELETE. rollback runs it for each mapped table that exists,
-- children first (reverse dependency order), when tables outside the mapping have foreign keys to
-- them, so TRUNCATE would refuse; 10_outside_references found no row of theirs holding a key, so
-- no row outside the mapped tables is touched. No CASCADE.
-- Contract: migration-contract.md §7 with contract-additions §7 (tables outside the mapping are
-- never emptied). Requires: 10_outside_references; runs in rollback's one transaction.
delete from {{ target_schema | ident }}.{{ table | ident }};
