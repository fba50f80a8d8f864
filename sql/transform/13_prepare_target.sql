-- Refuse to write into non-empty target tables, unless told to replace them: then empty all
-- mapped tables together, in this transaction, without CASCADE.
-- Contract: migration-contract.md §7 with contract-additions §7 (replacing stops and names each
-- table outside the mapping that holds rows referencing a mapped table, with its row count;
-- tables outside the mapping are never emptied).
-- Requires: 12_check_target; macro outside_references (templates/catalog.sql).
do $$
declare
    filled text;
    blockers text;
    referenced boolean := false;
    outside record;
    holding bigint;
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

    -- contract-additions §7: a table outside the mapping blocks only while a row of it holds a key
    -- that references a mapped table; otherwise the mapped tables are emptied without touching it.
    for outside in
        {{ outside_references(target_schema, target_tables) | indent(8) }}
    loop
        referenced := true;
        execute format(
            'select count(*) from %I.%I where (%s) is not null',
            outside.referencing_schema,
            outside.referencing_table,
            (select string_agg(quote_ident(c), ', ') from unnest(outside.referencing_columns) as c)
        ) into holding;
        if holding > 0 then
            blockers := concat_ws(
                ', ', blockers, format('%I.%I (%s rows)', outside.referencing_schema, outside.referencing_table, holding)
            );
        end if;
    end loop;

    if blockers is not null then
        raise exception 'cannot replace the target: rows of tables outside the mapping reference it: %; '
        'nothing was written (d1pg empties no table outside the mapping)', blockers;
    end if;

    if referenced then
        -- TRUNCATE refuses tables an outside table references, even an empty one: DELETE, children first.
        {% for t in target_tables | reverse %}
        delete from {{ target_schema | ident }}.{{ t | ident }};
        {% endfor %}
    else
        truncate table
        {% for t in target_tables %}
        {{ target_schema | ident }}.{{ t | ident }}{{ "," if not loop.last }}
        {% endfor %};
    end if;
end
$$;
