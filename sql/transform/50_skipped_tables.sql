-- Every staged table no mapping reads is counted as skipped, with its code: DEC-001=A tables,
-- the old schema's metadata, tables skipped by name at stage, and unmapped tables the user accepted.
-- Contract: migration-contract.md §6 (skipped: sessions and verification_tokens DEC-001=A,
-- db_metadata, unmapped_accepted); contract-additions §6 (the declared codes, `_cf_*` by prefix).
-- Requires: 11_check_backup (unmapped tables reach this step only when accepted).
insert into migration.table_outcomes (run_id, source_table, staged, skipped, skip_reason)
select
    ctx.run_id,
    t.table_name as source_table,
    t.staged_rows as staged,
    t.staged_rows as skipped,
    case
        when t.skipped_reason is not null then t.skipped_reason
        {% for skip in skipped_sources.values() %}
        {% if skip.prefix is not none %}
        when starts_with(t.table_name, {{ skip.prefix | literal }}) then {{ skip.code | literal }}
        {% else %}
        when t.table_name = {{ skip.name | literal }} then {{ skip.code | literal }}
        {% endif %}
        {% endfor %}
        else 'unmapped_accepted'
    end as skip_reason
from migration.staged_tables as t
cross join transform_context as ctx
where t.table_name not in (
    {% for name in mapped_sources %}
    {{ name | literal }}{{ "," if not loop.last }}
    {% endfor %}
) or t.skipped_reason is not null;
