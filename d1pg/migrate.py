"""The top of the steps: ``invoke migrate`` (target schema when absent, stage, transform, validate),
and transform and validate as the tasks run them, each followed by the run's report files."""

from __future__ import annotations

from pathlib import Path

from d1pg import console, report
from d1pg.config import Settings
from d1pg.db import database_url, locked_connection
from d1pg.errors import CheckFailed
from d1pg.mapping import target_tables
from d1pg.schema import create_schema, missing_tables
from d1pg.stage import stage
from d1pg.transform import Options, transform
from d1pg.validate import Validation, validate


def migrate(settings: Settings, backup: Path, options: Options, *, skip_tables: tuple[str, ...] = (),
            progress: bool | None = None, input_format: str | None = None, backup_time: str | None = None,
            fetch_url: str | None = None, cookie_file: Path | None = None) -> str:
    """With ``fetch_url``, first download the admin backup from the app into ``backup`` (:mod:`d1pg.fetch`)."""
    if fetch_url:
        from d1pg.fetch import run_fetch

        run_fetch(fetch_url, backup, cookie_file, progress)
    url = database_url(settings)
    with locked_connection(url) as conn:
        absent = missing_tables(conn, settings.target_schema, target_tables())
    if absent:
        console.say(f"target schema {settings.target_schema}: {len(absent)} table(s) absent, creating them")
        create_schema(settings)
    staged = stage(settings, backup, skip_tables=skip_tables, progress=progress, input_format=input_format,
                   backup_time=backup_time)
    # The lock is released between the steps: make sure no other run staged in between.
    run_id = run_transform(settings, options, progress=progress, staged_by=staged.run_id)
    run_validate(settings, run_id=run_id, progress=progress)
    return run_id


def run_transform(settings: Settings, options: Options | None = None, *, quiet: bool = False, **kwargs) -> str:
    """``invoke transform``: the transform, then its report files (reports/<run id>/)."""
    run_id = transform(settings, options, quiet=quiet, **kwargs)
    report.write_report(settings, run_id, quiet=quiet)
    return run_id


def run_validate(settings: Settings, *, quiet: bool = False, **kwargs) -> Validation:
    """``invoke validate``: every check, then the report files rewritten with the verdict, also when
    a check failed."""
    try:
        done = validate(settings, quiet=quiet, **kwargs)
    except CheckFailed as failed:
        report.write_report(settings, failed.transform_run, quiet=quiet)
        raise
    report.write_report(settings, done.transform_run, quiet=quiet)
    return done
