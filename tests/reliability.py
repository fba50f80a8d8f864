"""Helpers for the reliability tests: scratch databases, fingerprints of everything d1pg owns, and
running tasks the way a person does (``python -m invoke ...``) or in-process through the tasks of d1pg/cli.py."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from tests.conftest import ROOT, SERVER

OWN_SCHEMAS = ("staging", "staging_view", "migration")
"""d1pg's own schemas; with the target schema, the only places it may create or drop anything."""


def server_url(dbname: str = "postgres", *, user: str | None = None, password: str | None = None) -> str:
    """A connection string to the session's server (the same one pytest-postgresql uses)."""
    return make_conninfo(host=SERVER["host"], port=SERVER["port"], dbname=dbname,
                         user=user or SERVER["user"], password=password or SERVER["password"] or "")


@contextlib.contextmanager
def scratch_database(owner: str | None = None, template: str | None = None) -> Iterator[str]:
    """A database of its own on the session's server (a copy of ``template`` when given), dropped
    afterwards; yields its URL (as the session's user). For tests that keep one database across
    several cases, or need an owner role."""
    name = f"d1pg_rel_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(server_url(), autocommit=True) as admin:
        admin.execute(sql.SQL("create database {}{}{}").format(
            sql.Identifier(name), sql.SQL(" owner {}").format(sql.Identifier(owner)) if owner else sql.SQL(""),
            sql.SQL(" template {}").format(sql.Identifier(template)) if template else sql.SQL("")))
    try:
        yield server_url(name)
    finally:
        with psycopg.connect(server_url(), autocommit=True) as admin:
            admin.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))


@contextlib.contextmanager
def owner_role() -> Iterator[tuple[str, str]]:
    """A login role with a password and no special rights, dropped afterwards: (name, password)."""
    name, password = f"d1pg_owner_{uuid.uuid4().hex[:8]}", f"pw-{uuid.uuid4().hex}"
    with psycopg.connect(server_url(), autocommit=True) as admin:
        admin.execute(sql.SQL("create role {} login password {} nosuperuser nocreatedb nocreaterole"
                              " noreplication nobypassrls").format(sql.Identifier(name), sql.Literal(password)))
    try:
        yield name, password
    finally:
        with psycopg.connect(server_url(), autocommit=True) as admin:
            admin.execute(sql.SQL("drop role if exists {}").format(sql.Identifier(name)))


@contextlib.contextmanager
def owned_database() -> Iterator[tuple[str, str]]:
    """A database owned by a plain login role with a password: (a URL connecting as that role, which
    holds the password; the password)."""
    with owner_role() as (name, password), scratch_database(owner=name) as admin_url:
        dbname = conninfo_to_dict(admin_url)["dbname"]
        yield server_url(dbname, user=name, password=password), password


def fingerprint(url: str, schemas: tuple[str, ...], *, skip: tuple[str, ...] = ()) -> dict[str, str]:
    """Every table of ``schemas`` (but the ``schema.table`` names in ``skip``) -> md5 of all its rows
    and their count. Equal fingerprints mean the same tables holding the same rows."""
    with psycopg.connect(url, autocommit=True) as conn:
        tables = [(schema, table) for schema, table in conn.execute(
            "select n.nspname, c.relname from pg_class as c join pg_namespace as n on n.oid = c.relnamespace"
            " where c.relkind in ('r', 'p', 'v') and n.nspname = any(%s) order by 1, 2", [list(schemas)]).fetchall()
            if f"{schema}.{table}" not in skip]
        if not tables:
            return {}
        each = sql.SQL(" union all ").join(sql.SQL(
            "select {}, (select md5(coalesce(string_agg(t::text, chr(10) order by t::text), '')) || ':' || count(*)"
            " from {}.{} as t)").format(sql.Literal(f"{schema}.{table}"), sql.Identifier(schema), sql.Identifier(table))
            for schema, table in tables)
        return dict(conn.execute(each).fetchall())


BOOKKEEPING_THAT_GROWS = ("migration.runs", "migration.audit_log")
"""The audit trail: every run adds to it, failed runs included (that is its point)."""


def target_fingerprint(url: str, target_schema: str = "public") -> dict[str, str]:
    return fingerprint(url, (target_schema,))


def staging_fingerprint(url: str) -> dict[str, str]:
    """Staging and everything derived from one stage or transform (all bookkeeping but the audit trail)."""
    return fingerprint(url, OWN_SCHEMAS, skip=BOOKKEEPING_THAT_GROWS)


def objects_outside(url: str, allowed: tuple[str, ...]) -> set[tuple]:
    """Schemas, relations, functions and types outside ``allowed`` schemas, and the server's roles and
    databases: what a run must neither create nor drop."""
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(
            """
            select 'schema', n.nspname, '' from pg_namespace as n
            where n.nspname <> all(%(allowed)s) and n.nspname not like 'pg\\_temp\\_%%'
                and n.nspname not like 'pg\\_toast\\_temp\\_%%'
            union all
            select 'relation', n.nspname, c.relname from pg_class as c join pg_namespace as n on n.oid = c.relnamespace
            where n.nspname <> all(%(allowed)s) and n.nspname not like 'pg\\_%%temp\\_%%'
                and n.nspname <> 'pg_toast'
            union all
            select 'function', n.nspname, p.oid::regprocedure::text from pg_proc as p
            join pg_namespace as n on n.oid = p.pronamespace
            where n.nspname <> all(%(allowed)s) and n.nspname not like 'pg\\_%%temp\\_%%'
            union all
            select 'type', n.nspname, t.typname from pg_type as t join pg_namespace as n on n.oid = t.typnamespace
            where n.nspname <> all(%(allowed)s) and n.nspname not like 'pg\\_%%temp\\_%%'
                and n.nspname <> 'pg_toast'
            union all
            select 'role', r.rolname, '' from pg_roles as r where r.rolname like 'd1pg%%'
            union all
            select 'event trigger', e.evtname, '' from pg_event_trigger as e
            union all
            select 'extension', x.extname, '' from pg_extension as x
            """, {"allowed": list(allowed)}).fetchall()
        return set(rows)


def invoke_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "invoke", "--search-root", str(ROOT), *args]


def run_task(*args: str, cwd: Path | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    """Run ``python -m invoke ARGS`` as a person would; returns the finished process (text output)."""
    return subprocess.run(invoke_command(*args), cwd=cwd or ROOT, capture_output=True, text=True,
                          timeout=timeout, env=_child_env())


def start_task(*args: str, cwd: Path | None = None) -> subprocess.Popen:
    """Start ``python -m invoke ARGS`` in the background (its own process group)."""
    return subprocess.Popen(invoke_command(*args), cwd=cwd or ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=_child_env(), start_new_session=True)


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def pause(proc: subprocess.Popen) -> None:
    """Stop the task's whole process group (SIGSTOP): it sends nothing more until :func:`resume`."""
    os.killpg(proc.pid, signal.SIGSTOP)


def resume(proc: subprocess.Popen) -> None:
    """Let a paused task go on (SIGCONT); nothing to do when it has ended."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGCONT)


def kill9(proc: subprocess.Popen) -> tuple[str, str]:
    """kill -9 the task's whole process group; return what it had printed."""
    os.killpg(proc.pid, signal.SIGKILL)
    out, err = proc.communicate(timeout=60)
    return out, err


def wait_until(what: str, predicate: Callable[[], object], *, timeout: float = 60.0, proc=None):
    """Poll ``predicate`` until it returns something truthy; fail naming ``what`` after ``timeout``
    seconds (a deadline for an event, not a speed check) or when ``proc`` ended first."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if proc is not None and proc.poll() is not None:
            out, err = proc.communicate()
            raise AssertionError(f"the task ended before {what}: exit {proc.returncode}\n{out}\n{err}")
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.05)


def d1pg_backends(url: str, *, waiting_on_lock: bool = False) -> list[int]:
    """Backend pids of d1pg's working connections (application_name ``d1pg``) in this database."""
    with psycopg.connect(url, autocommit=True) as conn:
        return [r[0] for r in conn.execute(
            "select pid from pg_stat_activity where datname = current_database() and application_name = 'd1pg'"
            " and pid <> pg_backend_pid() and (not %s or wait_event_type = 'Lock')", [waiting_on_lock]).fetchall()]


_COPYING = ("select p.pid, p.tuples_processed from pg_stat_progress_copy as p"
            " join pg_stat_activity as a on a.pid = p.pid where p.datname = current_database()"
            " and a.application_name = 'd1pg' and p.tuples_processed > 0"
            " and (not %s or a.wait_event = 'ClientRead')")
"""d1pg's backends in a COPY (pg_stat_progress_copy, PostgreSQL 14+) that has stored rows (and, with
the parameter true, waits for more from the client): pid, rows stored so far."""


def paused_mid_copy(url: str, proc: subprocess.Popen, *, timeout: float = 60.0) -> tuple[int, int]:
    """Pause the task (SIGSTOP) while its backend is in the middle of a COPY that has already stored
    rows and waits for more from the task: the COPY stays visibly in progress, half done, until the
    task is resumed or killed. Returns (backend pid, rows stored so far).

    The progress view is polled; once a COPY with rows shows up the task is paused, and if the server
    has meanwhile read the COPY's end (the task had sent it all), the task goes on and polling resumes
    until a pause lands inside one."""
    deadline = time.monotonic() + timeout
    with psycopg.connect(url, autocommit=True) as conn:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                out, err = proc.communicate()
                raise AssertionError(
                    f"the task ended before a COPY could be paused: exit {proc.returncode}\n{out}\n{err}")
            if not conn.execute(_COPYING, [False]).fetchall():
                continue
            pause(proc)
            time.sleep(0.3)  # the server reads what was already sent: still copying after it, it waits on the task
            if held := conn.execute(_COPYING, [True]).fetchall():
                return held[0]
            resume(proc)
    raise AssertionError("gave up waiting for a COPY to pause in")


@contextlib.contextmanager
def holding(url: str, table: str, mode: str = "share") -> Iterator[psycopg.Connection]:
    """Hold a table lock in an open transaction: a d1pg step that needs a conflicting lock on ``table``
    (writing to it; with ``access exclusive``, even reading it) waits there, visibly in progress (its
    transaction already holds all the work done before that point)."""
    conn = psycopg.connect(url)
    try:
        conn.execute(sql.SQL("lock table {} in {} mode").format(
            sql.SQL(".").join(sql.Identifier(p) for p in table.split(".")), sql.SQL(mode)))
        yield conn
    finally:
        with contextlib.suppress(Exception):
            conn.rollback()
        with contextlib.suppress(Exception):
            conn.close()


def one_error_line(stderr: str, stdout: str = "") -> str:
    """The single ``d1pg: error: ...`` line a failing task prints, asserting there is nothing else
    (no traceback anywhere)."""
    assert "Traceback" not in stderr + stdout, stderr + stdout
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("d1pg: error: "), stderr
    return lines[0]


def runs(url: str) -> list[tuple]:
    """migration.runs, oldest first: (run_id, step, status, failure)."""
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute("select run_id::text, step, status, failure from migration.runs"
                            " order by started_at").fetchall()


def outcomes(url: str, run_id: str) -> dict[str, tuple]:
    """table_outcomes of one transform run: source table -> (staged, migrated, merged, skipped, orphaned, rejected)."""
    with psycopg.connect(url, autocommit=True) as conn:
        return {r[0]: tuple(r[1:]) for r in conn.execute(
            "select source_table, staged, migrated, merged, skipped, orphaned, rejected"
            " from migration.table_outcomes where run_id = %s", [run_id]).fetchall()}


def assert_every_row_accounted_for(url: str, run_id: str, expected_staged: dict[str, int]) -> None:
    """Contract §6 for one transform run: per backup table, staged is the array's length and
    staged = migrated + merged + skipped + orphaned + rejected. Zero rows lost."""
    got = outcomes(url, run_id)
    assert {t: v[0] for t, v in got.items()} == expected_staged
    for table, (staged, migrated, merged, skipped, orphaned, rejected) in got.items():
        assert staged == migrated + merged + skipped + orphaned + rejected, table
