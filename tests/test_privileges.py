"""Least privilege (contract §5, §7): the whole pipeline runs as a plain role that owns its database:
not a superuser, no CREATEDB, no CREATEROLE, no extension, no session_replication_role, no
disabled triggers or deferred constraints."""

from __future__ import annotations

import re
from collections.abc import Iterator

import psycopg
import pytest

from tests.conftest import ROOT, SAMPLE
from tests.reliability import owned_database, run_task

pytestmark = pytest.mark.reliability


@pytest.fixture
def owner_url() -> Iterator[str]:
    """A database owned by a plain role, and a URL that connects as that role (with its password)."""
    with owned_database() as (url, _):
        yield url


def test_the_whole_pipeline_runs_as_a_plain_role_that_owns_its_database(owner_url, tmp_path):
    with psycopg.connect(owner_url) as conn:
        rights = conn.execute("select rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls"
                              " from pg_roles where rolname = current_user").fetchone()
    assert rights == (False, False, False, False, False)

    for args in (["migrate", str(SAMPLE), "--no-progress"], ["migrate", str(SAMPLE), "--replace", "--no-progress"],
                 ["render", "--out", str(tmp_path / "rendered")], ["schema"]):
        done = run_task(*args, "--database-url", owner_url, cwd=tmp_path)
        assert done.returncode == 0, (args, done.stderr)
        assert "Traceback" not in done.stdout + done.stderr

    with psycopg.connect(owner_url) as conn:
        statuses = conn.execute("select step, status from migration.runs order by started_at").fetchall()
        assert statuses == [("stage", "succeeded"), ("transform", "succeeded"), ("validate", "succeeded")] * 2
        not_owned = conn.execute(
            "select n.nspname, c.relname from pg_class as c join pg_namespace as n on n.oid = c.relnamespace"
            " where n.nspname in ('public', 'staging', 'staging_view', 'migration')"
            " and pg_get_userbyid(c.relowner) <> current_user").fetchall()
        assert not_owned == []
        assert conn.execute("select count(*) from users").fetchone()[0] > 0
        assert conn.execute("select extname from pg_extension where extname <> 'plpgsql'").fetchall() == []


FORBIDDEN = re.compile(r"session_replication_role|disable\s+trigger|set\s+constraints|initially\s+deferred|"
                       r"create\s+extension|alter\s+system|security\s+definer|set\s+role|set\s+session\s+authorization",
                       re.IGNORECASE)
FORBIDDEN_IN_SQL = re.compile(FORBIDDEN.pattern + r"|\bdeferrable\b", re.IGNORECASE)


def test_no_code_switches_a_constraint_off_or_asks_for_special_rights():
    """Contract §5: no constraint disabled or deferred, no session_replication_role, no extension."""
    files = [p for folder in ("d1pg", "sql", "templates") for p in (ROOT / folder).rglob("*")
             if p.suffix in (".py", ".sql")]
    assert len(files) > 40
    hits = [f"{p.relative_to(ROOT)}:{n}: {line.strip()}" for p in files
            for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
            if (FORBIDDEN_IN_SQL if p.suffix == ".sql" else FORBIDDEN).search(line)]
    assert hits == []
