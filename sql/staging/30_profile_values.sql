-- Profile one staging table: for every top-level key, how many rows hold each shape of value,
-- the first row (ord) that holds it and the smallest example. Every value gets exactly one shape,
-- so per key the counts (with `absent`) add up to the table's stored rows.
-- Contract: migration-contract.md §1 (timestamps in several shapes in one column, epoch numbers,
-- readable ids beside UUIDs, 0/1 booleans, JSON held as text), §3 (canonical UUID text), §4 (the
-- closed grammar: a timestamp-shaped text that is not a real instant is `text_timestamp_rejected`).
-- Requires: staging.{{ table }}; migration.text_to_timestamptz and migration.to_jsonb_text
-- (transform/00_functions, 01_json_function). Shapes are decided by regular expressions and those
-- two functions, in this order:
--   null, boolean, object, array
--   number_/text_ 0_1 (0 or 1; text exactly "0" or "1"), epoch_s (|n| from 1e9 to below 1e11),
--       epoch_ms (from 1e11 to below 1e14), integer, decimal
--   text_empty, text_uuid, text_date, text_sqlite_timestamp, text_iso_z, text_iso_offset,
--       text_iso_no_zone, text_timestamp_rejected, text_json, text_json_invalid, text_other
with cells as (
    select
        s.ord,
        e.key as column_name,
        jsonb_typeof(e.value) as json_type,
        e.value #>> '{}' as value_text
    from staging.{{ table | ident }} as s
    cross join lateral jsonb_each(s.doc) as e
),

shaped as (
    select
        c.ord,
        c.column_name,
        c.value_text,
        case
            when c.json_type in ('null', 'boolean', 'object', 'array') then c.json_type
            when c.json_type = 'string' and c.value_text = '' then 'text_empty'
            when
                c.json_type = 'string'
                and c.value_text ~ '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$'
                then 'text_uuid'
            when c.json_type = 'string' and c.value_text ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}'
                then case
                    when migration.text_to_timestamptz(c.value_text) is null then 'text_timestamp_rejected'
                    when length(c.value_text) = 10 then 'text_date'
                    when substr(c.value_text, 11, 1) = ' ' then 'text_sqlite_timestamp'
                    when c.value_text ~ '[Zz]$' then 'text_iso_z'
                    when c.value_text ~ '[+-][0-9]{2}:[0-9]{2}$' then 'text_iso_offset'
                    else 'text_iso_no_zone'
                end
            when c.value_text ~ '^-?[0-9]+(\.[0-9]+)?$'
                then concat(
                    case when c.json_type = 'number' then 'number' else 'text' end,
                    case
                        when c.json_type = 'number' and c.value_text::numeric in (0, 1) then '_0_1'
                        when c.value_text in ('0', '1') then '_0_1'
                        when abs(c.value_text::numeric) >= 1e9 and abs(c.value_text::numeric) < 1e11 then '_epoch_s'
                        when abs(c.value_text::numeric) >= 1e11 and abs(c.value_text::numeric) < 1e14 then '_epoch_ms'
                        when c.value_text ~ '^-?[0-9]+$' then '_integer'
                        else '_decimal'
                    end
                )
            when c.json_type = 'number' then 'number_decimal'
            when c.value_text ~ '^\s*[\[{]'
                then case
                    when migration.to_jsonb_text(c.value_text) is null then 'text_json_invalid'
                    else 'text_json'
                end
            else 'text_other'
        end as shape
    from cells as c
),

stored as (
    select count(*) as n
    from staging.{{ table | ident }} as s
    where s.doc is not null
)

select
    p.column_name,
    p.shape,
    count(*) as n,
    min(p.ord) as first_ord,
    min(left(p.value_text, 200) collate "C") as example
from shaped as p
group by p.column_name, p.shape
union all
select
    p.column_name,
    'absent' as shape,
    min(st.n) - count(*) as n,
    null as first_ord,
    null as example
from shaped as p
cross join stored as st
group by p.column_name
having min(st.n) - count(*) > 0
order by column_name, shape;
