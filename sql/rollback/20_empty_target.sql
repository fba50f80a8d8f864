-- Empty the mapped target tables that exist, all in one statement (so foreign keys among them do
-- not stand in the way), listed in reverse dependency order, without CASCADE. Used when no table
-- outside the mapping references them (else 21_delete_target: PostgreSQL refuses to truncate a
-- table that an outside table references, even an empty one).
-- Contract: migration-contract.md §7 with contract-additions §7 (rollback plan: the tool can empty
-- what it wrote, behind an explicit confirmation; tables outside the mapping are never emptied).
-- Requires: 10_outside_references found no outside foreign key; runs in rollback's one transaction.
truncate table
{% for t in tables %}
    {{ target_schema | ident }}.{{ t | ident }}{{ "," if not loop.last }}
{% endfor %}
restrict;
