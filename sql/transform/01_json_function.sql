-- migration.to_jsonb_text(text): text holding JSON as jsonb, NULL when it is not valid JSON
-- or holds what jsonb cannot store (\u0000, an unpaired surrogate escape).
-- Contract: migration-contract.md §4 (text holding JSON -> jsonb, otherwise reject invalid_json).
-- Requires: schema migration. Rendered for the server it runs on: PostgreSQL 16 and later
-- test with the IS JSON predicate and regular expressions; PostgreSQL 15 has no other way than
-- to try the cast, so there (and only for JSON columns) the function catches the cast's error.
{% if server_version_num >= 160000 %}
create or replace function migration.to_jsonb_text(t text)
returns jsonb
language plpgsql immutable strict parallel safe
as $$
begin
    if not t is json then
        return null;
    end if;
    -- the three patterns only matter where there is a \u escape; most JSON text has none
    if
        strpos(t, '\u') = 0
        or (
            t !~ '(^|[^\\])(\\\\)*\\u0000'
            and t !~ '\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F][0-9a-fA-F]{2})'
            and t !~ '(?<!\\u[dD][89abAB][0-9a-fA-F]{2})\\u[dD][c-fC-F][0-9a-fA-F]{2}'
        )
        then
        return t::jsonb;
    end if;
    return null;
end
$$;
{% else %}
-- Parallel unsafe: an exception handler starts a subtransaction, which a parallel query forbids.
create or replace function migration.to_jsonb_text(t text)
returns jsonb
language plpgsql immutable strict parallel unsafe
as $$
begin
    return t::jsonb;
exception
    when data_exception or program_limit_exceeded then
        return null;
end
$$;
{% endif %}
