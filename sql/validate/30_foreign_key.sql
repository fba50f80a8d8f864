-- Check 3: no {{ ref.table }} row references a missing parent: {{ ref.column }} -> {{ ref.parent }}.{{ ref.parent_column }}.
-- The seed's NOT EXISTS query, for one declared foreign key.
-- Contract: migration-contract.md §5 (orphans are never inserted), §8.3.
-- Requires: the target tables. Returns the offending rows; none when the check passes.
select
    c.id,
    c.{{ ref.column | ident }} as missing_value
from {{ target_schema | ident }}.{{ ref.table | ident }} as c
where
    c.{{ ref.column | ident }} is not null
    and not exists (
        select 1
        from {{ target_schema | ident }}.{{ ref.parent | ident }} as p
        where p.{{ ref.parent_column | ident }} = c.{{ ref.column | ident }}
    )
order by c.id;
