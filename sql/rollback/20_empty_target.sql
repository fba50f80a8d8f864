-- Empty the mapped target tables that exist, listed in reverse dependency order, without CASCADE:
-- in one TRUNCATE when no table outside the mapping references them, else by DELETE, children
-- first (PostgreSQL refuses to truncate a table that an outside table references, even an empty
-- one; 10_outside_references found no row of such a table holding a key, so no row outside the
-- mapped tables is touched).
-- Contract: migration-contract.md §7 with contract-additions §7 (rollback plan: the tool can
-- empty what it wrote, behind an explicit confirmation; tables outside the mapping are never
-- emptied).
-- Requires: 10_outside_references; runs in rollback's one transaction.
{% if referenced_from_outside %}
    {% for t in tables %}
delete from {{ target_schema | ident }}.{{ t | ident }};
    {% endfor %}
{% else %}
truncate table
    {% for t in tables %}
    {{ target_schema | ident }}.{{ t | ident }}{{ "," if not loop.last }}
    {% endfor %}
restrict;
{% endif %}
