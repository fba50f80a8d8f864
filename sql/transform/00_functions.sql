-- The value grammar of the migration as SQL functions in schema migration: ids and name-based
-- UUIDs, JavaScript number text, timestamps, dates, integers, booleans, JSON text.
-- Contract: migration-contract.md §3 (identifiers: canonical UUIDs kept, others the RFC 9562
-- name-based UUID with SHA-256, namespace 6a061f31-e1f2-448f-9265-d3177f1d5d19) and §4 (values:
-- a closed grammar, the same on every PostgreSQL version, independent of TimeZone and DateStyle).
-- Requires: schema migration. Core PostgreSQL only (sha256() is core since 11), no extension.
-- Each function returns NULL for a value it does not accept; callers tell "absent" from "invalid".
-- Functions that need intermediate values are PL/pgSQL: a SQL function whose body holds a
-- sub-select is never inlined and runs through the executor on every call (measured: 35 us a
-- timestamp, against about 4 us as PL/pgSQL), and the transform calls them for every value.
-- The one-expression functions (is_uuid_text, scalar_text, to_id, to_timestamptz, to_date,
-- to_integer, to_boolean) are not STRICT, so that PostgreSQL inlines them (it does not inline a
-- STRICT function whose body it cannot prove strict); each returns NULL for NULL all the same.
-- An inlined function may only call immutable functions: a stable one (a text to timestamp cast,
-- timestamptz - interval) silently stops the inlining.
-- Only regular expressions and arithmetic decide validity: PostgreSQL's own input functions accept
-- forms the contract rejects ('now', 'infinity', '{...}' UUIDs, '0x10').

-- The LIKE fixes the length and the hyphens; the regular expression then needs no counted
-- repetition. PostgreSQL builds a regular expression's DFA states afresh on every call, and
-- '[0-9a-fA-F]{8}-...' visits a new state at every character (measured: 5.3 us a value, this 1.2 us).
create or replace function migration.is_uuid_text(t text)
returns boolean
language sql immutable parallel safe
return t like '________-____-____-____-____________'
and t ~ '^[0-9a-fA-F]+-[0-9a-fA-F]+-[0-9a-fA-F]+-[0-9a-fA-F]+-[0-9a-fA-F]+$';

-- The name-based UUID of RFC 9562 Appendix B.2: the first 16 bytes of
-- sha256(namespace bytes || UTF-8 name), version nibble 8 (byte 6), variant bits 10 (byte 8).
create or replace function migration.name_uuid(name text)
returns uuid
language plpgsql immutable strict parallel safe
as $$
declare
    b bytea := substr(sha256('\x6a061f31e1f2448f9265d3177f1d5d19'::bytea || convert_to(name, 'UTF8')), 1, 16);
begin
    return encode(
        set_byte(set_byte(b, 6, (get_byte(b, 6) & 15) | 128), 8, (get_byte(b, 8) & 63) | 128),
        'hex'
    )::uuid;
end
$$;

-- A JSON number as JavaScript's String(number) prints it (shortest round-trip digits;
-- exponent form only below 1e-6 or from 1e21). NULL beyond the range of a double.
create or replace function migration.js_number_text(n numeric)
returns text
language sql immutable strict parallel safe
set extra_float_digits = 1
return (
    select
        case
            when abs(n) > 1.7976931348623157e308 then null
            when n::float8 = 0 then '0'
            when p.m[4] is null then p.f
            when p.e >= 21 or p.e <= -7
                then
                    p.m[1] || p.m[2] || coalesce('.' || p.m[3], '')
                    || 'e' || case when p.e < 0 then '-' else '+' end || abs(p.e)::text
            when p.e >= 0
                then
                    p.m[1]
                    || rpad(p.m[2] || coalesce(p.m[3], ''), p.e + 1, '0')
                    || coalesce('.' || nullif(substr(p.m[2] || coalesce(p.m[3], ''), p.e + 2), ''), '')
            else p.m[1] || '0.' || repeat('0', -p.e - 1) || p.m[2] || coalesce(p.m[3], '')
        end
    from (
        select
            q.f,
            q.m,
            q.m[4]::int as e
        from (
            select
                n::float8::text as f,
                regexp_match(n::float8::text, '^(-?)([0-9])(?:\.([0-9]+))?e([+-][0-9]+)$') as m
        ) as q
    ) as p
);

-- Text of a scalar JSON value as the source held it: a string as is, a number as JavaScript
-- prints it; NULL for null, absent, booleans, objects and arrays.
create or replace function migration.scalar_text(v jsonb)
returns text
language sql immutable parallel safe
return case jsonb_typeof(v)
    when 'string' then v #>> '{}'
    when 'number' then migration.js_number_text(v::numeric)
end;

-- An id (§3): a canonical UUID kept (lower case), any other non-empty id the name-based UUID
-- of '<source table>:<old id>'. NULL when there is no usable id. One expression, so that it is
-- inlined into the calling query.
create or replace function migration.to_id(v jsonb, source_table text)
returns uuid
language sql immutable parallel safe
return case
    when jsonb_typeof(v) = 'string' and migration.is_uuid_text(v #>> '{}') then (v #>> '{}')::uuid
    else migration.name_uuid(source_table || ':' || nullif(migration.scalar_text(v), ''))
end;

-- Epoch seconds (|n| < 1e11) or milliseconds, rounded to whole microseconds half to even;
-- NULL outside years 0001-9999.
create or replace function migration.epoch_to_timestamptz(n numeric)
returns timestamptz
language plpgsql immutable strict parallel safe
as $$
declare
    exact numeric;
    micros numeric;
begin
    if abs(n) >= 1e20 then
        return null;
    end if;
    exact := case when abs(n) < 1e11 then n * 1000000 else n * 1000 end;
    micros := case
        when exact - floor(exact) > 0.5 then floor(exact) + 1
        when exact - floor(exact) < 0.5 then floor(exact)
        when floor(exact) % 2 = 0 then floor(exact)
        else floor(exact) + 1
    end;
    if micros between -62135596800000000 and 253402300799999999 then
        return (
            timestamp '1970-01-01 00:00:00'
            + make_interval(days => div(micros, 86400000000)::int)
            + mod(micros, 86400000000)::float8 * interval '1 microsecond'
        ) at time zone 'UTC';
    end if;
    return null;
end
$$;

-- A timestamp by the closed grammar of §4: 'YYYY-MM-DD HH:MM:SS[.f]' (UTC),
-- 'YYYY-MM-DDTHH:MM:SS[.f][Z|±HH:MM]', 'YYYY-MM-DD' (midnight UTC), or an epoch (number or
-- numeric string). Fractions of 1-6 digits; fields must form a real instant.
create or replace function migration.text_to_timestamptz(t text)
returns timestamptz
language plpgsql immutable strict parallel safe
as $$
declare
    y int;
    mo int;
    d int;
    h int := 0;
    mi int := 0;
    sec int := 0;
    frac float8 := 0;
    zone text := '';
    rest text;
    days int;
begin
    if t ~ '^-?[0-9]+(\.[0-9]+)?$' then
        return migration.epoch_to_timestamptz(t::numeric);
    end if;
    -- The grammar is checked by one match without captures: PostgreSQL's regexp_match with
    -- these nested optional groups costs about 100 us a call, this about 2 us. The fields then
    -- sit at fixed positions.
    if t !~ (
        '^[0-9]{4}-[0-9]{2}-[0-9]{2}'
        || '([ Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?([Zz]|[+-][0-9]{2}:[0-9]{2})?)?$'
    ) then
        return null;
    end if;
    y := substr(t, 1, 4)::int;
    mo := substr(t, 6, 2)::int;
    d := substr(t, 9, 2)::int;
    if length(t) > 10 then
        h := substr(t, 12, 2)::int;
        mi := substr(t, 15, 2)::int;
        sec := substr(t, 18, 2)::int;
        rest := substr(t, 20);
        if right(rest, 1) in ('Z', 'z') then
            zone := 'Z';
            rest := left(rest, -1);
        elsif length(rest) >= 6 and substr(rest, length(rest) - 5, 1) in ('+', '-') then
            zone := right(rest, 6);
            rest := left(rest, -6);
        end if;
        -- the SQLite form (one space) carries no zone
        if substr(t, 11, 1) = ' ' and zone <> '' then
            return null;
        end if;
        if rest <> '' then
            frac := ('0' || rest)::float8;
        end if;
    end if;
    days := case
        when mo in (4, 6, 9, 11) then 30
        when mo = 2 and (y % 4 = 0 and y % 100 <> 0 or y % 400 = 0) then 29
        when mo = 2 then 28
        else 31
    end;
    if y < 1 or mo not between 1 and 12 or d not between 1 and days or h > 23 or mi > 59 or sec > 59 then
        return null;
    end if;
    if length(zone) = 6 then
        if substr(zone, 2, 2)::int > 23 or substr(zone, 5, 2)::int > 59 then
            return null;
        end if;
        return make_timestamp(y, mo, d, h, mi, sec + frac) at time zone 'UTC'
            - (substr(zone, 1, 1) || '1')::int * make_interval(
                hours => substr(zone, 2, 2)::int, mins => substr(zone, 5, 2)::int
            );
    end if;
    return make_timestamp(y, mo, d, h, mi, sec + frac) at time zone 'UTC';
end
$$;

create or replace function migration.to_timestamptz(v jsonb)
returns timestamptz
language sql immutable parallel safe
return case jsonb_typeof(v)
    when 'number' then migration.epoch_to_timestamptz(v::numeric)
    when 'string' then migration.text_to_timestamptz(v #>> '{}')
end;

-- A date: 'YYYY-MM-DD' or any accepted timestamp, as its UTC date.
create or replace function migration.to_date(v jsonb)
returns date
language sql immutable parallel safe
return (migration.to_timestamptz(v) at time zone 'UTC')::date;

-- An integer: a JSON integer or a '^-?[0-9]+$' string, as numeric (range checked by the caller).
-- A JSON number is an integer when its text has no '.': jsonb prints numbers without exponents.
create or replace function migration.to_integer(v jsonb)
returns numeric
language sql immutable parallel safe
return case
    when jsonb_typeof(v) = 'number' and strpos(v::text, '.') = 0 then v::numeric
    when jsonb_typeof(v) = 'string' and v #>> '{}' ~ '^-?[0-9]+$' then (v #>> '{}')::numeric
end;

-- integer and bigint in range, NULL otherwise (the caller tells invalid_integer from out_of_range).
create or replace function migration.to_int4(v jsonb)
returns integer
language plpgsql immutable strict parallel safe
as $$
declare
    n numeric := migration.to_integer(v);
begin
    return case when n between -2147483648 and 2147483647 then n::integer end;
end
$$;

create or replace function migration.to_int8(v jsonb)
returns bigint
language plpgsql immutable strict parallel safe
as $$
declare
    n numeric := migration.to_integer(v);
begin
    return case when n between -9223372036854775808 and 9223372036854775807 then n::bigint end;
end
$$;

-- A boolean: 0, 1, "0", "1", true, false.
create or replace function migration.to_boolean(v jsonb)
returns boolean
language sql immutable parallel safe
return case
    when v in ('1'::jsonb, 'true'::jsonb, '"1"'::jsonb) then true
    when v in ('0'::jsonb, 'false'::jsonb, '"0"'::jsonb) then false
end;
