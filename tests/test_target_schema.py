"""The target is the app's own schema (contract-additions §0): `invoke schema` builds exactly what
the app's migration files build for every declared table, a database built only from those files
takes a migration, and the check before writing names every difference."""

from __future__ import annotations

import dataclasses
import re

import psycopg
import pytest
from conftest import ROOT, SAMPLE, apply_app_schema

from d1pg import mapping
from d1pg.errors import InputError
from d1pg.migrate import migrate
from d1pg.schema import create_schema, ddl
from d1pg.stage import stage
from d1pg.transform import Options, transform

CATALOG = {
    "columns": """
        select a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull, pg_get_expr(d.adbin, d.adrelid)
        from pg_attribute as a left join pg_attrdef as d on d.adrelid = a.attrelid and d.adnum = a.attnum
        where a.attrelid = %(t)s::regclass and a.attnum > 0 and not a.attisdropped order by a.attnum""",
    "constraints": """
        select c.contype::text,
               array(select a.attname::text from unnest(c.conkey) with ordinality as k (n, i)
                     join pg_attribute as a on a.attrelid = c.conrelid and a.attnum = k.n order by k.i),
               c.confrelid::regclass::text, c.confdeltype::text, c.confupdtype::text, c.confmatchtype::text,
               array(select a.attname::text from unnest(c.confkey) with ordinality as k (n, i)
                     join pg_attribute as a on a.attrelid = c.confrelid and a.attnum = k.n order by k.i),
               case when c.contype = 'c' then pg_get_constraintdef(c.oid) end
        from pg_constraint as c where c.conrelid = %(t)s::regclass order by 1, 2, 8""",
    "indexes": """
        select array(select a.attname::text from unnest(i.indkey) with ordinality as k (n, o)
                     join pg_attribute as a on a.attrelid = i.indrelid and a.attnum = k.n order by k.o),
               i.indoption::text, i.indisunique, i.indisprimary, pg_get_expr(i.indpred, i.indrelid), am.amname
        from pg_index as i join pg_class as x on x.oid = i.indexrelid join pg_am as am on am.oid = x.relam
        where i.indrelid = %(t)s::regclass order by 1, 2, 3, 4, 5""",
}


def catalog(conn: psycopg.Connection, schema: str, tables: list[str] | None = None) -> dict:
    """Every fact PostgreSQL holds about each of ``tables``, names of constraints and indexes aside;
    by default every declared table of the app's schema (the proposed ones are not in it: they are
    compared with the spec's DDL). A parent table's name is given without its schema."""
    conn.execute("select set_config('search_path', %s, false)", [schema])
    if tables is None:
        tables = [t for t in mapping.target_tables() if not mapping.source_of_table(t).proposed]
    out = {}
    for table in tables:
        for fact, query in CATALOG.items():
            out[(table, fact)] = conn.execute(query, {"t": f"{schema}.{table}"}).fetchall()
    return out


def test_invoke_schema_builds_what_the_apps_files_build(pg_url, pg_settings):
    apply_app_schema(pg_url)
    created = create_schema(dataclasses.replace(pg_settings, target_schema="built"), quiet=True)
    assert sorted(created) == sorted(mapping.target_tables())
    with psycopg.connect(pg_url, autocommit=True) as conn:
        app, built = catalog(conn, "public"), catalog(conn, "built")
    differences = [f"{table} {fact}: app {app[(table, fact)]} != schema {built[(table, fact)]}"
                   for table, fact in app if app[(table, fact)] != built[(table, fact)]]
    assert differences == []
    assert all(columns for (_, fact), columns in app.items() if fact == "columns")


ALL_TABLES = ROOT.parent / "shared" / "spec" / "all-tables.md"
PROPOSED = "-- proposed: no such table in the app's PostgreSQL schema"


def spec_proposed_ddl() -> dict[str, str]:
    """all-tables.md's DDL of each proposed table (its ```sql blocks headed PROPOSED), by table, in
    the file's order (a parent before its children)."""
    blocks = re.findall(r"^```sql\n(.*?)^```", ALL_TABLES.read_text(encoding="utf-8"), re.S | re.M)
    return {re.search(r"^CREATE TABLE (\w+) \(", b, re.M).group(1): b for b in blocks if b.startswith(PROPOSED + "\n")}


def spec_proposed_outcomes() -> set[str]:
    """The tables all-tables.md's "Outcome of every table" marks proposed."""
    text = ALL_TABLES.read_text(encoding="utf-8")
    section = text.split("\n## Outcome of every table\n", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| \d+ \| (\w+) \| \w+ \| proposed \|", section, re.M))


def test_invoke_schema_builds_the_proposed_tables_as_all_tables_md_states_them(pg_url, pg_settings):
    spec = spec_proposed_ddl()
    proposed = [t for t in mapping.target_tables() if mapping.source_of_table(t).proposed]
    assert set(proposed) == spec_proposed_outcomes() == set(spec)
    assert len(spec) == 10
    apply_app_schema(pg_url)  # gives users, which the proposed tables reference
    with psycopg.connect(pg_url, autocommit=True) as conn:
        for text in spec.values():
            conn.execute(text.encode())
    create_schema(dataclasses.replace(pg_settings, target_schema="built"), quiet=True)
    with psycopg.connect(pg_url, autocommit=True) as conn:
        app, built = catalog(conn, "public", proposed), catalog(conn, "built", proposed)
    differences = [f"{table} {fact}: spec {app[(table, fact)]} != schema {built[(table, fact)]}"
                   for table, fact in app if app[(table, fact)] != built[(table, fact)]]
    assert differences == []
    assert all(app[(t, "columns")] for t in proposed)
    for table, text in zip(mapping.tables(), ddl("built"), strict=True):
        assert (text.splitlines()[0] == PROPOSED) == (table.name in proposed), table.name


def test_migrate_replace_into_a_database_built_only_from_the_apps_files(pg_url, pg_settings, query):
    apply_app_schema(pg_url)
    seeded = query("select (select count(*) from roles), (select count(*) from entitlements)")[0]
    seed_flow = "a0000000-0000-4000-8000-000000000001"
    assert all(seeded) and query("select count(*) from onboarding_flows where id = %s", [seed_flow]) == [(1,)]
    migrate(pg_settings, SAMPLE, Options(replace=True))
    assert query("select check_name from migration.checks where offending_rows > 0") == []
    assert query("select count(*) from migration.checks")[0][0] > 0
    assert query("select count(*) from users")[0][0] > 0
    again = query("select (select count(*) from roles), (select count(*) from entitlements)")[0]
    assert again == seeded  # tables no declaration fills are never touched
    # T14's seed flow and steps are replaced by the backup's (decision 12): D1's flow_main_v1 gets its §3 UUID
    assert query("select count(*) from onboarding_flows where id = %s", [seed_flow]) == [(0,)]
    assert query("select name from onboarding_flows where id = migration.name_uuid('onboarding_flows:flow_main_v1')"
                 ) == [("Main Onboarding",)]
    created = {r[0] for r in query("select table_name from migration.created_tables")}
    assert created == {s.table.name for s in mapping.sources() if s.proposed}  # only the proposed tables

    # A row of a table outside the mapping that references a migrated row blocks --replace.
    query("insert into sessions (user_id, token, expires_at) select id, 'tok', now() from users limit 1 returning id")
    before = query("select count(*) from users")[0][0]
    stage(pg_settings, SAMPLE, progress=False)
    with pytest.raises(InputError, match=r"sessions \(1 rows\)"):
        transform(pg_settings, Options(replace=True), progress=False, quiet=True)
    assert query("select count(*) from users")[0][0] == before
    assert query("select count(*) from sessions")[0][0] == 1


@pytest.mark.parametrize(("change", "named"), [
    ("alter table habits alter column frequency set default 'weekly'", "habits.frequency has default 'weekly'"),
    ("alter table users alter column image set not null", "users.image is not null, expected nullable"),
    ("alter table goals drop constraint goals_progress_check", "goals has no check CHECK"),
    ("alter table accounts drop constraint accounts_provider_check;"
     " alter table accounts add check (provider in ('google'))", "accounts has a check the declarations do not"),
    ("alter table points_ledger drop constraint points_ledger_skill_key_fkey;"
     " alter table points_ledger add foreign key (skill_key) references skill_definitions (key) on delete cascade",
     "points_ledger.skill_key has no foreign key to skill_definitions (key) on delete set null"),
    ("alter table user_streaks drop constraint user_streaks_user_id_streak_type_key",
     "user_streaks has no unique key on (user_id, streak_type)"),
    ("create unique index on habits (user_id, name)", "habits has a unique key on (user_id, name)"),
    ("alter table goals add column owner_note text not null", "goals.owner_note is not null without a default"),
    ("alter table user_wallet alter column total_spent type integer",
     "user_wallet.total_spent is integer, expected bigint"),
    ("drop table goal_milestones cascade", "goal_milestones is missing"),
])
def test_the_check_before_writing_names_each_difference(change, named, pg_url, pg_settings, query):
    apply_app_schema(pg_url)
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(change)
    stage(pg_settings, SAMPLE, progress=False)
    with pytest.raises(InputError, match="does not match the declarations") as err:
        transform(pg_settings, Options(replace=True), progress=False, quiet=True)
    assert named in str(err.value)
    assert query("select count(*) from users")[0][0] == 0
