-- Stop before writing anything when the backup holds tables no mapping knows, or lacks tables
-- a mapping reads, unless the user accepted it (--accept-unmapped, --accept-missing).
-- Contract: migration-contract.md §6 (unmapped tables are not silently dropped; absent source
-- tables are the likeliest silent loss: the real backup route leaves out six tables).
-- Requires: 10_prologue.
do $$
declare
    unmapped text;
    missing text;
begin
    select string_agg(format('%s (%s rows)', t.table_name, t.staged_rows), ', ' order by t.position)
    into unmapped
    from migration.staged_tables as t
    where
        t.skipped_reason is null
        and t.table_name not in (
            {% for name in mapped_sources %}
            {{ name | literal }},
            {% endfor %}
            {% for skip in skipped_sources.values() if skip.prefix is none %}
            {{ skip.name | literal }}{{ "," if not loop.last }}
            {% endfor %}
        )
        {% for skip in skipped_sources.values() if skip.prefix is not none %}
        and not starts_with(t.table_name, {{ skip.prefix | literal }})
        {% endfor %};

    select string_agg(m.name, ', ' order by m.name)
    into missing
    from unnest(array[
        {% for name in mapped_sources %}
        {{ name | literal }}{{ "," if not loop.last }}
        {% endfor %}
    ]) as m (name)
    where not exists (select 1 from migration.staged_tables as t where t.table_name = m.name);

    if unmapped is not null and not (select accept_unmapped from transform_context) then
        raise exception 'the backup holds tables without a mapping: %; nothing was written. '
        'Add their mappings, or leave them behind with --accept-unmapped', unmapped;
    end if;
    if missing is not null and not (select accept_missing from transform_context) then
        raise exception 'the backup does not hold tables that the mappings read: %; nothing was written. '
        'Take a backup that includes them, or accept their absence with --accept-missing', missing;
    end if;
end
$$;
