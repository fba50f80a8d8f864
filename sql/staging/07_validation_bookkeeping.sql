-- Bookkeeping of validation and of values the migration changed on purpose.
-- Contract: migration-contract.md §8 (each check and its result per validate run; row fates are
-- validate's own model of every row), §9 (the report
-- lists every loss, including values changed by a value map); contract-additions §9 (derived values
-- per table, column and rule; comma lists read as lists; float4 precision loss).
-- Requires: 00_schemas.
create table if not exists migration.checks (
    run_id uuid not null,
    transform_run_id uuid not null,
    position integer not null,
    check_name text not null,
    category text not null,
    offending_rows bigint not null,
    examples jsonb not null default '[]'::jsonb,
    primary key (run_id, position),
    constraint checks_category_check check (
        category in ('accounting', 'counts', 'foreign_key', 'unique_key', 'fates', 'value_fidelity')
    )
);

-- A database whose migration.checks predates the row fates check takes its category.
do $$
begin
    if exists (
        select 1
        from pg_constraint
        where
            conname = 'checks_category_check'
            and conrelid = 'migration.checks'::regclass
            and pg_get_constraintdef(oid) not like '%fates%'
    ) then
        alter table migration.checks drop constraint checks_category_check;
        alter table migration.checks add constraint checks_category_check check (
            category in ('accounting', 'counts', 'foreign_key', 'unique_key', 'fates', 'value_fidelity')
        );
    end if;
end;
$$;

create table if not exists migration.value_changes (
    run_id uuid not null,
    source_table text not null,
    column_name text not null,
    old_value text not null,
    new_value text not null,
    rows_changed bigint not null,
    primary key (run_id, source_table, column_name, old_value)
);

-- Values made or changed by a rule rather than copied: derived values (by their rule), comma lists
-- read as lists, REAL values whose float4 differs from the source, keys found by a parent's id.
create table if not exists migration.derived_values (
    run_id uuid not null,
    source_table text not null,
    column_name text not null,
    rule text not null,
    rows_changed bigint not null,
    primary key (run_id, source_table, column_name, rule)
);
