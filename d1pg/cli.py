"""The d1pg command: every task, once. Each task parses its options and calls one function of the package.

The top layer: nothing in the package imports this module. It serves both ways of running the tasks:
the ``d1pg`` console script (and ``python -m d1pg``), an invoke ``Program`` with these tasks as its
namespace, usable from any directory once installed; and ``python3 -m invoke TASK`` in a checkout,
whose top-level ``tasks.py`` re-exports :data:`namespace`. Paths the tasks use (``.d1pg/``,
``reports/``, default outputs) are relative to the current directory.

Exit codes: 0 success, 1 a validation check failed, 2 bad usage or input, 3 database error.
"""

import sys
from pathlib import Path

from invoke import Collection, Program, task

from d1pg import __version__

DB_HELP = "PostgreSQL URL; default DATABASE_URL, else the PG* variables, else the embedded server"
BACKUP_HELP = ("the input: an admin backup (.json), a `wrangler d1 export` SQL dump or a SQLite database file,"
               " each also gzip-compressed; the form is detected from the first bytes")
FORMAT_HELP = "read the input as this form instead of detecting it: admin-json, sql-dump or sqlite"
BACKUP_TIME_HELP = ("the backup's instant for a SQL dump or SQLite file (ISO 8601 with offset, e.g."
                    " 2026-01-06T21:14:03Z); default the file's modification time")


def _help_asked(c, name, value):
    """Invoke gives a positional argument the token `--help`; show the task's help instead."""
    if value in ("-h", "--help"):
        shown = Program(namespace=namespace, name=program.name, version=__version__,
                        binary=program.binary if _as_command else "inv[oke]")
        shown.run([shown.binary, "--help", name], exit=False)
        return True
    return False


def _settings(database_url=None, target_schema=None):
    from d1pg.config import settings

    return settings(database_url, target_schema)


@task(help={"stop": "stop the embedded server instead", "database_url": DB_HELP})
def db(c, stop=False, database_url=None):
    """Show which PostgreSQL d1pg uses and a ready psql command; --stop stops the embedded one."""
    from d1pg.console import run_guarded
    from d1pg.server import show_database

    run_guarded(lambda: show_database(_settings(database_url), stop=stop))


@task(
    iterable=["skip_table"],
    help={
        "backup": BACKUP_HELP,
        "skip_table": "leave this backup table behind, recorded as skipped with its row count (repeatable)",
        "database_url": DB_HELP,
        "progress": "show a progress bar when on a terminal (--no-progress to hide it)",
        "format": FORMAT_HELP,
        "backup_time": BACKUP_TIME_HELP,
    },
)
def stage(c, backup, skip_table=None, database_url=None, progress=True, format=None, backup_time=None):  # noqa: A002
    """Stream a backup into staging.<table> (ord, doc jsonb), replacing the previous staging atomically."""
    if _help_asked(c, "stage", backup):
        return
    from d1pg.console import run_guarded
    from d1pg.stage import stage as run_stage

    run_guarded(run_stage, _settings(database_url), Path(backup), skip_tables=tuple(skip_table or ()),
                progress=None if progress else False, input_format=format, backup_time=backup_time)


SCHEMA_HELP = "target schema (default public, or D1PG_TARGET_SCHEMA)"
TRANSFORM_HELP = {
    "database_url": DB_HELP,
    "target_schema": SCHEMA_HELP,
    "replace": "empty the mapped target tables first (same transaction, no CASCADE)",
    "accept_unmapped": "leave backup tables without a mapping behind (counted as skipped, unmapped_accepted)",
    "accept_missing": "go on although the backup lacks tables the mappings read (reported as absent)",
    "merge_winner": "which side wins a user_wallet/user_progress disagreement: wallet (default) or progress",
    "progress": "show a progress bar when on a terminal (--no-progress to hide it)",
}


def _options(replace, accept_unmapped, accept_missing, merge_winner):
    from d1pg.transform import Options

    return Options(replace=replace, accept_unmapped=accept_unmapped, accept_missing=accept_missing,
                   merge_winner=merge_winner)


@task(help={"database_url": DB_HELP, "target_schema": SCHEMA_HELP})
def schema(c, database_url=None, target_schema=None):
    """Create the declared target tables where missing, as the app's files define them; records which d1pg created."""
    from d1pg.console import run_guarded
    from d1pg.schema import create_schema

    run_guarded(lambda: create_schema(_settings(database_url, target_schema)))


@task(help=TRANSFORM_HELP)
def transform(c, database_url=None, target_schema=None, replace=False, accept_unmapped=False,
              accept_missing=False, merge_winner="wallet", progress=True):
    """Convert staging into the target tables in ONE transaction: casts, id map, orphans, rejects, merge."""
    from d1pg.console import run_guarded
    from d1pg.migrate import run_transform

    run_guarded(lambda: run_transform(_settings(database_url, target_schema),
                                      _options(replace, accept_unmapped, accept_missing, merge_winner),
                                      progress=None if progress else False))


@task(help={"out": "folder for the rendered SQL (default: rendered)", "database_url": DB_HELP,
            "target_schema": SCHEMA_HELP})
def render(c, out="rendered", database_url=None, target_schema=None):
    """Write the exact SQL transform and validate run, one file per step, for review or psql."""
    from d1pg.bundle import write_review_bundle
    from d1pg.console import run_guarded

    run_guarded(write_review_bundle, _settings(database_url, target_schema), Path(out))


FETCH_HELP = ("first download the admin backup from this URL of the app's admin backup route into BACKUP"
              " (POST; the session cookie from D1PG_ADMIN_COOKIE or --cookie-file)")
COOKIE_FILE_HELP = "a file holding the admin session cookie (name=value); default the D1PG_ADMIN_COOKIE variable"


@task(iterable=["skip_table"], help={"backup": BACKUP_HELP, "skip_table": "leave this backup table behind (repeatable)",
                                     "format": FORMAT_HELP, "backup_time": BACKUP_TIME_HELP, "fetch": FETCH_HELP,
                                     "cookie_file": COOKIE_FILE_HELP, **TRANSFORM_HELP})
def migrate(c, backup, skip_table=None, database_url=None, target_schema=None, replace=False,
            accept_unmapped=False, accept_missing=False, merge_winner="wallet", progress=True, format=None,  # noqa: A002
            backup_time=None, fetch=None, cookie_file=None):
    """The main job: create the target schema if absent, stage the backup, transform it, validate it.

    Exit code 0: migrated and every check passed; 1: a validation check failed; 2: bad usage or input;
    3: the database failed."""
    if _help_asked(c, "migrate", backup):
        return
    from d1pg.console import run_guarded
    from d1pg.migrate import migrate as run_migrate

    run_guarded(lambda: run_migrate(_settings(database_url, target_schema), Path(backup),
                                    _options(replace, accept_unmapped, accept_missing, merge_winner),
                                    skip_tables=tuple(skip_table or ()), progress=None if progress else False,
                                    input_format=format, backup_time=backup_time, fetch_url=fetch,
                                    cookie_file=cookie_file))


VALIDATE_HELP = {
    "full": "compare every migrated row's values, not a sample",
    "sample": "rows per table for the value-fidelity check (default 1000)",
    "run": "the transform run to validate (default: the newest that succeeded)",
    "database_url": DB_HELP,
    "target_schema": SCHEMA_HELP,
    "progress": "show a progress bar (on a terminal)",
}


@task(help=VALIDATE_HELP)
def validate(c, full=False, sample=1000, run=None, database_url=None, target_schema=None, progress=True):
    """Prove the last transform: accounting, counts, foreign keys, unique keys, every row's fate, value fidelity.

    Every staged row's fate (bucket, reason, column, nulled references, target row, id map entry) is
    decided again from staging and the declarations and compared with the books and the target;
    value fidelity compares a sample's values (--full: every row's).

    Exit code 0: every check passed; 1: a check found offending rows; 2: bad usage or input
    (e.g. nothing transformed yet); 3: the database failed. Results are in migration.checks and
    in the run's report (reports/<transform run id>/)."""
    from d1pg.console import run_guarded
    from d1pg.migrate import run_validate

    run_guarded(run_validate, _settings(database_url, target_schema), full=full, sample=int(sample), run_id=run,
                progress=None if progress else False)


@task(help={"run": "the transform run to report on (default: the newest that succeeded)",
            "database_url": DB_HELP, "target_schema": SCHEMA_HELP})
def report(c, run=None, database_url=None, target_schema=None):
    """Rebuild reports/<run id>/report.json and data_migration_impact.md from the database."""
    from d1pg.report import run_guarded, write_report

    run_guarded(write_report, _settings(database_url, target_schema), run)


@task(help={"url": "the app's admin backup route, e.g. https://app.example.com/api/admin/backup",
            "out": "where to write the backup (default backups/admin-backup-<UTC time>.json)",
            "cookie_file": COOKIE_FILE_HELP, "progress": "show a progress bar when on a terminal"})
def fetch(c, url, out=None, cookie_file=None, progress=True):
    """Download the app's admin backup (POST with an admin session cookie, never given on the command line)."""
    if _help_asked(c, "fetch", url):
        return
    from d1pg.console import run_guarded
    from d1pg.fetch import run_fetch

    run_guarded(run_fetch, url, out, cookie_file, None if progress else False)


@task(
    name="gen-backup",
    help={
        "users": "number of users (shape full: about 113 rows per user, 1M rows is about 8,900 users)",
        "seed": "random seed; the same seed, size and shape give a byte-identical file",
        "out": "output path; a name ending in .gz is gzip-compressed",
        "dirty": "fraction of rows given a realistic defect (bad value, orphan, duplicate); 0 for clean",
        "shape": "full (default): every table of the app's D1 schema; route: the 37 names the app's admin "
                 "backup route exports; core: only the tables of core-tables.md",
    },
)
def gen_backup(c, users=100, seed=0, out="backup.json", dirty=0.02, shape="full"):
    """Write a realistic synthetic D1 backup of any size, streaming, deterministic for a seed."""
    from d1pg.console import run_guarded
    from d1pg.generate import write_backup

    run_guarded(write_backup, Path(out), users=int(users), seed=int(seed), dirty=float(dirty), shape=shape)


def _checkout_only(name):
    """lint and test read the repository (tests/, the linters' settings beside sql/ and templates/):
    they run from the top folder of the checkout whose d1pg is running, else one line and exit 2."""
    from d1pg.console import fail
    from d1pg.render import SQL_DIR

    here = Path.cwd()
    if not (here / "tests").is_dir() or (here / "sql").resolve() != SQL_DIR:
        fail(f"{name} works only in a d1pg checkout: run `python3 -m invoke {name}` from the repository's top folder")
        raise SystemExit(2)


@task(help={"fix": "let sqlfluff and ruff fix what they can (not the rendered transform: fix its templates)"})
def lint(c, fix=False):
    """Lint the SQL with sqlfluff and the Python with ruff (checkout only).

    sqlfluff reads the staging and rollback templates as templates, and the transform, validate and DDL
    as it runs: rendered offline (every mapped table, PostgreSQL 18 and 15) into build/lint.
    Runs from the top folder of a checkout, not from an installed d1pg."""
    _checkout_only("lint")
    from d1pg.bundle import render_for_lint

    verb = "fix" if fix else "lint"
    c.run(f"sqlfluff {verb} sql/staging sql/rollback", pty=False)
    rendered = " ".join(str(p) for p in render_for_lint(Path("build/lint")))
    c.run(f"sqlfluff lint --templater raw --processes 2 {rendered}", pty=False)
    c.run("python -m pytest -q -p no:cacheprovider tests/test_layers.py", pty=False)  # layers, no import cycle
    c.run(f"ruff check {'--fix ' if fix else ''}.", pty=False)


@task(help={"k": "only tests matching this pytest -k expression", "lint_first": "run lint before the tests"})
def test(c, k=None, lint_first=True):
    """Lint, then run the test suite against a real PostgreSQL (embedded, or DATABASE_URL / PG*; checkout only).

    Runs from the top folder of a checkout, not from an installed d1pg."""
    _checkout_only("test")
    if lint_first:
        lint(c)
    c.run("python -m pytest" + (f" -k {k!r}" if k else ""), pty=False)


@task(iterable=["table"], help={"table": "profile only this staged table (repeatable; default all)",
                                "database_url": DB_HELP})
def profile(c, table=None, database_url=None):
    """Show the shapes of the staged values per table and column (timestamps, ids, 0/1, JSON text, nulls)."""
    from d1pg.console import run_guarded
    from d1pg.profile import profile as run_profile

    run_guarded(lambda: run_profile(_settings(database_url), tables=tuple(table or ())))


@task(iterable=["table"], help={
    "table": "the D1 table to draft (repeatable)",
    "all": "draft every staged table that has no declaration and is not declared skipped",
    "target": "the target table, when it is named differently (only with one --table)",
    "force": "replace a declaration file that exists (without it scaffold refuses, exit code 2)",
    "out": "the folder to write into (default: d1pg/tables, where the declarations are read from)",
    "database_url": DB_HELP,
    "target_schema": SCHEMA_HELP,
})
def scaffold(c, table=None, all=False, target=None, force=False, out=None, database_url=None,  # noqa: A002
             target_schema=None):
    """Draft d1pg/tables/<table>.toml from the staged keys and the target table's catalog; marks what to review.

    Columns match staged keys by name, then by camelCase (userId -> user_id); the kind comes from the
    target type, with a "# review:" comment where the staged values do not fit it, where a value is a
    guess and where no staged key feeds a column. Run `invoke stage` and create the target first."""
    from d1pg.console import run_guarded
    from d1pg.scaffold import scaffold as run_scaffold

    run_guarded(lambda: run_scaffold(_settings(database_url, target_schema), tables=tuple(table or ()),
                                     all_tables=all, target=target, force=force, out=Path(out) if out else None))


@task(help={"yes": "really do it; without --yes only show what would be done",
            "drop": "drop the target tables d1pg created (migration.created_tables) instead of emptying them",
            "database_url": DB_HELP, "target_schema": SCHEMA_HELP})
def rollback(c, yes=False, drop=False, database_url=None, target_schema=None):
    """Empty the mapped target tables in reverse dependency order, no CASCADE (--drop: drop those d1pg created)."""
    from d1pg.console import run_guarded
    from d1pg.rollback import rollback as run_rollback

    run_guarded(lambda: run_rollback(_settings(database_url, target_schema), yes=yes, drop=drop))


@task(help={"yes": "really drop them; without --yes only show what would be dropped", "database_url": DB_HELP})
def clean(c, yes=False, database_url=None):
    """Drop d1pg's own schemas: staging, staging_view and migration (bookkeeping and audit trail)."""
    from d1pg.console import run_guarded
    from d1pg.rollback import clean as run_clean

    run_guarded(lambda: run_clean(_settings(database_url), yes=yes))


@task(help={"runs": "how many of the last runs to list (default 10)", "database_url": DB_HELP})
def status(c, runs=10, database_url=None):
    """Show what is staged (tables, rows, unstorable, skipped, the stage run) and the last runs with their outcome."""
    from d1pg.console import run_guarded
    from d1pg.review import status as run_status

    run_guarded(lambda: run_status(_settings(database_url), runs=int(runs)))


@task(iterable=["table"], help={
    "run": "the transform run to review (default: the last that succeeded)",
    "table": "only this source table (repeatable; conflicts: target table)",
    "limit": "rows of each kind shown on screen (default 10; the CSV files hold all)",
    "csv": "also write rejects.csv, orphans.csv and conflicts.csv into this folder",
    "database_url": DB_HELP,
})
def review(c, run=None, table=None, limit=10, csv=None, database_url=None):
    """List rejects, orphans and conflicts by table and reason with raw values (secrets masked); --csv exports them."""
    from d1pg.console import run_guarded
    from d1pg.review import review as run_review

    run_guarded(lambda: run_review(_settings(database_url), run_id=run, tables=tuple(table or ()), limit=int(limit),
                                   csv_dir=Path(csv) if csv else None))


@task(
    iterable=["rows"],
    help={
        "rows": "backup size in rows across every table (repeatable; default 100000, 1000000 and 4000000)",
        "server": "'embedded' (default) or a PostgreSQL URL; the benchmark creates its own databases there",
        "pgloader": "also time pgloader on the same data (--no-pgloader to leave it out)",
        "out": "the Markdown file to write (default docs/benchmarks.md)",
        "work": "folder for the generated backups and prepared files (default .d1pg/bench)",
        "seed": "gen-backup seed (default 1)",
    },
)
def bench(c, rows=None, server="embedded", pgloader=True, out="docs/benchmarks.md", work=".d1pg/bench", seed=1):
    """Time stage, transform and validate against the staging and typed floors, pgloader and the transform of
    the core tables only; write the figures."""
    from d1pg.bench import DEFAULT_ROWS
    from d1pg.bench import bench as run_bench
    from d1pg.console import run_guarded

    sizes = tuple(int(n) for n in rows) if rows else DEFAULT_ROWS
    run_guarded(lambda: run_bench(_settings(), sizes, server=server, pgloader=pgloader, out=Path(out),
                                  work=Path(work), seed=int(seed)))



@task(iterable=["name"], help={"name": "only the mutants whose name contains this text (repeatable; default all)",
                               "progress": "show a progress bar (on a terminal)"})
def mutants(c, name=None, progress=True):
    """Break one rule at a time in a temporary copy of the checkout and run the tests that must notice
    (the catalogue: tests/mutants.toml); print caught or missed for each (checkout only).

    The tests first run once unchanged and must pass. Uses the server of DATABASE_URL / PG*, else an
    embedded one under .d1pg/mutants-pgdata. Exit code 0: every mutant caught; 1: one was missed;
    2: the catalogue does not apply (a text not found once) or its tests fail unchanged."""
    _checkout_only("mutants")
    from d1pg.console import run_guarded
    from d1pg.mutants import mutants as run_mutants

    run_guarded(run_mutants, tuple(name or ()), progress=None if progress else False)


namespace = Collection.from_module(sys.modules[__name__])
"""Every task above; the top-level ``tasks.py`` of a checkout re-exports it for ``python3 -m invoke``."""

program = Program(namespace=namespace, name="d1pg", binary="d1pg", binary_names=["d1pg"], version=__version__)
"""The ``d1pg`` command (``[project.scripts]``) and ``python -m d1pg``."""

_as_command = False


def main():
    """Entry point of the ``d1pg`` console script."""
    global _as_command
    _as_command = True
    program.run()
