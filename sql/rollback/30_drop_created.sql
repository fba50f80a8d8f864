-- Drop the target tables d1pg created (recorded in migration.created_tables), in reverse
-- dependency order, without CASCADE, and forget them.
-- Contract: migration-contract.md §7 (the tool records which tables it created, so rollback drops
-- only those).
-- Requires: 11_outside_dependents found nothing; runs in rollback's one transaction.
drop table
{% for t in tables %}
    {{ target_schema | ident }}.{{ t | ident }}{{ "," if not loop.last }}
{% endfor %}
restrict;

delete from migration.created_tables
where
    table_schema = {{ target_schema | literal }}
    and table_name in (
        {% for t in tables %}
            {{ t | literal }}{{ "," if not loop.last }}
        {% endfor %}
    );
