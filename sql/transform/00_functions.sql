-- The value grammar of the migration as SQL functions in schema migration: ids and name-based
-- UUIDs, JavaScript number text, timestamps, dates, integers, booleans, JSON text.
-- Contract: migration-contract.md §3 (identifiers: canonical UUIDs kept, others the RFC 9562
-- name-based UUID with SHA-256, namespace 6a061f31-e1f2-448f-9265-d3177f1d5d19) and §4 (values:
-- a closed grammar, the same on every PostgreSQL version, independent of TimeZone and DateStyle).
-- Requires: schema migration. Core PostgreSQL only (sha256() is core since 11), no extension.
-- Each function returns NULL for a value it does not accept; callers tell "absent" from "invalid".
-- Only regular expressions and arithmetic decide validity: PostgreSQL's own input functions accept
-- forms the contract rejects ('now', 'infinity', '{...}' UUIDs, '0x10').

create or replace function migration.is_uuid_text(t text)
returns boolean
language sql immutable strict parallel safe
return t ~ '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';

-- The name-based UUID of RFC 9562 Appendix B.2: the first 16 bytes of
-- sha256(namespace bytes || UTF-8 name), version nibble 8, variant bits 10.
create or replace function migration.name_uuid(name text)
returns uuid
language sql immutable strict parallel safe
return (
    select
        (
            substr(h.hex, 1, 12)
            || '8'
            || substr(h.hex, 14, 3)
            || substr('89ab', (position(substr(h.hex, 17, 1) in '0123456789abcdef') - 1) % 4 + 1, 1)
            || substr(h.hex, 18, 15)
        )::uuid
    from (
        select
            encode(
                substr(sha256('\x6a061f31e1f2448f9265d3177f1d5d19'::bytea || convert_to(name, 'UTF8')), 1, 16),
                'hex'
            ) as hex
    ) as h
);

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
language sql immutable strict parallel safe
return case jsonb_typeof(v)
    when 'string' then v #>> '{}'
    when 'number' then migration.js_number_text(v::numeric)
end;

-- An id (§3): a canonical UUID kept (lower case), any other non-empty id the name-based UUID
-- of '<source table>:<old id>'. NULL when there is no usable id.
create or replace function migration.to_id(v jsonb, source_table text)
returns uuid
language sql immutable parallel safe
return (
    select
        case
            when t.s is null or t.s = '' then null
            when migration.is_uuid_text(t.s) then lower(t.s)::uuid
            else migration.name_uuid(source_table || ':' || t.s)
        end
    from (select migration.scalar_text(v) as s) as t
);

-- Epoch seconds (|n| < 1e11) or milliseconds, rounded to whole microseconds half to even;
-- NULL outside years 0001-9999.
create or replace function migration.epoch_to_timestamptz(n numeric)
returns timestamptz
language sql immutable strict parallel safe
return (
    select
        case
            when r.micros between -62135596800000000 and 253402300799999999
                then
                    (
                        timestamp '1970-01-01 00:00:00'
                        + make_interval(days => div(r.micros, 86400000000)::int)
                        + mod(r.micros, 86400000000)::float8 * interval '1 microsecond'
                    ) at time zone 'UTC'
        end
    from (
        select
            (
                case
                    when x.exact - floor(x.exact) > 0.5 then floor(x.exact) + 1
                    when x.exact - floor(x.exact) < 0.5 then floor(x.exact)
                    when floor(x.exact) % 2 = 0 then floor(x.exact)
                    else floor(x.exact) + 1
                end
            )::numeric as micros
        from (
            select case when abs(n) < 1e11 then n * 1000000 else n * 1000 end as exact
            where abs(n) < 1e20
        ) as x
    ) as r
);

-- A timestamp by the closed grammar of §4: 'YYYY-MM-DD HH:MM:SS[.f]' (UTC),
-- 'YYYY-MM-DDTHH:MM:SS[.f][Z|±HH:MM]', 'YYYY-MM-DD' (midnight UTC), or an epoch (number or
-- numeric string). Fractions of 1-6 digits; fields must form a real instant.
create or replace function migration.text_to_timestamptz(t text)
returns timestamptz
language sql immutable strict parallel safe
return case
    when t ~ '^-?[0-9]+(\.[0-9]+)?$' then migration.epoch_to_timestamptz(t::numeric)
    else (
        select
            case
                when
                    f.y between 1 and 9999
                    and f.mo between 1 and 12
                    and f.d between 1 and case
                        when f.mo in (4, 6, 9, 11) then 30
                        when f.mo = 2 and (f.y % 4 = 0 and f.y % 100 <> 0 or f.y % 400 = 0) then 29
                        when f.mo = 2 then 28
                        else 31
                    end
                    and f.h < 24
                    and f.mi < 60
                    and f.s < 60
                    and f.zh < 24
                    and f.zm < 60
                    then
                        make_timestamp(f.y, f.mo, f.d, f.h, f.mi, f.s + f.frac) at time zone 'UTC'
                        - f.zsign * make_interval(hours => f.zh, mins => f.zm)
            end
        from (
            select
                m[1]::int as y,
                m[2]::int as mo,
                m[3]::int as d,
                coalesce(m[5]::int, 0) as h,
                coalesce(m[6]::int, 0) as mi,
                coalesce(m[7]::int, 0) as s,
                coalesce(('0.' || m[8])::float8, 0) as frac,
                case when m[10] = '-' then -1 else 1 end as zsign,
                coalesce(m[11]::int, 0) as zh,
                coalesce(m[12]::int, 0) as zm
            from
                regexp_match(
                    t,
                    '^([0-9]{4})-([0-9]{2})-([0-9]{2})'
                    || '(?:([ Tt])([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]{1,6}))?'
                    || '([Zz]|([+-])([0-9]{2}):([0-9]{2}))?)?$'
                ) as m
            -- the SQLite form (one space) carries no zone
            where m is not null and not (m[4] = ' ' and m[9] is not null)
        ) as f
    )
end;

create or replace function migration.to_timestamptz(v jsonb)
returns timestamptz
language sql immutable strict parallel safe
return case jsonb_typeof(v)
    when 'number' then migration.epoch_to_timestamptz(v::numeric)
    when 'string' then migration.text_to_timestamptz(v #>> '{}')
end;

-- A date: 'YYYY-MM-DD' or any accepted timestamp, as its UTC date.
create or replace function migration.to_date(v jsonb)
returns date
language sql immutable strict parallel safe
return (migration.to_timestamptz(v) at time zone 'UTC')::date;

-- An integer: a JSON integer or a '^-?[0-9]+$' string, as numeric (range checked by the caller).
create or replace function migration.to_integer(v jsonb)
returns numeric
language sql immutable strict parallel safe
return case
    when jsonb_typeof(v) = 'number' and v::text ~ '^-?[0-9]+$' then v::numeric
    when jsonb_typeof(v) = 'string' and v #>> '{}' ~ '^-?[0-9]+$' then (v #>> '{}')::numeric
end;

-- integer and bigint in range, NULL otherwise (the caller tells invalid_integer from out_of_range).
create or replace function migration.to_int4(v jsonb)
returns integer
language sql immutable strict parallel safe
return (
    select case when i.n between -2147483648 and 2147483647 then i.n::integer end
    from (select migration.to_integer(v) as n) as i
);

create or replace function migration.to_int8(v jsonb)
returns bigint
language sql immutable strict parallel safe
return (
    select case when i.n between -9223372036854775808 and 9223372036854775807 then i.n::bigint end
    from (select migration.to_integer(v) as n) as i
);

-- A boolean: 0, 1, "0", "1", true, false.
create or replace function migration.to_boolean(v jsonb)
returns boolean
language sql immutable strict parallel safe
return case
    when v in ('1'::jsonb, 'true'::jsonb, '"1"'::jsonb) then true
    when v in ('0'::jsonb, 'false'::jsonb, '"0"'::jsonb) then false
end;
