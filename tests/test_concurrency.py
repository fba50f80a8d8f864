"""Concurrency (contract §7): only one migration step runs against a database at a time. A second
one fails fast with a message naming the advisory lock; never do both write."""

from __future__ import annotations

import psycopg
import pytest

from d1pg.config import Settings
from d1pg.errors import DatabaseError
from d1pg.schema import create_schema
from d1pg.stage import stage
from d1pg.transform import Options, transform
from tests.conftest import SAMPLE
from tests.reliability import d1pg_backends, holding, one_error_line, run_task, start_task, wait_until

pytestmark = pytest.mark.reliability


def test_two_transforms_at_once_one_proceeds_the_other_fails_fast_naming_the_lock(pg_url):
    settings = Settings(database_url=pg_url)
    create_schema(settings, quiet=True)
    stage(settings, SAMPLE, quiet=True)
    with holding(pg_url, "migration.unmapped_columns"):
        first = start_task("transform", "--database-url", pg_url, "--no-progress")
        pid = wait_until("the first transform to be in progress",
                         lambda: d1pg_backends(pg_url, waiting_on_lock=True), proc=first)[0]
        others = [run_task("transform", "--database-url", pg_url, "--no-progress"),
                  run_task("transform", "--replace", "--database-url", pg_url, "--no-progress"),
                  run_task("stage", str(SAMPLE), "--database-url", pg_url, "--no-progress"),
                  run_task("schema", "--database-url", pg_url)]
        # They all ended while the first still waits in the middle of its transaction: none waited for it.
        assert d1pg_backends(pg_url, waiting_on_lock=True) == [pid]
    out, err = first.communicate(timeout=300)
    assert first.returncode == 0, err

    for other in others:
        assert other.returncode == 3
        line = one_error_line(other.stderr, other.stdout)
        assert "another d1pg run holds the advisory lock 'd1pg migration'" in line
        assert f"held by backend pid {pid}" in line
    with psycopg.connect(pg_url) as conn:
        transforms = conn.execute("select run_id::text, status from migration.runs where step = 'transform'").fetchall()
        assert [t[1] for t in transforms] == ["succeeded"]
        written = conn.execute("select distinct run_id::text from migration.table_outcomes").fetchall()
        assert written == [(transforms[0][0],)]
        migrated = conn.execute("select migrated from migration.table_outcomes where source_table = 'users'").fetchone()
        assert conn.execute("select count(*) from users").fetchone() == migrated
        stages = conn.execute("select count(*) from migration.runs where step = 'stage'").fetchone()[0]
        assert stages == 1  # the refused stage never started a run: it could not take the lock


def test_migrate_transforms_only_the_backup_it_staged_itself(pg_url, tmp_path):
    """migrate releases the lock between its steps; if another run stages in between, migrate's
    transform stops instead of moving that other backup, and says so."""
    settings = Settings(database_url=pg_url)
    create_schema(settings, quiet=True)
    mine = stage(settings, SAMPLE, quiet=True).run_id
    stage(settings, SAMPLE, quiet=True)  # another run, between migrate's stage and its transform
    with pytest.raises(DatabaseError, match=f"staging no longer holds what this run staged \\(stage run {mine}\\)"):
        transform(settings, Options(), quiet=True, staged_by=mine)
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("select count(*) from users").fetchone() == (0,)
        assert conn.execute("select status from migration.runs where step = 'transform'").fetchall() == [("failed",)]
