"""d1pg tasks. Each task parses its options and calls one function of the package.

Exit codes: 0 success, 1 a validation check failed, 2 bad usage or input, 3 database error.
"""

import subprocess
import sys
from pathlib import Path

from invoke import task

DB_HELP = "PostgreSQL URL; default DATABASE_URL, else the PG* variables, else the embedded server"


def _help_asked(c, name, value):
    """Invoke gives a positional argument the token `--help`; show the task's help instead."""
    if value in ("-h", "--help"):
        subprocess.run([sys.executable, "-m", "invoke", "--help", name], check=False)
        return True
    return False


def _settings(database_url=None, target_schema=None):
    from d1pg.config import settings

    return settings(database_url, target_schema)


@task(help={"stop": "stop the embedded server instead", "database_url": DB_HELP})
def db(c, stop=False, database_url=None):
    """Show which PostgreSQL d1pg uses and a ready psql command; --stop stops the embedded one."""
    from d1pg.report import run_guarded
    from d1pg.server import show_database

    run_guarded(lambda: show_database(_settings(database_url), stop=stop))


@task(
    iterable=["skip_table"],
    help={
        "backup": "path to the backup (.json, or gzip-compressed whatever its name)",
        "skip_table": "leave this backup table behind, recorded as skipped with its row count (repeatable)",
        "database_url": DB_HELP,
        "progress": "show a progress bar when on a terminal (--no-progress to hide it)",
    },
)
def stage(c, backup, skip_table=None, database_url=None, progress=True):
    """Stream a backup into staging.<table> (ord, doc jsonb), replacing the previous staging atomically."""
    if _help_asked(c, "stage", backup):
        return
    from d1pg.report import run_guarded
    from d1pg.stage import stage as run_stage

    run_guarded(run_stage, _settings(database_url), Path(backup), skip_tables=tuple(skip_table or ()),
                progress=None if progress else False)


@task(
    name="gen-backup",
    help={
        "users": "number of users (about 55 rows per user; 18,000 users is about 1M rows)",
        "seed": "random seed; the same seed and size give a byte-identical file",
        "out": "output path; a name ending in .gz is gzip-compressed",
        "dirty": "fraction of rows given a realistic defect (bad value, orphan, duplicate); 0 for clean",
    },
)
def gen_backup(c, users=100, seed=0, out="backup.json", dirty=0.02):
    """Write a realistic synthetic D1 backup of any size, streaming, deterministic for a seed."""
    from d1pg.generate import write_backup
    from d1pg.report import run_guarded

    run_guarded(write_backup, Path(out), users=int(users), seed=int(seed), dirty=float(dirty))


@task(help={"fix": "let sqlfluff and ruff fix what they can"})
def lint(c, fix=False):
    """Lint the SQL (sqlfluff: templates and macros) and the Python (ruff)."""
    verb = "fix" if fix else "lint"
    c.run(f"sqlfluff {verb} sql templates", pty=False)
    c.run(f"ruff check {'--fix ' if fix else ''}.", pty=False)


@task(help={"k": "only tests matching this pytest -k expression", "lint_first": "run lint before the tests"})
def test(c, k=None, lint_first=True):
    """Lint, then run the test suite against a real PostgreSQL (embedded, or DATABASE_URL / PG*)."""
    if lint_first:
        lint(c)
    c.run("python -m pytest" + (f" -k {k!r}" if k else ""), pty=False)
