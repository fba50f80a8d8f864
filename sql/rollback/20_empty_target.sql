-- Empty the mapped target tables that exist, all in one statement (so foreign keys among them do
-- not stand in the way), listed in reverse dependency order, without CASCADE.
-- Contract: migration-contract.md §7 (rollback plan: the tool can empty what it wrote, behind an
-- explicit confirmation; no CASCADE).
-- Requires: 10_outside_references found nothing; runs in rollback's one transaction.
truncate table
{% for t in tables %}
    {{ target_schema | ident }}.{{ t | ident }}{{ "," if not loop.last }}
{% endfor %}
restrict;
