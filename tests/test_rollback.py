"""invoke rollback and invoke clean: contract §7 (rollback plan, no CASCADE, only what d1pg created)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import psycopg
import pytest

from d1pg.db import take_lock
from d1pg.errors import DatabaseError, InputError
from d1pg.mapping import target_tables
from d1pg.rollback import clean, rollback
from d1pg.schema import create_schema, ddl
from d1pg.stage import stage
from d1pg.transform import transform
from tests.conftest import ROOT, SAMPLE, write_backup

U = "0b6f8a2e-4a4b-4b8e-9b1a-0d2f3c4e5f60"


def migrate_sample(tmp_path, settings):
    copy = tmp_path / "sample.json"
    shutil.copy(SAMPLE, copy)
    create_schema(settings, quiet=True)
    stage(settings, copy, quiet=True)
    return transform(settings, quiet=True)


def filled(tmp_path, settings, execute):
    """A quicker stand-in for a migration: the target tables created by d1pg, a staged backup, and a
    user with an account and a habit written straight into the target."""
    create_schema(settings, quiet=True)
    stage(settings, write_backup(tmp_path / "b.json", {"users": [{"id": U}], "sessions": [{"id": "s"}]}), quiet=True)
    execute("insert into public.users (id, email) values (%s, 'a@example.com')", [U])
    execute("insert into public.accounts (user_id, provider, provider_account_id) values (%s, 'google', 'g1')", [U])
    execute("insert into public.habits (user_id, name) values (%s, 'Run')", [U])


@pytest.fixture
def execute(pg_url):
    """Run statements that return no rows (DDL, inserts) on the test database."""
    with psycopg.connect(pg_url, autocommit=True) as conn:
        yield lambda text, params=None: conn.execute(text, params)


def counts(query) -> dict[str, int]:
    return {t: query(f"select count(*) from public.{t}")[0][0] for t in target_tables()}  # noqa: S608


def existing(query) -> set[str]:
    return {r[0] for r in query("select table_name from information_schema.tables where table_schema = 'public'")}


def own_schemas(query) -> set[str]:
    return {r[0] for r in query("select nspname from pg_namespace"
                                " where nspname in ('staging', 'staging_view', 'migration')")}


def test_rollback_without_yes_changes_nothing(tmp_path, pg_settings, query, execute):
    filled(tmp_path, pg_settings, execute)
    before = counts(query)
    plan = rollback(pg_settings, quiet=True)
    assert plan.rows == {t: before[t] for t in reversed(target_tables())}
    assert counts(query) == before
    assert query("select count(*) from migration.runs where step = 'rollback'") == [(0,)]


def test_rollback_empties_exactly_the_mapped_tables_and_leaves_an_unrelated_table_alone(tmp_path, pg_settings,
                                                                                        query, execute):
    migrate_sample(tmp_path, pg_settings)
    execute("create table public.notes (id int primary key, body text)")
    execute("insert into public.notes values (1, 'keep me'), (2, 'me too')")
    before = counts(query)
    assert before["users"] > 0 and before["habit_logs"] > 0
    plan = rollback(pg_settings, yes=True, quiet=True)
    assert plan.empty == list(reversed(target_tables()))  # reverse dependency order, from the mapping
    assert counts(query) == {t: 0 for t in target_tables()}
    assert query("select count(*) from public.notes") == [(2,)]
    assert existing(query) >= set(target_tables())  # emptied, not dropped
    assert query("select status from migration.runs where step = 'rollback'") == [("succeeded",)]
    logged = dict(query("select table_name, (counts ->> 'rows')::bigint from migration.audit_log"
                        " where step = 'rollback' and message = 'emptied'"))
    assert logged == {f"public.{t}": n for t, n in before.items()}


def test_rollback_refuses_and_names_an_outside_table_whose_foreign_key_references_a_mapped_table(
        tmp_path, pg_settings, query, execute):
    filled(tmp_path, pg_settings, execute)
    execute("create table public.user_notes (id int primary key, user_id uuid"
          " constraint user_notes_user_fk references public.users (id))")
    execute("insert into public.user_notes select 1, id from public.users limit 1")
    before = counts(query)
    with pytest.raises(InputError, match=r"public\.user_notes \(1 row\(s\) of foreign key user_notes_user_fk "
                                         r"reference public\.users\)"):
        rollback(pg_settings, yes=True, quiet=True)
    assert counts(query) == before
    assert query("select count(*) from public.user_notes") == [(1,)]
    failed = query("select status, failure from migration.runs where step = 'rollback'")
    assert failed[0][0] == "failed" and "user_notes" in failed[0][1]
    dry = rollback(pg_settings, quiet=True)  # the dry run names it too
    assert any("user_notes" in b for b in dry.blockers)


def test_rollback_empties_by_delete_when_an_outside_table_references_but_holds_no_referencing_row(
        tmp_path, pg_settings, query, execute):
    """contract-additions §7: an outside table blocks only while a row of it references a mapped
    row; TRUNCATE would refuse the referenced tables, so they are emptied by DELETE, and the outside
    table's own rows (here one with a null key) stay."""
    filled(tmp_path, pg_settings, execute)
    execute("create table public.user_notes (id int primary key, user_id uuid references public.users (id))")
    execute("insert into public.user_notes values (1, null)")
    plan = rollback(pg_settings, yes=True, quiet=True)
    assert plan.blockers == [] and plan.referenced_from_outside
    assert set(counts(query).values()) == {0}
    assert query("select id, user_id from public.user_notes") == [(1, None)]


def test_rollback_drop_drops_only_the_tables_d1pg_recorded_as_created(tmp_path, pg_settings, query, execute):
    execute(ddl("public")[target_tables().index("users")])  # the user's own users table, made before d1pg
    execute("create table public.notes (id int primary key)")
    filled(tmp_path, pg_settings, execute)
    created = {r[0] for r in query("select table_name from migration.created_tables")}
    assert created == set(target_tables()) - {"users"}
    plan = rollback(pg_settings, yes=True, drop=True, quiet=True)
    assert set(plan.drop) == created and plan.empty == ["users"]
    assert existing(query) == {"users", "notes"}
    assert query("select count(*) from public.users") == [(0,)]
    assert query("select count(*) from migration.created_tables") == [(0,)]
    assert {r[0] for r in query("select table_name from migration.audit_log where message = 'dropped'")} == {
        f"public.{t}" for t in created}


def test_rollback_drop_refuses_and_names_a_view_on_a_created_table(tmp_path, pg_settings, query, execute):
    filled(tmp_path, pg_settings, execute)
    execute("create view public.active_users as select id, email from public.users")
    with pytest.raises(InputError, match=r"view public\.active_users"):
        rollback(pg_settings, yes=True, drop=True, quiet=True)
    assert existing(query) >= set(target_tables()) | {"active_users"}
    assert counts(query)["users"] > 0
    rollback(pg_settings, yes=True, quiet=True)  # emptying is not blocked by a view
    assert counts(query)["users"] == 0


def test_rollback_waits_for_no_one_it_fails_fast_while_another_run_holds_the_lock(tmp_path, pg_settings, query,
                                                                                  pg_url, execute):
    filled(tmp_path, pg_settings, execute)
    with psycopg.connect(pg_url) as holder:
        take_lock(holder)
        with pytest.raises(DatabaseError, match="advisory lock 'd1pg migration'"):
            rollback(pg_settings, yes=True, quiet=True)
        with pytest.raises(DatabaseError, match="advisory lock 'd1pg migration'"):
            clean(pg_settings, yes=True, quiet=True)
    assert counts(query)["users"] > 0 and own_schemas(query) == {"staging", "staging_view", "migration"}


def test_clean_without_yes_changes_nothing(tmp_path, pg_settings, query, execute):
    filled(tmp_path, pg_settings, execute)
    plan = clean(pg_settings, quiet=True)
    assert set(plan.schemas) == {"staging", "staging_view", "migration"}
    assert plan.schemas["staging"] == {"users": 1, "sessions": 1} and plan.views["staging_view"] == 2
    assert plan.schemas["migration"]["runs"] == 1
    assert len(plan.created_tables) == len(target_tables())
    assert own_schemas(query) == {"staging", "staging_view", "migration"}


def test_clean_drops_staging_and_bookkeeping_and_leaves_the_target_alone(tmp_path, pg_settings, query, execute):
    filled(tmp_path, pg_settings, execute)
    before = counts(query)
    clean(pg_settings, yes=True, quiet=True)
    assert own_schemas(query) == set()
    assert counts(query) == before
    assert clean(pg_settings, quiet=True).schemas == {}  # and again: nothing to do


def test_clean_refuses_and_names_an_outside_view_that_reads_the_bookkeeping(tmp_path, pg_settings, query, execute):
    filled(tmp_path, pg_settings, execute)
    execute("create view public.reject_summary as select reason, count(*) from migration.rejects group by reason")
    with pytest.raises(InputError, match=r"view public\.reject_summary"):
        clean(pg_settings, yes=True, quiet=True)
    assert own_schemas(query) == {"staging", "staging_view", "migration"}


def test_rollback_task_refusal_is_one_line_with_exit_code_2(tmp_path, pg_settings, pg_url, query, execute):
    filled(tmp_path, pg_settings, execute)
    execute("create table public.user_notes (user_id uuid references public.users (id))")
    execute("insert into public.user_notes select id from public.users limit 1")
    env = {**os.environ, "DATABASE_URL": pg_url}
    dry = subprocess.run([sys.executable, "-m", "invoke", "rollback"], cwd=ROOT, env=env, capture_output=True,
                         text=True)
    assert dry.returncode == 0 and "Nothing was changed; pass --yes" in dry.stdout and "user_notes" in dry.stdout
    done = subprocess.run([sys.executable, "-m", "invoke", "rollback", "--yes"], cwd=ROOT, env=env,
                          capture_output=True, text=True)
    assert done.returncode == 2
    assert done.stderr.startswith("d1pg: error: rollback stopped") and done.stderr.count("\n") == 1
    assert counts(query)["users"] > 0
