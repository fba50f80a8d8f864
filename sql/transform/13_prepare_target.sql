-- Refuse to write into non-empty target tables, unless told to replace them: then empty all
-- mapped tables together, in this transaction, without CASCADE.
-- Contract: migration-contract.md §7 (replacing stops and names any table outside the mapping
-- that references a mapped table).
-- Requires: 12_check_target; macro outside_references (templates/catalog.sql).
do $$
declare
    filled text;
    blockers text;
begin
    select string_agg(t.name, ', ')
    into filled
    from (
        {% for t in target_tables %}
        select {{ t | literal }} as name
        where exists (select 1 from {{ target_schema | ident }}.{{ t | ident }})
        {{ "union all" if not loop.last }}
        {% endfor %}
    ) as t;

    if filled is null then
        return;
    end if;
    if not (select replace_target from transform_context) then
        raise exception 'target tables are not empty: %; nothing was written. Use --replace to empty them first',
        filled;
    end if;

    select string_agg(distinct format('%I.%I', r.referencing_schema, r.referencing_table), ', ')
    into blockers
    from (
        {{ outside_references(target_schema, target_tables) | indent(8) }}
    ) as r;

    if blockers is not null then
        raise exception 'cannot replace the target: tables outside the mapping reference it: %; nothing was written',
        blockers;
    end if;

    truncate table
    {% for t in target_tables %}
    {{ target_schema | ident }}.{{ t | ident }}{{ "," if not loop.last }}
    {% endfor %};
end
$$;
