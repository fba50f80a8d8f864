-- Check 4: no two {{ key.table }} rows share ({{ key.columns | join(', ') }}); NULLs are distinct.
{% if key.seed_query %}
-- This is the seed's duplicate user e-mail query.
{% endif %}
-- Contract: migration-contract.md §3 (duplicate ids), §5 (unique keys), §8.4.
-- Requires: the target tables. Returns the duplicated keys; none when the check passes.
select
    {% for col in key.columns %}
    k.{{ col | ident }},
    {% endfor %}
    count(*) as rows_with_key
from {{ target_schema | ident }}.{{ key.table | ident }} as k
where
    {% for col in key.columns %}
    {{ "and " if not loop.first }}k.{{ col | ident }} is not null
    {% endfor %}
group by
    {% for col in key.columns %}
    k.{{ col | ident }}{{ "," if not loop.last }}
    {% endfor %}
having count(*) > 1
order by count(*) desc;
