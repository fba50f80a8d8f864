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

-- Whether number text (the closed grammar, or a JSON number's text) reads as a finite double that
-- is zero only for zero: what PostgreSQL's input of double precision accepts rather than raising
-- out of range. Decided from the text, without trying the cast (an exception handler would make
-- the callers parallel unsafe and cost a subtransaction per value). Input rounds to nearest, ties
-- to even: a value overflows at 2^1024 - 2^970 (halfway from the largest double to 2^1024) and
-- above, and becomes zero at 2^-1075 (half the smallest subnormal, 2^-1074) and below. Both
-- limits have the same first digit position as the values they are compared with, so their
-- significant digits (written out below, trailing zeros dropped: 2^970 * (2^54 - 1) and
-- 5^1075, as 2^-1075 = 5^1075 * 10^-1075) compare as text in the C collation.
create or replace function migration.fits_float8(t text)
returns boolean
language plpgsql immutable strict parallel safe
as $$
declare
    part text[];
    digits text;
    exponent text;
    magnitude bigint;
begin
    -- plain text of at most 300 characters is zero or lies between 1e-299 and 1e300
    if length(t) <= 300 and strpos(t, 'e') = 0 and strpos(t, 'E') = 0 then
        return true;
    end if;
    part := regexp_match(t, '^-?([0-9]+)(?:\.([0-9]+))?(?:[eE]([-+]?)([0-9]+))?$');
    if part is null then
        return null;
    end if;
    digits := ltrim(part[1] || coalesce(part[2], ''), '0');
    if digits = '' then
        return true;
    end if;
    exponent := ltrim(coalesce(part[4], ''), '0');
    if length(exponent) > 18 then
        return false;
    end if;
    -- the power of ten of the first significant digit
    magnitude := length(part[1]) - 1 - (length(part[1] || coalesce(part[2], '')) - length(digits))
        + (case when part[3] = '-' then -1 else 1 end) * coalesce(nullif(exponent, '')::bigint, 0);
    digits := rtrim(digits, '0');
    return case
        when magnitude between -323 and 307 then true
        when magnitude = 308 then digits collate "C" < (
            '1797693134862315807937289714053034150799341327100378269361737789804449682927647509466490179775872070'
            || '9633028641669288791094655554785194040263065748867150582068190890200070838367627385484581771153176447'
            || '5730270069855571366959622842914819860834936475292719074168444365510704342711559699508093042880177904'
            || '174497792'
        )
        when magnitude = -324 then digits collate "C" > (
            '2470328229206232720882843964341106861825299013071623822127928412503377536351043759326499181808179961'
            || '8989828234772285886546332835517796989819938739800539093906315035659515570226392290858392449105184435'
            || '9318028499365361525003193704576782492193656236698636584807570015857692699037063119282795585513329278'
            || '3433840935197801553124659726357957462276646527282722005637400648549997709659947045402082816622623785'
            || '7393450736339007967761930577506740176324673600968951340535537458516661134223766678604162159680461914'
            || '4672918403005300575308490487653917113865916462395249126236538818796362393732804238910186723484976682'
            || '3508986338858792562830275599565752445550725518931369083625477918694866799496832404970582102851318545'
            || '1396213837722826145437693412532098591327667236328125'
        )
        else false
    end;
end
$$;

-- The number as a double (PostgreSQL's input is correctly rounded), then, for real, as a float4
-- (the cast rounds to nearest, ties to even: infinite at 2^128 - 2^103 and above, zero at 2^-150
-- and below). NULL when the number is not accepted or the rounding overflows or underflows, the
-- cases where the casts would raise.
create or replace function migration.to_float8(v jsonb)
returns double precision
language plpgsql immutable strict parallel safe
as $$
declare
    t text := migration.number_text(v);
begin
    if migration.fits_float8(t) then
        return t::double precision;
    end if;
    return null;
end
$$;

create or replace function migration.to_float4(v jsonb)
returns real
language plpgsql immutable strict parallel safe
as $$
declare
    d double precision := migration.to_float8(v);
begin
    if
        d = 0
        or abs(d) > 2::double precision ^ -150
        and abs(d) < 2::double precision ^ 128 - 2::double precision ^ 103
        then
        return d::real;
    end if;
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
