-- The value rules added for the other tables: REAL numbers and lists of text.
-- Contract: contract-additions 4.3 (REAL -> real: a JSON number or text in the closed grammar
-- ^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$, read as the nearest double, then rounded to the nearest
-- float4; infinite, or zero for a number that is not zero: out_of_range) and 4.2 (a JSON array of
-- strings, or any other text as a comma list, -> text[]).
-- Requires: 00_functions, 01_json_function (to_jsonb_text). Core PostgreSQL only.
-- Each function returns NULL for a value it does not accept; callers tell which reason applies.

-- The number text of a JSON number, or of text in the closed grammar; NULL for anything else.
create or replace function migration.number_text(v jsonb)
returns text
language sql immutable parallel safe
return case
    when jsonb_typeof(v) = 'number' then v::text
    when
        jsonb_typeof(v) = 'string'
        and v #>> '{}' ~ '^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$'
        then v #>> '{}'
end;

-- The number as a double (PostgreSQL's input is correctly rounded), then, for real, as a float4.
-- NULL when the number is not accepted or the rounding overflows or underflows (PostgreSQL raises
-- for both; the error is caught here, once per value of these few columns). Parallel unsafe: an
-- exception handler starts a subtransaction, which a parallel query forbids, so a table with such a
-- column is converted without parallel workers.
create or replace function migration.to_float8(v jsonb)
returns double precision
language plpgsql immutable strict parallel unsafe
as $$
declare
    t text := migration.number_text(v);
begin
    return t::double precision;
exception
    when numeric_value_out_of_range then
        return null;
end
$$;

create or replace function migration.to_float4(v jsonb)
returns real
language plpgsql immutable strict parallel unsafe
as $$
declare
    t text := migration.number_text(v);
begin
    return t::double precision::real;
exception
    when numeric_value_out_of_range then
        return null;
end
$$;

-- The JSON value a list is read from: a string whose first non-blank character is '[' parsed as
-- JSON (NULL when invalid), any other non-string value as it is. As parallel safe as to_jsonb_text
-- (01_json_function): not on PostgreSQL 15, where that catches the cast's error.
create or replace function migration.list_json(v jsonb)
returns jsonb
language plpgsql immutable strict {{ "parallel safe" if server_version_num >= 160000 else "parallel unsafe" }}
as $$
begin
    if jsonb_typeof(v) = 'string' then
        return migration.to_jsonb_text(v #>> '{}');
    end if;
    return v;
end
$$;

-- Is this a string read as a comma list (not empty, not the text null, not starting with '[')?
create or replace function migration.is_comma_list(v jsonb)
returns boolean
language sql immutable parallel safe
return (
    jsonb_typeof(v) = 'string'
    and v #>> '{}' <> ''
    and btrim(v #>> '{}', E' \t\n\r') <> 'null'
    and ltrim(v #>> '{}', E' \t\n\r') not like '[%'
);

-- A list of text: NULL for null, absent, '' or the text null; a comma list split on ',', each
-- element trimmed of blanks, empty ones dropped; a JSON array whose elements are all strings, in
-- order. NULL for any other JSON value (the caller rejects it: invalid_json or check_violation).
create or replace function migration.to_text_list(v jsonb)
returns text[]
language plpgsql immutable strict {{ "parallel safe" if server_version_num >= 160000 else "parallel unsafe" }}
as $$
declare
    j jsonb;
begin
    if jsonb_typeof(v) = 'null'
        or jsonb_typeof(v) = 'string' and (v #>> '{}' = '' or btrim(v #>> '{}', E' \t\n\r') = 'null') then
        return null;
    end if;
    if migration.is_comma_list(v) then
        return array(
            select btrim(e.item, E' \t\n\r')
            from unnest(string_to_array(v #>> '{}', ',')) with ordinality as e (item, n)
            where btrim(e.item, E' \t\n\r') <> ''
            order by e.n
        );
    end if;
    j := migration.list_json(v);
    if jsonb_typeof(j) = 'array'
        and not exists (select 1 from jsonb_array_elements(j) as e (x) where jsonb_typeof(e.x) <> 'string') then
        return array(
            select e.x
            from jsonb_array_elements_text(j) with ordinality as e (x, n)
            order by e.n
        );
    end if;
    return null;
end
$$;
